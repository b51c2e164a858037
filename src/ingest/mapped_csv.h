// The column mapping of a mapped CSV input: a YAML file naming the column
// that contains each canonical field. Internal to the ingest module; the file
// layout is documented in docs/input-formats.md.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/field_parse.h"

namespace txguard {

// Canonical fields a mapping can name, in the order of kMappedFieldNames.
enum class MappedField : std::size_t {
  kId,
  kAccount,
  kCardNumber,
  kTimestamp,
  kAmount,
  kCurrency,
  kLocation,
  kLatitude,
  kLongitude,
  kHomeLatitude,
  kHomeLongitude,
  kCounterparty,
  kCategory,
  kBalanceBefore,
  kBalanceAfter,
  kCounterpartyBalanceBefore,
  kCounterpartyBalanceAfter,
  kLabel,
  kCount
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(MappedField::kCount)>
    kMappedFieldNames = {"id",
                         "account",
                         "card_number",
                         "timestamp",
                         "amount",
                         "currency",
                         "location",
                         "latitude",
                         "longitude",
                         "home_latitude",
                         "home_longitude",
                         "counterparty",
                         "category",
                         "balance_before",
                         "balance_after",
                         "counterparty_balance_before",
                         "counterparty_balance_after",
                         "label"};

enum class TimestampKind { kEpochSeconds, kEpochMillis, kIso8601, kPattern };

struct ColumnMapping {
  char delimiter = ',';
  TimestampKind timestamp_kind = TimestampKind::kIso8601;
  std::optional<TimestampPattern> timestamp_pattern;  // set for kPattern
  std::string timestamp_format;                       // as written, for messages
  std::string id_prefix = "row";  // ids are "<id_prefix>-<line>" when no id column
  std::string currency;           // used when no currency column is mapped
  // Column name per MappedField; empty when the field is not mapped.
  std::array<std::string, static_cast<std::size_t>(MappedField::kCount)> columns;

  const std::string& column(MappedField field) const {
    return columns[static_cast<std::size_t>(field)];
  }
};

// Loads and validates a mapping file. Throws IngestError naming the file
// and the problem: unreadable or invalid YAML, an unknown key or field, a
// missing required field (timestamp, amount, and account or card_number),
// a bad delimiter, timestamp_format or currency.
ColumnMapping loadColumnMapping(const std::filesystem::path& path);

}  // namespace txguard
