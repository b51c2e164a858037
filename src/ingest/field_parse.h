// Parsers for the numbers, labels and timestamps found in input rows.
// Internal to the ingest module. They allocate nothing: a parser that fails
// returns a static description of what was expected, which the reader puts
// into the reject reason with the field name and value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/pan.h"
#include "transaction/transaction.h"

namespace txguard {

// Clears every field of `transaction`, keeping its strings' capacity.
void resetTransaction(Transaction& transaction);

std::string_view trimSpaces(std::string_view text);

// Parses a decimal number (std::from_chars syntax, surrounding spaces
// allowed). Returns false on empty or trailing text. "inf" and "nan" parse,
// so callers that need a finite value check it.
bool parseDouble(std::string_view text, double& value);

bool parseInt64(std::string_view text, std::int64_t& value);

// Parses a fraud label written as a number equal to 0 or 1 ("0", "1",
// "0.0", "1.0") or as true/false. Returns nullptr on success.
const char* parseLabel(std::string_view text, Label& label);

// Writes a 3-letter ISO 4217 currency code, upper-cased, into `out`.
// Returns nullptr on success, else what was expected.
const char* parseCurrency(std::string_view text, std::string& out);

// Parses "YYYY-MM-DD HH:MM:SS" with an optional fraction of 1-6 digits
// (the ACME and Sparkov layout; 'T' may replace the space), taken as UTC.
// Returns nullptr on success, else what was expected.
const char* parseDateTimeUtc(std::string_view text, std::int64_t& epoch_ms);

// Parses an RFC 3339 timestamp: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)";
// 't' or a space may replace 'T', and 'z' may replace 'Z'. A leap second
// (:60) is rejected. The fraction keeps millisecond precision, truncated.
const char* parseRfc3339(std::string_view text, std::int64_t& epoch_ms);

// Like parseRfc3339, but the zone is optional (UTC when absent) and a bare
// date "YYYY-MM-DD" means midnight UTC: the ISO 8601 forms spreadsheets and
// databases write.
const char* parseIso8601(std::string_view text, std::int64_t& epoch_ms);

// A strptime-like timestamp pattern such as "%d/%m/%Y %H:%M:%S".
// Directives: %Y (4-digit year), %y (2-digit year, 69-99 = 19xx), %m, %d,
// %H, %M, %S (1-2 digits), %b (English month abbreviation), %f (fraction,
// 1-9 digits), %z (Z, +HH:MM or +HHMM) and %%. Other characters match
// themselves. Without %z the time is UTC.
class TimestampPattern {
 public:
  // Returns nullopt and sets `error` when the pattern has an unknown
  // directive or lacks a year, month or day.
  static std::optional<TimestampPattern> compile(std::string_view pattern, std::string& error);

  const char* parse(std::string_view text, std::int64_t& epoch_ms) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
};

// Quotes a value for a reject reason: 'value', cut at 60 bytes, with card
// numbers masked.
std::string quoteValue(std::string_view value);

// Validates a card number (11-19 digits, Luhn) and writes its account key
// and masked display into `out`. Returns nullptr or what is wrong.
const char* applyCardNumber(std::string_view pan, PanHasher& hasher, Transaction& out);

// Returns `text` with every occurrence of `value` (a card number) replaced
// by maskPan(value); values under 4 bytes are left alone.
std::string maskValueInText(std::string_view text, std::string_view value);

// Throws IngestError unless `key` is set, naming the input.
void requirePanHashKey(std::string_view key, std::string_view input_name);

}  // namespace txguard
