// Small formatting helpers for decisions and reports: UTC timestamps and
// JSON/CSV string escaping. Hand-written because they run once per output
// row and a general JSON library would allocate a tree per row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace txguard {

// Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC) for epoch milliseconds.
void appendRfc3339(std::string& out, std::int64_t timestamp_ms);
std::string formatRfc3339(std::int64_t timestamp_ms);

// Appends `text` as a quoted JSON string; control characters and invalid
// UTF-8 bytes are escaped so the output is always valid JSON.
void appendJsonString(std::string& out, std::string_view text);

// Appends a JSON number, or null for NaN and infinities (JSON has neither).
void appendJsonNumber(std::string& out, double value);
// The float overload prints the shortest text that reads back as the same
// float (111734.45, not the double expansion 111734.453125).
void appendJsonNumber(std::string& out, float value);

// Appends `text` as one CSV field, quoted when it contains a comma, quote
// or line break.
void appendCsvField(std::string& out, std::string_view text);

// Turns a transaction id into a safe object-key segment. Letters, digits,
// '-', '_' and '.' stay, and every other byte becomes "~XX" (hex), so
// distinct ids stay distinct.
std::string objectKeySegment(std::string_view id);

}  // namespace txguard
