// The outcome of scoring one transaction: what to do, how risky it is and
// why. Every output (decisions file, report, alert, API answer) is made
// from this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace txguard {

enum class Action : std::uint8_t { kAllow = 0, kReview = 1, kBlock = 2 };

std::string_view actionName(Action action);

// A rule that matched, with the text shown to analysts.
struct FiredRule {
  std::string name;
  std::string reason;
  double score = 0.0;
};

// One feature's share of the model's log-odds (XGBoost SHAP contribution).
struct FeatureContribution {
  std::string feature;
  float value = 0.0f;         // the feature's value for this transaction
  float contribution = 0.0f;  // log-odds added by this feature
};

struct Decision {
  std::string transaction_id;
  std::string account_display;  // account number or masked card number
  std::int64_t timestamp_ms = 0;
  double amount = 0.0;
  std::string location;

  Action action = Action::kAllow;
  double score = 0.0;        // final risk in [0, 1]
  double model_score = -1;   // model probability in [0, 1]; -1 when no model ran
  std::string model_version;
  std::string rules_version;

  std::vector<FiredRule> fired_rules;
  std::vector<FeatureContribution> top_contributions;

  // True when a rule kept this transaction out of the account's history,
  // as the earlier ACME system did with suspected frauds.
  bool excluded_from_history = false;

  // Ground truth copied from the input, -1 when unknown.
  int label = -1;
};

}  // namespace txguard
