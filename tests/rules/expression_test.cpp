#include "rules/expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "features/category.h"

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

double eval(const std::string& source, const FeatureVector& features = missingFeatures()) {
  return Expression::compile(source).evaluate(features);
}

// Returns the compile error for `source`, failing the test if it compiles.
ExpressionError compileError(const std::string& source) {
  try {
    Expression::compile(source);
  } catch (const ExpressionError& error) {
    return error;
  }
  ADD_FAILURE() << "expected a compile error for: " << source;
  return ExpressionError(0, "");
}

TEST(Expression, ArithmeticPrecedence) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7.0);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9.0);
  EXPECT_EQ(eval("8 - 6 / 2"), 5.0);
  EXPECT_EQ(eval("-2 * 3 + 10"), 4.0);
  EXPECT_EQ(eval("2 * -3"), -6.0);
}

TEST(Expression, LeftAssociativity) {
  EXPECT_EQ(eval("10 - 4 - 3"), 3.0);
  EXPECT_EQ(eval("64 / 4 / 2"), 8.0);
  EXPECT_EQ(eval("10 - 4 + 3"), 9.0);
}

TEST(Expression, UnaryMinus) {
  EXPECT_EQ(eval("- - 2"), 2.0);
  EXPECT_EQ(eval("2 - -3"), 5.0);
  EXPECT_EQ(eval("-(1 + 2)"), -3.0);
}

TEST(Expression, NumberLiterals) {
  EXPECT_EQ(eval("1e3"), 1000.0);
  EXPECT_EQ(eval("2.5E-1"), 0.25);
  EXPECT_EQ(eval("3600"), 3600.0);
}

TEST(Expression, ComparisonOperators) {
  EXPECT_EQ(eval("1 < 2"), 1.0);
  EXPECT_EQ(eval("2 < 2"), 0.0);
  EXPECT_EQ(eval("2 <= 2"), 1.0);
  EXPECT_EQ(eval("3 <= 2"), 0.0);
  EXPECT_EQ(eval("3 > 2"), 1.0);
  EXPECT_EQ(eval("2 > 2"), 0.0);
  EXPECT_EQ(eval("2 >= 2"), 1.0);
  EXPECT_EQ(eval("1 >= 2"), 0.0);
  EXPECT_EQ(eval("2 == 2"), 1.0);
  EXPECT_EQ(eval("2 == 3"), 0.0);
  EXPECT_EQ(eval("2 != 3"), 1.0);
  EXPECT_EQ(eval("2 != 2"), 0.0);
}

TEST(Expression, ComparisonBindsLooserThanArithmetic) {
  EXPECT_EQ(eval("1 + 2 < 4"), 1.0);
  EXPECT_EQ(eval("2 * 3 > 5 + 0.5"), 1.0);
}

TEST(Expression, LogicalOperators) {
  EXPECT_EQ(eval("true and true"), 1.0);
  EXPECT_EQ(eval("true and false"), 0.0);
  EXPECT_EQ(eval("false or true"), 1.0);
  EXPECT_EQ(eval("false or false"), 0.0);
  EXPECT_EQ(eval("not false"), 1.0);
  EXPECT_EQ(eval("not true"), 0.0);
  EXPECT_EQ(eval("true && false"), 0.0);
  EXPECT_EQ(eval("false || true"), 1.0);
  EXPECT_EQ(eval("!true"), 0.0);
  EXPECT_EQ(eval("!!true"), 1.0);
}

TEST(Expression, LogicalPrecedence) {
  // and binds tighter than or.
  EXPECT_EQ(eval("true or false and false"), 1.0);
  EXPECT_EQ(eval("(true or false) and false"), 0.0);
  // not binds tighter than and/or but looser than comparisons.
  EXPECT_EQ(eval("not true or true"), 1.0);
  EXPECT_EQ(eval("not (true or true)"), 0.0);
  EXPECT_EQ(eval("not 1 > 2"), 1.0);
  EXPECT_EQ(eval("! 1 > 2"), 1.0);
}

TEST(Expression, LogicalChains) {
  EXPECT_EQ(eval("true and true and false"), 0.0);
  EXPECT_EQ(eval("true and true and true"), 1.0);
  EXPECT_EQ(eval("false or false or true"), 1.0);
  EXPECT_EQ(eval("false or false or false"), 0.0);
  EXPECT_EQ(eval("false and true or true"), 1.0);
  EXPECT_EQ(eval("true or false and false or false"), 1.0);
}

TEST(Expression, ShortCircuitKeepsResult) {
  // The right side has the opposite value, so a wrong jump changes the result.
  EXPECT_EQ(eval("false and 1 / 0 > 0"), 0.0);
  EXPECT_EQ(eval("true or 0 / 0 == 0"), 1.0);
  EXPECT_EQ(eval("(false and true) == false"), 1.0);
}

TEST(Expression, BooleanEquality) {
  EXPECT_EQ(eval("true == true"), 1.0);
  EXPECT_EQ(eval("true != false"), 1.0);
  EXPECT_EQ(eval("present(amount) == false"), 1.0);
}

TEST(Expression, Functions) {
  EXPECT_EQ(eval("abs(-3)"), 3.0);
  EXPECT_EQ(eval("abs(3)"), 3.0);
  EXPECT_EQ(eval("min(2, 5)"), 2.0);
  EXPECT_EQ(eval("min(5, 2)"), 2.0);
  EXPECT_EQ(eval("max(2, 5)"), 5.0);
  EXPECT_EQ(eval("max(5, 2)"), 5.0);
  EXPECT_EQ(eval("max(1, min(7, 3 + 1)) * 2"), 8.0);
}

TEST(Expression, PresentAndMissing) {
  FeatureVector features = missingFeatures();
  EXPECT_EQ(eval("present(amount)", features), 0.0);
  EXPECT_EQ(eval("missing(amount)", features), 1.0);
  set(features, Feature::amount, 0.0f);
  EXPECT_EQ(eval("present(amount)", features), 1.0);
  EXPECT_EQ(eval("missing(amount)", features), 0.0);
}

TEST(Expression, CategoryCompilesToCode) {
  EXPECT_EQ(eval("category(\"TRANSFER\")"), categoryCode("TRANSFER"));
  EXPECT_EQ(eval("category('grocery_pos')"), categoryCode("grocery_pos"));

  FeatureVector features = missingFeatures();
  set(features, Feature::category_code, static_cast<float>(categoryCode("CASH_OUT")));
  EXPECT_EQ(eval("category_code == category(\"CASH_OUT\")", features), 1.0);
  EXPECT_EQ(eval("category_code == category(\"TRANSFER\")", features), 0.0);
}

TEST(Expression, ReadsFeatures) {
  FeatureVector features = missingFeatures();
  set(features, Feature::count_1m, 5.0f);
  set(features, Feature::count_1h, 7.0f);
  EXPECT_EQ(eval("count_1m + count_1h", features), 12.0);
  EXPECT_EQ(eval("count_1m >= 5", features), 1.0);
}

TEST(Expression, NanComparisonsAreFalse) {
  const FeatureVector features = missingFeatures();
  for (const char* source :
       {"amount < 1", "amount <= 1", "amount > 1", "amount >= 1", "amount == amount", "amount != 1",
        "amount != amount", "amount + 1 > 0", "abs(amount) >= 0", "min(amount, 1) < 5",
        "max(amount, 1) > 0", "-amount < 0", "amount * 0 == 0"}) {
    EXPECT_EQ(eval(source, features), 0.0) << source;
  }
}

TEST(Expression, NotOfNanComparisonIsTrue) {
  EXPECT_EQ(eval("not (amount < 1)"), 1.0);
  EXPECT_EQ(eval("missing(amount) or amount > 5"), 1.0);
}

TEST(Expression, NanPropagatesThroughArithmetic) {
  EXPECT_TRUE(std::isnan(eval("amount + 1")));
  EXPECT_TRUE(std::isnan(eval("min(amount, 1)")));
  EXPECT_TRUE(std::isnan(eval("max(1, amount)")));
  EXPECT_TRUE(std::isnan(eval("abs(amount)")));
}

TEST(Expression, DivisionByZero) {
  EXPECT_EQ(eval("1 / 0 > 1000"), 1.0);
  EXPECT_EQ(eval("0 / 0 == 0"), 0.0);
  EXPECT_EQ(eval("missing(0 / 0)"), 1.0);
}

TEST(Expression, LiteralsRoundToFloat) {
  FeatureVector features = missingFeatures();
  set(features, Feature::amount, 0.1f);
  EXPECT_EQ(eval("amount == 0.1", features), 1.0);
  EXPECT_EQ(eval("amount <= 0.1", features), 1.0);
}

TEST(Expression, Types) {
  EXPECT_EQ(Expression::compile("amount * 2").type(), ValueType::kNumber);
  EXPECT_EQ(Expression::compile("amount > 2").type(), ValueType::kBoolean);
  EXPECT_EQ(Expression::compile("present(amount)").type(), ValueType::kBoolean);
  EXPECT_EQ(Expression::compile("(true)").type(), ValueType::kBoolean);
  EXPECT_EQ(Expression::compile("category(\"DEBIT\")").type(), ValueType::kNumber);
}

TEST(Expression, KeepsSource) {
  EXPECT_EQ(Expression::compile("amount > 2").source(), "amount > 2");
}

TEST(ExpressionError, UnknownFeatureSuggestsClosest) {
  const ExpressionError error = compileError("count_1mn >= 5");
  EXPECT_EQ(error.column(), 1u);
  EXPECT_THAT(error.what(), HasSubstr("unknown feature 'count_1mn'"));
  EXPECT_THAT(error.what(), HasSubstr("did you mean 'count_1m'?"));
}

TEST(ExpressionError, UnknownFeatureColumn) {
  const ExpressionError error = compileError("amount > 5 and secnds_since_previous < 1");
  EXPECT_EQ(error.column(), 16u);
  EXPECT_THAT(error.what(), HasSubstr("did you mean 'seconds_since_previous'?"));
}

TEST(ExpressionError, UnknownFeatureWithoutCloseName) {
  const ExpressionError error = compileError("zzzzzzzzzz > 1");
  EXPECT_THAT(error.what(), HasSubstr("unknown feature 'zzzzzzzzzz'"));
  EXPECT_THAT(error.what(), ::testing::Not(HasSubstr("did you mean")));
}

TEST(ExpressionError, CategoryNameAsFeature) {
  const ExpressionError error = compileError("TRANSFER");
  EXPECT_THAT(error.what(), HasSubstr("category_code == category(\"TRANSFER\")"));
}

TEST(ExpressionError, BadCharacterColumn) {
  const ExpressionError error = compileError("amount > 5 # comment");
  EXPECT_EQ(error.column(), 12u);
  EXPECT_THAT(error.what(), HasSubstr("unexpected character '#'"));
}

TEST(ExpressionError, SingleEqualsSign) {
  const ExpressionError error = compileError("amount = 5");
  EXPECT_EQ(error.column(), 8u);
  EXPECT_THAT(error.what(), HasSubstr("use '=='"));
}

TEST(ExpressionError, SingleAmpersandAndBar) {
  EXPECT_THAT(compileError("true & false").what(), HasSubstr("use 'and'"));
  EXPECT_THAT(compileError("true | false").what(), HasSubstr("use 'or'"));
}

TEST(ExpressionError, UnclosedParenthesis) {
  const ExpressionError error = compileError("(amount > 5");
  EXPECT_EQ(error.column(), 12u);
  EXPECT_THAT(error.what(), HasSubstr("expected ')' to close the '(' at column 1"));
  EXPECT_THAT(error.what(), HasSubstr("found the end of the expression"));
}

TEST(ExpressionError, EmptyExpression) {
  const ExpressionError error = compileError("   ");
  EXPECT_EQ(error.column(), 4u);
  EXPECT_THAT(error.what(), HasSubstr("expected a number, a feature name"));
}

TEST(ExpressionError, TrailingToken) {
  const ExpressionError error = compileError("amount > 1 2");
  EXPECT_EQ(error.column(), 12u);
  EXPECT_THAT(error.what(), HasSubstr("after a complete expression"));
}

TEST(ExpressionError, ChainedComparison) {
  const ExpressionError error = compileError("1 < amount < 5");
  EXPECT_EQ(error.column(), 12u);
  EXPECT_THAT(error.what(), HasSubstr("comparisons do not chain"));
}

TEST(ExpressionError, LogicOnNumber) {
  const ExpressionError error = compileError("amount > 1 and count_1m");
  EXPECT_EQ(error.column(), 16u);
  EXPECT_THAT(error.what(),
              HasSubstr("'and' needs a condition (true/false), but this is a number"));
}

TEST(ExpressionError, ArithmeticOnCondition) {
  const ExpressionError error = compileError("(amount > 1) + 2");
  EXPECT_EQ(error.column(), 1u);
  EXPECT_THAT(error.what(), HasSubstr("'+' needs a number"));
}

TEST(ExpressionError, MixedEquality) {
  EXPECT_THAT(compileError("true == 1").what(), HasSubstr("'==' needs a condition"));
}

TEST(ExpressionError, NotOnNumber) {
  EXPECT_THAT(compileError("not amount").what(), HasSubstr("'not' needs a condition"));
}

TEST(ExpressionError, UnknownFunction) {
  const ExpressionError error = compileError("amount > 1 or sqrt(amount) > 2");
  EXPECT_EQ(error.column(), 15u);
  EXPECT_THAT(error.what(), HasSubstr("unknown function 'sqrt'"));
}

TEST(ExpressionError, WrongArgumentCount) {
  EXPECT_THAT(compileError("min(1) > 0").what(), HasSubstr("expected ',' and a second argument"));
  EXPECT_THAT(compileError("abs(1, 2) > 0").what(), HasSubstr("expected ')' to close the call"));
}

TEST(ExpressionError, UnknownCategoryListsValidNames) {
  const ExpressionError error = compileError("category_code == category(\"WIRE\")");
  EXPECT_EQ(error.column(), 27u);
  EXPECT_THAT(error.what(), HasSubstr("unknown category \"WIRE\""));
  EXPECT_THAT(error.what(), HasSubstr("TRANSFER"));
  EXPECT_THAT(error.what(), HasSubstr("grocery_pos"));
}

TEST(ExpressionError, CategoryNeedsString) {
  EXPECT_THAT(compileError("category(TRANSFER) > 0").what(), HasSubstr("quoted category name"));
}

TEST(ExpressionError, StringOutsideCategory) {
  EXPECT_THAT(compileError("amount == \"5\"").what(), HasSubstr("only valid as the argument"));
}

TEST(ExpressionError, UnterminatedString) {
  const ExpressionError error = compileError("category(\"TRANSFER) > 0");
  EXPECT_EQ(error.column(), 10u);
  EXPECT_THAT(error.what(), HasSubstr("unterminated string"));
}

TEST(ExpressionError, BadNumbers) {
  EXPECT_THAT(compileError("1. > 0").what(), HasSubstr("digits after the decimal point"));
  EXPECT_THAT(compileError("1e > 0").what(), HasSubstr("digits in the exponent"));
  EXPECT_THAT(compileError("12abc > 0").what(), HasSubstr("after the number"));
  EXPECT_THAT(compileError("1e39 > 0").what(), HasSubstr("out of range"));
}

TEST(ExpressionError, NestingLimit) {
  const std::string deep = std::string(100, '(') + "1" + std::string(100, ')');
  EXPECT_THAT(compileError(deep).what(), HasSubstr("nested more than"));
  const std::string negations(100, '-');
  EXPECT_THAT(compileError(negations + "1").what(), HasSubstr("nested more than"));

  const std::string allowed = std::string(40, '(') + "1" + std::string(40, ')');
  EXPECT_EQ(eval(allowed), 1.0);
}

TEST(ExpressionError, StackDepthLimit) {
  // Right-nested sums keep one pending value per level.
  std::string source = "1";
  for (int i = 0; i < 40; ++i) source = "1 + (" + source + ")";
  EXPECT_EQ(eval(source), 41.0);

  // Two pending values per level exceed the fixed evaluation stack before
  // the nesting limit is reached.
  std::string wide = "1";
  for (int i = 0; i < 40; ++i) wide = "1 + 2 * (" + wide + ")";
  EXPECT_THAT(compileError(wide).what(), HasSubstr("too deeply nested"));
}

TEST(ClosestName, FindsTypos) {
  EXPECT_EQ(closestName("amout", std::span(kFeatureNames)), "amount");
  EXPECT_EQ(closestName("AMOUNT", std::span(kFeatureNames)), "amount");
  EXPECT_EQ(closestName("seconds_since_prev", std::span(kFeatureNames)), "seconds_since_previous");
  EXPECT_EQ(closestName("xyz", std::span(kFeatureNames)), "");
}

}  // namespace
}  // namespace txguard
