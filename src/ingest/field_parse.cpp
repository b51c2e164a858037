#include "ingest/field_parse.h"

#include <array>
#include <charconv>
#include <chrono>

#include "ingest/input_source.h"
#include "ingest/reader.h"

namespace txguard {
namespace {

constexpr std::size_t kQuotedValueBytes = 60;
constexpr std::int64_t kMillisPerSecond = 1000;
constexpr std::int64_t kMillisPerDay = 86'400'000;

// A calendar date and time read from text, before range checks.
struct CivilTime {
  int year = 0;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
  int offset_minutes = 0;  // local time minus UTC
};

const char* toEpochMillis(const CivilTime& time, std::int64_t& epoch_ms) {
  using namespace std::chrono;
  if (time.month < 1 || time.month > 12) return "month out of range 01-12";
  const year_month_day date{year{time.year}, month{static_cast<unsigned>(time.month)},
                            day{static_cast<unsigned>(time.day)}};
  if (!date.ok()) return "day out of range for the month";
  if (time.hour > 23) return "hour out of range 00-23";
  if (time.minute > 59) return "minute out of range 00-59";
  if (time.second == 60) return "leap second :60 is not supported";
  if (time.second > 59) return "second out of range 00-59";

  const std::int64_t days = sys_days{date}.time_since_epoch().count();
  const std::int64_t seconds = std::int64_t{time.hour} * 3600 + time.minute * 60 + time.second -
                               std::int64_t{time.offset_minutes} * 60;
  epoch_ms = days * kMillisPerDay + seconds * kMillisPerSecond + time.millisecond;
  return nullptr;
}

// Reads fixed-layout text left to right.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool atEnd() const { return pos_ == text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }

  bool literal(char expected) {
    if (peek() != expected) return false;
    ++pos_;
    return true;
  }

  // Reads between `min_count` and `max_count` digits as a number.
  bool digits(std::size_t min_count, std::size_t max_count, int& value) {
    value = 0;
    std::size_t count = 0;
    while (count < max_count && !atEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++count;
    }
    return count >= min_count;
  }

  // Reads a fraction of 1 to `max_digits` digits after the decimal point,
  // keeping milliseconds.
  bool fraction(std::size_t max_digits, int& millisecond) {
    millisecond = 0;
    std::size_t count = 0;
    while (!atEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 3) millisecond = millisecond * 10 + (text_[pos_] - '0');
      ++pos_;
      ++count;
    }
    for (std::size_t i = count; i < 3; ++i) millisecond *= 10;
    return count >= 1 && count <= max_digits;
  }

  // Reads "Z", "z", "+HH:MM" or "-HH:MM"; with `colon_optional`, "+HHMM" too.
  bool zone(bool colon_optional, int& offset_minutes) {
    if (literal('Z') || literal('z')) {
      offset_minutes = 0;
      return true;
    }
    const char sign = peek();
    if (sign != '+' && sign != '-') return false;
    ++pos_;
    int hours = 0;
    int minutes = 0;
    if (!digits(2, 2, hours)) return false;
    if (!literal(':') && !colon_optional) return false;
    if (!digits(2, 2, minutes)) return false;
    if (hours > 23 || minutes > 59) return false;
    offset_minutes = (sign == '-' ? -1 : 1) * (hours * 60 + minutes);
    return true;
  }

  // Reads an English month abbreviation, any case.
  bool monthName(int& month) {
    static constexpr std::array<std::string_view, 12> kMonths = {
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    if (text_.size() - pos_ < 3) return false;
    std::array<char, 3> lower{};
    for (std::size_t i = 0; i < 3; ++i) {
      const char c = text_[pos_ + i];
      lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
      if (std::string_view(lower.data(), 3) == kMonths[i]) {
        month = static_cast<int>(i) + 1;
        pos_ += 3;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool readDate(Cursor& cursor, CivilTime& time) {
  return cursor.digits(4, 4, time.year) && cursor.literal('-') && cursor.digits(2, 2, time.month) &&
         cursor.literal('-') && cursor.digits(2, 2, time.day);
}

bool readTimeOfDay(Cursor& cursor, std::size_t max_fraction_digits, CivilTime& time) {
  if (!(cursor.digits(2, 2, time.hour) && cursor.literal(':') && cursor.digits(2, 2, time.minute) &&
        cursor.literal(':') && cursor.digits(2, 2, time.second))) {
    return false;
  }
  if (cursor.literal('.')) return cursor.fraction(max_fraction_digits, time.millisecond);
  return true;
}

bool readDateTimeSeparator(Cursor& cursor) {
  return cursor.literal('T') || cursor.literal('t') || cursor.literal(' ');
}

}  // namespace

void resetTransaction(Transaction& transaction) {
  transaction.id.clear();
  transaction.account.clear();
  transaction.account_display.clear();
  transaction.timestamp_ms = 0;
  transaction.amount = 0.0;
  transaction.currency.clear();
  transaction.location.clear();
  transaction.latitude = kMissing;
  transaction.longitude = kMissing;
  transaction.home_latitude = kMissing;
  transaction.home_longitude = kMissing;
  transaction.counterparty.clear();
  transaction.category.clear();
  transaction.balance_before = kMissing;
  transaction.balance_after = kMissing;
  transaction.counterparty_balance_before = kMissing;
  transaction.counterparty_balance_after = kMissing;
  transaction.label = Label::kUnknown;
  transaction.source_line = 0;
}

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool parseDouble(std::string_view text, double& value) {
  text = trimSpaces(text);
  if (text.empty()) return false;
  // from_chars rejects a leading '+', which some exporters write.
  if (text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

bool parseInt64(std::string_view text, std::int64_t& value) {
  text = trimSpaces(text);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

const char* parseLabel(std::string_view text, Label& label) {
  // Fast path for the common spellings; from_chars costs more than the rest
  // of a label check.
  if (text == "0" || text == "0.0") {
    label = Label::kLegitimate;
    return nullptr;
  }
  if (text == "1" || text == "1.0") {
    label = Label::kFraud;
    return nullptr;
  }
  text = trimSpaces(text);
  if (text == "true" || text == "TRUE" || text == "True") {
    label = Label::kFraud;
    return nullptr;
  }
  if (text == "false" || text == "FALSE" || text == "False") {
    label = Label::kLegitimate;
    return nullptr;
  }
  double value = 0.0;
  if (!parseDouble(text, value)) return "expected 0, 1, true or false";
  if (value == 0.0) {
    label = Label::kLegitimate;
  } else if (value == 1.0) {
    label = Label::kFraud;
  } else {
    return "expected 0 or 1";
  }
  return nullptr;
}

const char* parseCurrency(std::string_view text, std::string& out) {
  text = trimSpaces(text);
  if (text.size() != 3) return "expected a 3-letter ISO 4217 code";
  out.clear();
  for (const char c : text) {
    if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(c);
    } else {
      return "expected a 3-letter ISO 4217 code";
    }
  }
  return nullptr;
}

const char* parseDateTimeUtc(std::string_view text, std::int64_t& epoch_ms) {
  static constexpr const char* kExpected = "expected YYYY-MM-DD HH:MM:SS[.ffffff]";
  Cursor cursor(trimSpaces(text));
  CivilTime time;
  if (!readDate(cursor, time) || !readDateTimeSeparator(cursor) ||
      !readTimeOfDay(cursor, 6, time) || !cursor.atEnd()) {
    return kExpected;
  }
  return toEpochMillis(time, epoch_ms);
}

const char* parseRfc3339(std::string_view text, std::int64_t& epoch_ms) {
  static constexpr const char* kExpected =
      "expected RFC 3339 YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)";
  Cursor cursor(trimSpaces(text));
  CivilTime time;
  if (!readDate(cursor, time) || !readDateTimeSeparator(cursor) ||
      !readTimeOfDay(cursor, 9, time) || !cursor.zone(false, time.offset_minutes) ||
      !cursor.atEnd()) {
    return kExpected;
  }
  return toEpochMillis(time, epoch_ms);
}

const char* parseIso8601(std::string_view text, std::int64_t& epoch_ms) {
  static constexpr const char* kExpected =
      "expected ISO 8601 YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]";
  Cursor cursor(trimSpaces(text));
  CivilTime time;
  if (!readDate(cursor, time)) return kExpected;
  if (!cursor.atEnd()) {
    if (!readDateTimeSeparator(cursor) || !readTimeOfDay(cursor, 9, time)) return kExpected;
    if (!cursor.atEnd() && !cursor.zone(true, time.offset_minutes)) return kExpected;
    if (!cursor.atEnd()) return kExpected;
  }
  return toEpochMillis(time, epoch_ms);
}

std::optional<TimestampPattern> TimestampPattern::compile(std::string_view pattern,
                                                          std::string& error) {
  bool has_year = false;
  bool has_month = false;
  bool has_day = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (i + 1 == pattern.size()) {
      error = "timestamp pattern '" + std::string(pattern) + "' ends with a lone %";
      return std::nullopt;
    }
    const char directive = pattern[++i];
    switch (directive) {
      case 'Y':
      case 'y':
        has_year = true;
        break;
      case 'm':
      case 'b':
        has_month = true;
        break;
      case 'd':
        has_day = true;
        break;
      case 'H':
      case 'M':
      case 'S':
      case 'f':
      case 'z':
      case '%':
        break;
      default:
        error = "timestamp pattern '" + std::string(pattern) + "' has unknown directive %" +
                directive + "; supported: %Y %y %m %b %d %H %M %S %f %z %%";
        return std::nullopt;
    }
  }
  if (!has_year || !has_month || !has_day) {
    error = "timestamp pattern '" + std::string(pattern) +
            "' needs a year (%Y or %y), a month (%m or %b) and a day (%d)";
    return std::nullopt;
  }
  TimestampPattern compiled;
  compiled.pattern_ = std::string(pattern);
  return compiled;
}

const char* TimestampPattern::parse(std::string_view text, std::int64_t& epoch_ms) const {
  static constexpr const char* kMismatch = "does not match the mapping's timestamp_format";
  Cursor cursor(trimSpaces(text));
  CivilTime time;
  for (std::size_t i = 0; i < pattern_.size(); ++i) {
    if (pattern_[i] != '%') {
      if (!cursor.literal(pattern_[i])) return kMismatch;
      continue;
    }
    bool matched = false;
    switch (pattern_[++i]) {
      case 'Y':
        matched = cursor.digits(4, 4, time.year);
        break;
      case 'y':
        matched = cursor.digits(2, 2, time.year);
        time.year += time.year >= 69 ? 1900 : 2000;
        break;
      case 'm':
        matched = cursor.digits(1, 2, time.month);
        break;
      case 'b':
        matched = cursor.monthName(time.month);
        break;
      case 'd':
        matched = cursor.digits(1, 2, time.day);
        break;
      case 'H':
        matched = cursor.digits(1, 2, time.hour);
        break;
      case 'M':
        matched = cursor.digits(1, 2, time.minute);
        break;
      case 'S':
        matched = cursor.digits(1, 2, time.second);
        break;
      case 'f':
        matched = cursor.fraction(9, time.millisecond);
        break;
      case 'z':
        matched = cursor.zone(true, time.offset_minutes);
        break;
      case '%':
        matched = cursor.literal('%');
        break;
      default:
        break;  // compile() admits no other directive
    }
    if (!matched) return kMismatch;
  }
  if (!cursor.atEnd()) return kMismatch;
  return toEpochMillis(time, epoch_ms);
}

std::string quoteValue(std::string_view value) {
  return "'" + excerpt(value, kQuotedValueBytes) + "'";
}

const char* applyCardNumber(std::string_view pan, PanHasher& hasher, Transaction& out) {
  pan = trimSpaces(pan);
  if (pan.size() < kMinPanDigits || pan.size() > kMaxPanDigits) {
    return "expected 11 to 19 digits";
  }
  for (const char c : pan) {
    if (c < '0' || c > '9') return "expected digits only";
  }
  if (!passesLuhn(pan)) return "fails the Luhn check";
  hasher.accountKey(pan, out.account);
  maskPan(pan, out.account_display);
  return nullptr;
}

void requirePanHashKey(std::string_view key, std::string_view input_name) {
  if (!key.empty()) return;
  throw IngestError(std::string(input_name) +
                    ": the input contains card numbers but no PAN hash key is set; set "
                    "TXGUARD_PAN_HASH_KEY so card numbers become keyed-hash account keys");
}

std::string maskValueInText(std::string_view text, std::string_view value) {
  std::string result(text);
  if (value.size() < 4) return result;
  const std::string masked = maskPan(value);
  for (std::size_t pos = result.find(value); pos != std::string::npos;
       pos = result.find(value, pos + masked.size())) {
    result.replace(pos, value.size(), masked);
  }
  return result;
}

}  // namespace txguard
