#include "ingest/field_parse.h"

#include <gtest/gtest.h>

#include <cmath>

namespace txguard {
namespace {

// Expected epoch values were computed with Python's datetime module.
constexpr std::int64_t k20240301T101500 = 1709288100000;

TEST(ParseDouble, AcceptsDecimalForms) {
  double value = 0.0;
  ASSERT_TRUE(parseDouble("38398.68", value));
  EXPECT_DOUBLE_EQ(value, 38398.68);
  ASSERT_TRUE(parseDouble(" -9.1365 ", value));
  EXPECT_DOUBLE_EQ(value, -9.1365);
  ASSERT_TRUE(parseDouble("+5", value));
  EXPECT_DOUBLE_EQ(value, 5.0);
  ASSERT_TRUE(parseDouble("1e3", value));
  EXPECT_DOUBLE_EQ(value, 1000.0);
  ASSERT_TRUE(parseDouble("39.450497999999996", value));
  EXPECT_DOUBLE_EQ(value, 39.450497999999996);
}

TEST(ParseDouble, RejectsGarbage) {
  double value = 0.0;
  EXPECT_FALSE(parseDouble("", value));
  EXPECT_FALSE(parseDouble("  ", value));
  EXPECT_FALSE(parseDouble("12,50", value));
  EXPECT_FALSE(parseDouble("12.5x", value));
  EXPECT_FALSE(parseDouble("abc", value));
}

TEST(ParseLabel, AcceptsIntegerFloatAndBool) {
  Label label = Label::kUnknown;
  EXPECT_EQ(parseLabel("0", label), nullptr);
  EXPECT_EQ(label, Label::kLegitimate);
  EXPECT_EQ(parseLabel("1.0", label), nullptr);
  EXPECT_EQ(label, Label::kFraud);
  EXPECT_EQ(parseLabel("0.0", label), nullptr);
  EXPECT_EQ(label, Label::kLegitimate);
  EXPECT_EQ(parseLabel("true", label), nullptr);
  EXPECT_EQ(label, Label::kFraud);
}

TEST(ParseLabel, RejectsOtherValues) {
  Label label = Label::kUnknown;
  EXPECT_NE(parseLabel("2", label), nullptr);
  EXPECT_NE(parseLabel("0.5", label), nullptr);
  EXPECT_NE(parseLabel("yes", label), nullptr);
}

TEST(ParseDateTimeUtc, ReadsAcmeLayout) {
  std::int64_t ms = 0;
  ASSERT_EQ(parseDateTimeUtc("2024-03-01 10:15:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseDateTimeUtc("2024-03-01 10:15:00.000000", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseDateTimeUtc("2024-03-01 10:15:00.123456", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500 + 123);
  ASSERT_EQ(parseDateTimeUtc("2024-03-01 10:15:00.5", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500 + 500);
  ASSERT_EQ(parseDateTimeUtc("2024-03-01T10:15:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseDateTimeUtc("2024-02-29 00:00:00", ms), nullptr);
  EXPECT_EQ(ms, 1709164800000);
  ASSERT_EQ(parseDateTimeUtc("1969-12-31 23:59:59", ms), nullptr);
  EXPECT_EQ(ms, -1000);
}

TEST(ParseDateTimeUtc, RejectsBadDates) {
  std::int64_t ms = 0;
  EXPECT_NE(parseDateTimeUtc("2023-02-29 00:00:00", ms), nullptr);  // not a leap year
  EXPECT_NE(parseDateTimeUtc("2024-13-01 00:00:00", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01 24:00:00", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01 10:60:00", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01 10:15:60", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01 10:15:00.1234567", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("2024-03-01 10:15:00Z", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("01/03/2024 10:15:00", ms), nullptr);
  EXPECT_NE(parseDateTimeUtc("", ms), nullptr);
}

TEST(ParseRfc3339, AppliesZoneOffset) {
  std::int64_t ms = 0;
  ASSERT_EQ(parseRfc3339("2024-03-01T10:15:00Z", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseRfc3339("2024-03-01T10:15:00-03:00", ms), nullptr);
  EXPECT_EQ(ms, 1709298900000);
  ASSERT_EQ(parseRfc3339("2024-03-01T13:45:00+03:30", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseRfc3339("2024-03-01t10:15:00.250z", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500 + 250);
  ASSERT_EQ(parseRfc3339("2024-03-01T10:15:00.123456789Z", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500 + 123);
}

TEST(ParseRfc3339, RequiresZone) {
  std::int64_t ms = 0;
  EXPECT_NE(parseRfc3339("2024-03-01T10:15:00", ms), nullptr);
  EXPECT_NE(parseRfc3339("2024-03-01T10:15:00+0300", ms), nullptr);
  EXPECT_NE(parseRfc3339("2024-03-01", ms), nullptr);
  EXPECT_NE(parseRfc3339("2024-03-01T10:15:00+24:00", ms), nullptr);
}

TEST(ParseIso8601, AcceptsDateOnlyAndNoZone) {
  std::int64_t ms = 0;
  ASSERT_EQ(parseIso8601("2024-02-29", ms), nullptr);
  EXPECT_EQ(ms, 1709164800000);
  ASSERT_EQ(parseIso8601("2024-03-01 10:15:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(parseIso8601("2024-03-01T12:15:00+0200", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  EXPECT_NE(parseIso8601("2024-03-01T10:15", ms), nullptr);
}

TEST(TimestampPattern, ParsesDayFirstDates) {
  std::string error;
  const auto pattern = TimestampPattern::compile("%d/%m/%Y %H:%M:%S", error);
  ASSERT_TRUE(pattern.has_value()) << error;
  std::int64_t ms = 0;
  ASSERT_EQ(pattern->parse("01/03/2024 10:15:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  ASSERT_EQ(pattern->parse("1/3/2024 10:15:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500);
  EXPECT_NE(pattern->parse("31/02/2024 10:15:00", ms), nullptr);
  EXPECT_NE(pattern->parse("2024-03-01 10:15:00", ms), nullptr);
  EXPECT_NE(pattern->parse("01/03/2024 10:15:00 extra", ms), nullptr);
}

TEST(TimestampPattern, ParsesMonthNamesFractionAndZone) {
  std::string error;
  const auto pattern = TimestampPattern::compile("%d-%b-%y %H.%M.%S.%f %z", error);
  ASSERT_TRUE(pattern.has_value()) << error;
  std::int64_t ms = 0;
  ASSERT_EQ(pattern->parse("01-MAR-24 11.15.00.5 +01:00", ms), nullptr);
  EXPECT_EQ(ms, k20240301T101500 + 500);
}

TEST(TimestampPattern, RejectsBadPatterns) {
  std::string error;
  EXPECT_FALSE(TimestampPattern::compile("%Y-%m-%d %Q", error).has_value());
  EXPECT_NE(error.find("%Q"), std::string::npos) << error;
  EXPECT_FALSE(TimestampPattern::compile("%H:%M:%S", error).has_value());
  EXPECT_NE(error.find("needs a year"), std::string::npos) << error;
  EXPECT_FALSE(TimestampPattern::compile("%Y-%m-%d %", error).has_value());
}

TEST(ParseCurrency, UppercasesCodes) {
  std::string code;
  EXPECT_EQ(parseCurrency("usd", code), nullptr);
  EXPECT_EQ(code, "USD");
  EXPECT_NE(parseCurrency("US", code), nullptr);
  EXPECT_NE(parseCurrency("U$D", code), nullptr);
}

}  // namespace
}  // namespace txguard
