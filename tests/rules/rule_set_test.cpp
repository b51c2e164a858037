#include "rules/rule_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

namespace txguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

FeatureVector missingFeatures() {
  FeatureVector features;
  features.fill(std::nanf(""));
  return features;
}

void set(FeatureVector& features, Feature feature, float value) {
  features[static_cast<std::size_t>(feature)] = value;
}

// Returns the load error for `text`, failing the test if it loads.
std::string loadError(const std::string& text) {
  try {
    RuleSet::parse(text, "test.yaml");
  } catch (const RuleError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a load error for:\n" << text;
  return "";
}

// A one-rule file whose rule has the extra `lines` (indented by 4).
std::string oneRule(const std::string& lines) {
  return "version: \"1\"\nrules:\n  - name: r\n    when: amount > 1\n" + lines;
}

constexpr const char* kThreeRules = R"(version: "7"
rules:
  - name: small_review
    when: amount > 10
    action: review
    score: 0.4
  - name: big_block
    when: amount > 100
    action: block
    score: 0.7
    exclude_from_history: true
  - name: flag_only
    when: amount > 50
    reason: "amount {amount} over 50"
  - name: switched_off
    when: amount > 0
    action: block
    score: 1
    enabled: false
)";

TEST(RuleSet, ParsesFields) {
  const RuleSet rules = RuleSet::parse(kThreeRules, "three.yaml");
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules.origin(), "three.yaml");

  const Rule& big = rules.rule(1);
  EXPECT_EQ(big.name, "big_block");
  EXPECT_EQ(big.action, Action::kBlock);
  EXPECT_DOUBLE_EQ(big.score, 0.7);
  EXPECT_TRUE(big.exclude_from_history);
  EXPECT_TRUE(big.enabled);
  EXPECT_EQ(big.line, 7u);
  EXPECT_EQ(big.when.source(), "amount > 100");

  const Rule& flag = rules.rule(2);
  EXPECT_EQ(flag.action, Action::kAllow);
  EXPECT_EQ(flag.score, 0.0);
  EXPECT_FALSE(flag.exclude_from_history);

  EXPECT_FALSE(rules.rule(3).enabled);
  EXPECT_THROW(rules.rule(4), std::out_of_range);
}

TEST(RuleSet, EvaluateCombinesFiredRules) {
  const RuleSet rules = RuleSet::parse(kThreeRules, "three.yaml");
  FeatureVector features = missingFeatures();
  RuleEvaluation out;

  set(features, Feature::amount, 5.0f);
  rules.evaluate(features, out);
  EXPECT_TRUE(out.fired.empty());
  EXPECT_EQ(out.action, Action::kAllow);
  EXPECT_EQ(out.score, 0.0);
  EXPECT_FALSE(out.exclude_from_history);

  set(features, Feature::amount, 60.0f);
  rules.evaluate(features, out);
  EXPECT_THAT(out.fired, ElementsAre(0, 2));
  EXPECT_EQ(out.action, Action::kReview);
  EXPECT_DOUBLE_EQ(out.score, 0.4);
  EXPECT_FALSE(out.exclude_from_history);

  // 0.4 + 0.7 is capped at 1; block beats review.
  set(features, Feature::amount, 500.0f);
  rules.evaluate(features, out);
  EXPECT_THAT(out.fired, ElementsAre(0, 1, 2));
  EXPECT_EQ(out.action, Action::kBlock);
  EXPECT_DOUBLE_EQ(out.score, 1.0);
  EXPECT_TRUE(out.exclude_from_history);

  // evaluate() clears the previous result.
  set(features, Feature::amount, 5.0f);
  rules.evaluate(features, out);
  EXPECT_TRUE(out.fired.empty());
  EXPECT_EQ(out.action, Action::kAllow);
  EXPECT_EQ(out.score, 0.0);
  EXPECT_FALSE(out.exclude_from_history);
}

TEST(RuleSet, RenderReason) {
  const RuleSet rules = RuleSet::parse(kThreeRules, "three.yaml");
  FeatureVector features = missingFeatures();
  set(features, Feature::amount, 75.5f);
  EXPECT_EQ(rules.renderReason(2, features), "amount 75.5 over 50");
}

TEST(RuleSet, ReasonDefaultsToDescriptionThenCondition) {
  const RuleSet rules = RuleSet::parse(R"(version: "1"
rules:
  - name: described
    description: "Amount {really} large"
    when: amount > 1
  - name: bare
    when: amount > 2
)",
                                       "t.yaml");
  EXPECT_EQ(rules.renderReason(0, missingFeatures()), "Amount {really} large");
  EXPECT_EQ(rules.renderReason(1, missingFeatures()), "amount > 2");
}

TEST(RuleSet, VersionIsNamePlusSha256Prefix) {
  // sha256 of these bytes: ae1c34de4a5725b2f2f1f14f9baafffa4a76290...
  const std::string text = "version: \"1\"\nrules:\n  - name: a\n    when: amount > 1\n";
  EXPECT_EQ(RuleSet::parse(text, "t.yaml").version(), "1+ae1c34de4a57");
}

TEST(RuleSet, VersionChangesWithAnyByte) {
  const std::string text = oneRule("");
  const std::string first = RuleSet::parse(text, "t.yaml").version();
  const std::string with_comment = RuleSet::parse(text + "# note\n", "t.yaml").version();
  const std::string with_space = RuleSet::parse(text + "\n", "t.yaml").version();
  EXPECT_THAT(first, MatchesRegex("1\\+[0-9a-f]{12}"));
  EXPECT_NE(first, with_comment);
  EXPECT_NE(first, with_space);
  EXPECT_NE(with_comment, with_space);
  EXPECT_EQ(first, RuleSet::parse(text, "other.yaml").version());
}

TEST(RuleSet, AcceptsJson) {
  const RuleSet rules = RuleSet::parse(
      R"({"version": "2", "rules": [{"name": "j", "when": "count_1m >= 5", "action": "review",
          "score": 0.25, "exclude_from_history": false}]})",
      "rules.json");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules.rule(0).action, Action::kReview);
  EXPECT_DOUBLE_EQ(rules.rule(0).score, 0.25);
  EXPECT_THAT(rules.version(), MatchesRegex("2\\+[0-9a-f]{12}"));
}

TEST(RuleSet, MultiLineCondition) {
  const RuleSet rules = RuleSet::parse(R"(version: "1"
rules:
  - name: folded
    when: >-
      amount > 1
      and count_1m > 1
)",
                                       "t.yaml");
  FeatureVector features = missingFeatures();
  set(features, Feature::amount, 2.0f);
  set(features, Feature::count_1m, 2.0f);
  RuleEvaluation out;
  rules.evaluate(features, out);
  EXPECT_THAT(out.fired, ElementsAre(0));
}

TEST(RuleSetError, UnknownFeatureNamesFileRuleColumn) {
  const std::string message = loadError(R"(version: "1"
rules:
  - name: burst
    when: count_1m >= 5 or count_1hr >= 20
)");
  EXPECT_THAT(message, HasSubstr("test.yaml:4: rule 'burst': invalid `when` at column 18"));
  EXPECT_THAT(message, HasSubstr("did you mean 'count_1h'?"));
  const std::string caret =
      "\n    count_1m >= 5 or count_1hr >= 20\n" + std::string(4 + 17, ' ') + "^";
  EXPECT_THAT(message, HasSubstr(caret));
}

TEST(RuleSetError, BadTokenColumn) {
  const std::string message =
      loadError(oneRule("").replace(oneRule("").find("amount > 1"), 10, "amount >> 1"));
  EXPECT_THAT(message, HasSubstr("rule 'r': invalid `when` at column 9"));
  EXPECT_THAT(message, HasSubstr("expected a number, a feature name"));
}

TEST(RuleSetError, ConditionMustBeBoolean) {
  const std::string message = loadError("version: \"1\"\nrules:\n  - name: r\n    when: amount\n");
  EXPECT_THAT(message, HasSubstr("rule 'r': `when` is a number but must be a condition"));
}

TEST(RuleSetError, DuplicateName) {
  const std::string message = loadError(R"(version: "1"
rules:
  - name: twice
    when: amount > 1
  - name: twice
    when: amount > 2
)");
  EXPECT_THAT(message, HasSubstr("test.yaml:5: duplicate rule name 'twice'"));
}

TEST(RuleSetError, UnknownKeySuggests) {
  const std::string message = loadError(oneRule("    acton: block\n"));
  EXPECT_THAT(message, HasSubstr("test.yaml:5: unknown key 'acton' in rule 'r'"));
  EXPECT_THAT(message, HasSubstr("did you mean 'action'?"));
  EXPECT_THAT(message, HasSubstr("valid keys: name, description, when"));
}

TEST(RuleSetError, UnknownTopLevelKey) {
  const std::string message = loadError("versoin: \"1\"\nrules: []\n");
  EXPECT_THAT(message,
              HasSubstr("unknown key 'versoin' in the top level; did you mean 'version'?"));
}

TEST(RuleSetError, DuplicateKey) {
  const std::string message = loadError(oneRule("    score: 0.1\n    score: 0.2\n"));
  EXPECT_THAT(message, HasSubstr("key 'score' appears twice in rule 'r'"));
}

TEST(RuleSetError, BadScore) {
  for (const char* score : {"1.5", "-0.1", "abc", "0.5x", ".nan", "[0.1]"}) {
    const std::string message = loadError(oneRule(std::string("    score: ") + score + "\n"));
    EXPECT_THAT(message, HasSubstr("rule 'r'")) << score;
    EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("invalid score"),
                                          HasSubstr("`score` must be a single value")))
        << score;
  }
}

TEST(RuleSetError, ScoreBoundsAccepted) {
  EXPECT_EQ(RuleSet::parse(oneRule("    score: 0\n"), "t").rule(0).score, 0.0);
  EXPECT_EQ(RuleSet::parse(oneRule("    score: 1\n"), "t").rule(0).score, 1.0);
}

TEST(RuleSetError, BadAction) {
  const std::string message = loadError(oneRule("    action: deny\n"));
  EXPECT_THAT(message, HasSubstr("test.yaml:5: rule 'r': invalid action 'deny'"));
  EXPECT_THAT(message, HasSubstr("expected 'review' or 'block'"));
}

TEST(RuleSetError, UnknownCategory) {
  const std::string message = loadError(R"(version: "1"
rules:
  - name: wire
    when: category_code == category("WIRE")
)");
  EXPECT_THAT(message, HasSubstr("rule 'wire': invalid `when` at column 27"));
  EXPECT_THAT(message, HasSubstr("unknown category \"WIRE\"; valid names: CASH_IN, CASH_OUT"));
}

TEST(RuleSetError, BadBoolean) {
  const std::string message = loadError(oneRule("    enabled: maybe\n"));
  EXPECT_THAT(message, HasSubstr("invalid `enabled` 'maybe'; expected true or false"));

  // YAML 1.1 spellings mean different things to different parsers.
  EXPECT_THAT(loadError(oneRule("    exclude_from_history: yes\n")),
              HasSubstr("invalid `exclude_from_history` 'yes'"));
}

TEST(RuleSetError, BadReasonPlaceholder) {
  const std::string message = loadError(oneRule("    reason: \"moved {amout}\"\n"));
  EXPECT_THAT(message, HasSubstr("test.yaml:5: rule 'r': invalid `reason` at column 8"));
  EXPECT_THAT(message, HasSubstr("did you mean '{amount}'?"));
}

TEST(RuleSetError, BadName) {
  const std::string message =
      loadError("version: \"1\"\nrules:\n  - name: Burst-Velocity\n    when: amount > 1\n");
  EXPECT_THAT(message, HasSubstr("invalid name 'Burst-Velocity'"));
}

TEST(RuleSetError, MissingNameOrCondition) {
  EXPECT_THAT(loadError("version: \"1\"\nrules:\n  - when: amount > 1\n"),
              HasSubstr("missing `name:`"));
  EXPECT_THAT(loadError("version: \"1\"\nrules:\n  - name: r\n"), HasSubstr("missing `when:`"));
}

TEST(RuleSetError, EmptyRuleList) {
  EXPECT_THAT(loadError("version: \"1\"\nrules: []\n"), HasSubstr("the `rules:` list is empty"));
  EXPECT_THAT(loadError("version: \"1\"\n"), HasSubstr("missing `rules:`"));
}

TEST(RuleSetError, MissingVersion) {
  EXPECT_THAT(loadError("rules:\n  - name: r\n    when: amount > 1\n"),
              HasSubstr("missing `version:`"));
}

TEST(RuleSetError, EmptyFile) {
  EXPECT_THAT(loadError(""), HasSubstr("test.yaml:1: the file is empty"));
  EXPECT_THAT(loadError("- a\n- b\n"), HasSubstr("expected a mapping"));
}

TEST(RuleSetError, InvalidYaml) {
  const std::string message = loadError("version: \"1\"\nrules:\n  - name: [r\n");
  EXPECT_THAT(message, HasSubstr("test.yaml:"));
  EXPECT_THAT(message, HasSubstr("invalid YAML"));
}

TEST(RuleSetFile, LoadMatchesParse) {
  const std::filesystem::path path =
      std::filesystem::path(TXGUARD_BINARY_DIR) / "rules_test_load.yaml";
  {
    std::ofstream file(path, std::ios::binary);
    file << kThreeRules;
  }
  const RuleSet loaded = RuleSet::loadFile(path);
  EXPECT_EQ(loaded.version(), RuleSet::parse(kThreeRules, "x").version());
  EXPECT_EQ(loaded.origin(), path.string());
  std::filesystem::remove(path);
}

TEST(RuleSetFile, MissingFile) {
  try {
    RuleSet::loadFile("/nonexistent/rules.yaml");
    FAIL() << "expected RuleError";
  } catch (const RuleError& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot read rules file '/nonexistent/rules.yaml'"));
  }
}

}  // namespace
}  // namespace txguard
