#include "decision/text_format.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace txguard {
namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian), after Howard
// Hinnant's published algorithm; valid for any int64 day count in range.
void civilFromDays(std::int64_t days, int& year, unsigned& month, unsigned& day) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_index = (5 * day_of_year + 2) / 153;
  day = day_of_year - (153 * month_index + 2) / 5 + 1;
  month = month_index < 10 ? month_index + 3 : month_index - 9;
  year = static_cast<int>(static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2));
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

}  // namespace

void appendRfc3339(std::string& out, std::int64_t timestamp_ms) {
  const std::int64_t days = floorDiv(timestamp_ms, 86'400'000);
  const std::int64_t ms_of_day = timestamp_ms - days * 86'400'000;
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civilFromDays(days, year, month, day);
  const auto hour = static_cast<unsigned>(ms_of_day / 3'600'000);
  const auto minute = static_cast<unsigned>(ms_of_day / 60'000 % 60);
  const auto second = static_cast<unsigned>(ms_of_day / 1000 % 60);
  const auto millis = static_cast<unsigned>(ms_of_day % 1000);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month,
                 day, hour, minute, second, millis);
}

std::string formatRfc3339(std::int64_t timestamp_ms) {
  std::string out;
  appendRfc3339(out, timestamp_ms);
  return out;
}

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
      ++i;
    } else if (byte < 0x20) {
      switch (byte) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", byte);
      }
      ++i;
    } else if (byte < 0x80) {
      out.push_back(static_cast<char>(byte));
      ++i;
    } else {
      // Copy a well-formed UTF-8 sequence as it is; escape a stray byte as
      // U+FFFD so one bad byte cannot make the whole line invalid JSON.
      std::size_t length = 0;
      if (byte >= 0xF0) {
        length = 4;
      } else if (byte >= 0xE0) {
        length = 3;
      } else if (byte >= 0xC2) {
        length = 2;
      }
      bool valid = length > 0 && byte < 0xF5 && i + length <= text.size();
      for (std::size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      if (valid) {
        out.append(text.substr(i, length));
        i += length;
      } else {
        out += "\\ufffd";
        ++i;
      }
    }
  }
  out.push_back('"');
}

void appendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void appendJsonNumber(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void appendCsvField(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string objectKeySegment(std::string_view id) {
  std::string segment;
  segment.reserve(id.size());
  for (char c : id) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    if (safe) {
      segment.push_back(c);
    } else {
      fmt::format_to(std::back_inserter(segment), "~{:02X}", static_cast<unsigned char>(c));
    }
  }
  if (segment.empty() || segment == "." || segment == "..") segment = "~" + segment;
  return segment;
}

}  // namespace txguard
