#include "rules/reason_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace txguard {
namespace {

using ::testing::HasSubstr;

FeatureVector missingFeatures() {
  FeatureVector features;
  features.fill(std::nanf(""));
  return features;
}

void set(FeatureVector& features, Feature feature, float value) {
  features[static_cast<std::size_t>(feature)] = value;
}

ExpressionError parseError(const std::string& text) {
  try {
    ReasonTemplate::parse(text);
  } catch (const ExpressionError& error) {
    return error;
  }
  ADD_FAILURE() << "expected a parse error for: " << text;
  return ExpressionError(0, "");
}

TEST(ReasonTemplate, RendersPlaceholders) {
  FeatureVector features = missingFeatures();
  set(features, Feature::seconds_since_previous, 3599.999f);
  set(features, Feature::count_1m, 6.0f);
  const ReasonTemplate reason =
      ReasonTemplate::parse("{count_1m} payments, {seconds_since_previous} s apart");
  EXPECT_EQ(reason.render(features), "6 payments, 3599.999 s apart");
}

TEST(ReasonTemplate, PlaceholderAtStartAndEnd) {
  FeatureVector features = missingFeatures();
  set(features, Feature::amount, 12.5f);
  EXPECT_EQ(ReasonTemplate::parse("{amount}").render(features), "12.5");
  EXPECT_EQ(ReasonTemplate::parse("{amount}{amount}").render(features), "12.512.5");
}

TEST(ReasonTemplate, PlainText) {
  const ReasonTemplate reason = ReasonTemplate::parse("no placeholders");
  EXPECT_EQ(reason.render(missingFeatures()), "no placeholders");
  EXPECT_EQ(reason.text(), "no placeholders");
  EXPECT_EQ(ReasonTemplate::parse("").render(missingFeatures()), "");
}

TEST(ReasonTemplate, EscapedBraces) {
  FeatureVector features = missingFeatures();
  set(features, Feature::amount, 3.0f);
  EXPECT_EQ(ReasonTemplate::parse("{{amount}} is {amount}").render(features), "{amount} is 3");
}

TEST(ReasonTemplate, MissingValue) {
  EXPECT_EQ(ReasonTemplate::parse("z = {amount_zscore}").render(missingFeatures()), "z = missing");
}

TEST(ReasonTemplate, UnknownPlaceholderSuggests) {
  const ExpressionError error = parseError("moved {seconds_since_prev} s later");
  EXPECT_EQ(error.column(), 8u);
  EXPECT_THAT(error.what(), HasSubstr("unknown feature 'seconds_since_prev'"));
  EXPECT_THAT(error.what(), HasSubstr("did you mean '{seconds_since_previous}'?"));
}

TEST(ReasonTemplate, UnbalancedBraces) {
  const ExpressionError unclosed = parseError("amount {amount");
  EXPECT_EQ(unclosed.column(), 8u);
  EXPECT_THAT(unclosed.what(), HasSubstr("unclosed '{'"));

  const ExpressionError unmatched = parseError("amount }");
  EXPECT_EQ(unmatched.column(), 8u);
  EXPECT_THAT(unmatched.what(), HasSubstr("unmatched '}'"));
}

TEST(FormatFeatureValue, ShortestFixedNotation) {
  EXPECT_EQ(formatFeatureValue(3599.999f), "3599.999");
  EXPECT_EQ(formatFeatureValue(3600.0f), "3600");
  EXPECT_EQ(formatFeatureValue(181000.0f), "181000");
  EXPECT_EQ(formatFeatureValue(10000000.0f), "10000000");
  EXPECT_EQ(formatFeatureValue(0.1f), "0.1");
  EXPECT_EQ(formatFeatureValue(-2.5f), "-2.5");
  EXPECT_EQ(formatFeatureValue(std::nanf("")), "missing");
  EXPECT_EQ(formatFeatureValue(std::numeric_limits<float>::infinity()), "inf");
}

TEST(FormatFeatureValue, ExtremesFitBuffer) {
  EXPECT_EQ(formatFeatureValue(std::numeric_limits<float>::max()).size(), 39u);
  EXPECT_EQ(formatFeatureValue(-std::numeric_limits<float>::denorm_min()).substr(0, 4), "-0.0");
}

}  // namespace
}  // namespace txguard
