#include "ingest/mapped_csv.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>

#include "ingest/csv.h"
#include "ingest/readers.h"

namespace txguard {
namespace {

constexpr std::array<std::string_view, 5> kMappingKeys = {"delimiter", "timestamp_format",
                                                          "id_prefix", "currency", "columns"};

// Epoch values beyond this many milliseconds (about year 318857) are
// rejected, which keeps the conversion to std::int64_t defined.
constexpr double kMaxEpochMillis = 1e16;

std::string joinNames(const auto& names) {
  std::string list;
  for (const std::string_view name : names) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

std::string lineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? std::string() : " (line " + std::to_string(mark.line + 1) + ")";
}

std::string scalarOf(const YAML::Node& node, std::string_view key, const std::string& file) {
  if (!node.IsScalar()) {
    throw IngestError(file + ": '" + std::string(key) + "' must be a string" + lineOf(node));
  }
  return node.Scalar();
}

char parseDelimiter(const std::string& text, const std::string& file) {
  if (text == "tab" || text == "\\t") return '\t';
  if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r") {
    throw IngestError(file + ": delimiter '" + text +
                      "' must be one character other than a quote or newline, e.g. ',' ';' or "
                      "\"\\t\"");
  }
  return text[0];
}

void parseTimestampFormat(const std::string& text, const std::string& file,
                          ColumnMapping& mapping) {
  mapping.timestamp_format = text;
  if (text == "epoch_seconds") {
    mapping.timestamp_kind = TimestampKind::kEpochSeconds;
  } else if (text == "epoch_millis") {
    mapping.timestamp_kind = TimestampKind::kEpochMillis;
  } else if (text == "iso8601") {
    mapping.timestamp_kind = TimestampKind::kIso8601;
  } else if (text.find('%') != std::string::npos) {
    std::string error;
    mapping.timestamp_pattern = TimestampPattern::compile(text, error);
    if (!mapping.timestamp_pattern) throw IngestError(file + ": " + error);
    mapping.timestamp_kind = TimestampKind::kPattern;
  } else {
    throw IngestError(file + ": timestamp_format '" + text +
                      "' is not epoch_seconds, epoch_millis, iso8601 or a pattern such as "
                      "'%Y-%m-%d %H:%M:%S'");
  }
}

void parseColumns(const YAML::Node& node, const std::string& file, ColumnMapping& mapping) {
  if (!node || !node.IsMap()) {
    throw IngestError(file + ": 'columns' must be a map from field names (" +
                      joinNames(kMappedFieldNames) + ") to CSV column names");
  }
  for (const auto& entry : node) {
    const std::string field = entry.first.Scalar();
    std::size_t index = 0;
    while (index < kMappedFieldNames.size() && kMappedFieldNames[index] != field) ++index;
    if (index == kMappedFieldNames.size()) {
      throw IngestError(file + ": unknown field '" + field + "' in columns" + lineOf(entry.first) +
                        "; valid fields: " + joinNames(kMappedFieldNames));
    }
    const std::string column = scalarOf(entry.second, field, file);
    if (column.empty()) {
      throw IngestError(file + ": field '" + field + "' maps to an empty column name" +
                        lineOf(entry.second) + "; name a header column or remove the field");
    }
    mapping.columns[index] = column;
  }

  for (const MappedField required : {MappedField::kTimestamp, MappedField::kAmount}) {
    if (mapping.column(required).empty()) {
      throw IngestError(file + ": columns lacks required field '" +
                        std::string(kMappedFieldNames[static_cast<std::size_t>(required)]) + "'");
    }
  }
  const bool has_account = !mapping.column(MappedField::kAccount).empty();
  const bool has_card = !mapping.column(MappedField::kCardNumber).empty();
  if (has_account == has_card) {
    throw IngestError(file + ": columns must map exactly one of 'account' and 'card_number' (" +
                      (has_account ? "both are mapped" : "neither is mapped") + ")");
  }
}

}  // namespace

ColumnMapping loadColumnMapping(const std::filesystem::path& path) {
  const std::string file = "mapping file " + path.string();
  if (path.empty()) {
    throw IngestError("the mapped-csv format needs a mapping file; pass --mapping FILE.yaml");
  }
  if (!std::ifstream(path)) {
    throw IngestError("cannot open " + file + "; check the path and its permissions");
  }

  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& error) {
    throw IngestError(file + ": invalid YAML: " + error.what());
  }
  if (!root.IsMap()) {
    throw IngestError(file + ": expected a YAML map with the keys " + joinNames(kMappingKeys));
  }

  ColumnMapping mapping;
  bool has_timestamp_format = false;
  bool has_columns = false;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key == "delimiter") {
      mapping.delimiter = parseDelimiter(scalarOf(entry.second, key, file), file);
    } else if (key == "timestamp_format") {
      parseTimestampFormat(scalarOf(entry.second, key, file), file, mapping);
      has_timestamp_format = true;
    } else if (key == "id_prefix") {
      mapping.id_prefix = scalarOf(entry.second, key, file);
    } else if (key == "currency") {
      const std::string currency = scalarOf(entry.second, key, file);
      if (const char* problem = parseCurrency(currency, mapping.currency)) {
        throw IngestError(file + ": currency '" + currency + "': " + problem);
      }
    } else if (key == "columns") {
      parseColumns(entry.second, file, mapping);
      has_columns = true;
    } else {
      throw IngestError(file + ": unknown key '" + key + "'" + lineOf(entry.first) +
                        "; valid keys: " + joinNames(kMappingKeys));
    }
  }
  if (!has_timestamp_format) {
    throw IngestError(file +
                      ": timestamp_format is missing; set epoch_seconds, epoch_millis, iso8601 "
                      "or a pattern such as '%Y-%m-%d %H:%M:%S'");
  }
  if (!has_columns) {
    throw IngestError(file +
                      ": 'columns' is missing; map at least timestamp, amount and account "
                      "(or card_number) to CSV column names");
  }
  return mapping;
}

namespace {

class MappedCsvReader final : public CsvReader {
 public:
  MappedCsvReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options,
                  RejectSink& sink, ColumnMapping mapping)
      : CsvReader(std::move(input), options, sink, mapping.delimiter),
        mapping_(std::move(mapping)) {
    columns_.fill(kNoColumn);
    std::string missing;
    for (std::size_t i = 0; i < mapping_.columns.size(); ++i) {
      const std::string& name = mapping_.columns[i];
      if (name.empty()) continue;
      columns_[i] = findColumn(name);
      if (columns_[i] != kNoColumn) continue;
      if (!missing.empty()) missing += ", ";
      missing += "'" + name + "' (mapped to " + std::string(kMappedFieldNames[i]) + ")";
    }
    if (!missing.empty()) {
      throw IngestError(this->input().name() + ": the header lacks the columns " + missing +
                        " that " + this->options().mapping_file.string() +
                        " names; header columns: " + headerList());
    }
    if (column(MappedField::kCardNumber) != kNoColumn) {
      setCardColumn(column(MappedField::kCardNumber));
    }
  }

  InputFormat format() const override { return InputFormat::kMappedCsv; }

 protected:
  bool parseRow(Transaction& out) override {
    if (column(MappedField::kId) != kNoColumn) {
      if (!readRequiredText(column(MappedField::kId), name(MappedField::kId), out.id)) {
        return false;
      }
    } else {
      out.id.assign(mapping_.id_prefix);
      out.id.push_back('-');
      out.id.append(std::to_string(lineNumber()));
    }

    if (column(MappedField::kCardNumber) != kNoColumn) {
      if (!readCardNumber(column(MappedField::kCardNumber), name(MappedField::kCardNumber), out)) {
        return false;
      }
    } else {
      if (!readRequiredText(column(MappedField::kAccount), name(MappedField::kAccount),
                            out.account)) {
        return false;
      }
      out.account_display.assign(out.account);
    }

    if (!readTimestamp(out.timestamp_ms)) return false;
    if (!readAmount(column(MappedField::kAmount), name(MappedField::kAmount), out.amount)) {
      return false;
    }
    if (!readCurrency(out.currency)) return false;

    out.location.assign(field(column(MappedField::kLocation)));
    out.counterparty.assign(field(column(MappedField::kCounterparty)));
    out.category.assign(field(column(MappedField::kCategory)));

    return readCoordinate(MappedField::kLatitude, 90, out.latitude) &&
           readCoordinate(MappedField::kLongitude, 180, out.longitude) &&
           readCoordinate(MappedField::kHomeLatitude, 90, out.home_latitude) &&
           readCoordinate(MappedField::kHomeLongitude, 180, out.home_longitude) &&
           readNumber(MappedField::kBalanceBefore, out.balance_before) &&
           readNumber(MappedField::kBalanceAfter, out.balance_after) &&
           readNumber(MappedField::kCounterpartyBalanceBefore, out.counterparty_balance_before) &&
           readNumber(MappedField::kCounterpartyBalanceAfter, out.counterparty_balance_after) &&
           readOptionalLabel(column(MappedField::kLabel), name(MappedField::kLabel), out.label);
  }

 private:
  std::size_t column(MappedField field) const { return columns_[static_cast<std::size_t>(field)]; }
  // The CSV column name, which is what a person looks for in a reject.
  std::string_view name(MappedField field) const { return mapping_.column(field); }

  bool readNumber(MappedField field, double& out) {
    return readOptionalNumber(column(field), name(field), out);
  }

  bool readCoordinate(MappedField field, double limit, double& out) {
    return readOptionalCoordinate(column(field), name(field), limit, out);
  }

  bool readCurrency(std::string& out) {
    const std::string_view value = field(column(MappedField::kCurrency));
    if (trimSpaces(value).empty()) {
      out.assign(mapping_.currency);
      return true;
    }
    if (const char* problem = parseCurrency(value, out)) {
      return fail("bad currency in " + std::string(name(MappedField::kCurrency)) + ": " +
                  quoteValue(value) + " (" + problem + ")");
    }
    return true;
  }

  bool readTimestamp(std::int64_t& epoch_ms) {
    const std::string_view value = field(column(MappedField::kTimestamp));
    const std::string column_name(name(MappedField::kTimestamp));
    if (trimSpaces(value).empty()) return fail("missing required field " + column_name);

    const char* problem = nullptr;
    switch (mapping_.timestamp_kind) {
      case TimestampKind::kEpochSeconds:
      case TimestampKind::kEpochMillis: {
        double number = 0.0;
        if (!parseDouble(value, number)) {
          problem = "expected a number";
          break;
        }
        const double millis =
            mapping_.timestamp_kind == TimestampKind::kEpochSeconds ? number * 1000 : number;
        if (!(std::fabs(millis) < kMaxEpochMillis)) {
          problem = "out of range";
          break;
        }
        epoch_ms = std::llround(millis);
        break;
      }
      case TimestampKind::kIso8601:
        problem = parseIso8601(value, epoch_ms);
        break;
      case TimestampKind::kPattern:
        problem = mapping_.timestamp_pattern->parse(value, epoch_ms);
        break;
    }
    if (problem != nullptr) {
      return fail("bad date in " + column_name + ": " + quoteValue(value) + " (" + problem +
                  "; timestamp_format is " + mapping_.timestamp_format + ")");
    }
    return true;
  }

  ColumnMapping mapping_;
  std::array<std::size_t, static_cast<std::size_t>(MappedField::kCount)> columns_{};
};

}  // namespace

std::unique_ptr<TransactionReader> makeMappedCsvReader(std::unique_ptr<ChunkedInput> input,
                                                       const ReaderOptions& options,
                                                       RejectSink& sink) {
  ColumnMapping mapping = loadColumnMapping(options.mapping_file);
  return std::make_unique<MappedCsvReader>(std::move(input), options, sink, std::move(mapping));
}

}  // namespace txguard
