#include "decision/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "features/feature_extractor.h"
#include "model/model.h"

namespace txguard {

std::string_view actionName(Action action) {
  switch (action) {
    case Action::kAllow:
      return "allow";
    case Action::kReview:
      return "review";
    case Action::kBlock:
      return "block";
  }
  return "unknown";
}

double combineScores(double model_score, double rules_score) {
  if (model_score < 0) return std::clamp(rules_score, 0.0, 1.0);
  const double combined = 1.0 - (1.0 - model_score) * (1.0 - rules_score);
  return std::clamp(combined, 0.0, 1.0);
}

Scorer::Scorer(const RuleSet& rules, const Model* model, ScorerOptions options)
    : rules_(rules),
      model_(model),
      options_(options),
      review_threshold_(options.review_threshold),
      block_threshold_(options.block_threshold) {
  if (model_ != nullptr) {
    model_version_ = model_->metadata().version;
    review_threshold_ = model_->metadata().review_threshold;
    block_threshold_ = model_->metadata().block_threshold;
    for (const std::string& name : model_->metadata().required_features) {
      if (const auto feature = featureByName(name)) required_features_.push_back(*feature);
    }
  }
}

bool Scorer::modelApplies(const FeatureVector& features) const {
  if (model_ == nullptr) return false;
  for (Feature feature : required_features_) {
    if (std::isnan(featureValue(features, feature))) return false;
  }
  return true;
}

const std::string& Scorer::rulesVersion() const { return rules_.version(); }

void Scorer::prepare(const Transaction& transaction, AccountState& state,
                     PendingDecision& pending) const {
  PreviousTransaction& previous = pending.previous;
  previous.present = state.hasLast();
  if (previous.present) {
    previous.id.assign(state.lastId());
    previous.timestamp_ms = state.lastTimestampMs();
    previous.amount = state.lastAmount();
    previous.location.assign(state.lastLocation());
  }

  computeFeatures(transaction, state, pending.features);
  // A value beyond float range (an amount of 1e200) becomes infinite as a
  // float feature, and XGBoost rejects a batch holding one. The largest
  // float keeps the rules' comparisons true ("amount > 1000") and the
  // prediction finite.
  for (float& value : pending.features) {
    if (std::isinf(value)) {
      value = value > 0 ? std::numeric_limits<float>::max() : std::numeric_limits<float>::lowest();
    }
  }
  rules_.evaluate(pending.features, pending.rules);
  if (!pending.rules.exclude_from_history) state.record(transaction);
}

void Scorer::prepareBatch(std::span<const Transaction> transactions,
                          std::span<AccountState* const> states,
                          std::span<PendingDecision> pending) const {
  // Rows ahead whose states are prefetched: enough to cover a memory load
  // while the current row is scored (about 0.3 us each), few enough that
  // the prefetched states (512 bytes each) stay in L1 and L2.
  constexpr std::size_t kLookahead = 4;
  for (std::size_t i = 0; i < transactions.size(); ++i) {
    if (i + kLookahead < transactions.size()) {
      const char* ahead = reinterpret_cast<const char*>(states[i + kLookahead]);
      for (std::size_t offset = 0; offset < sizeof(AccountState); offset += 64) {
        __builtin_prefetch(ahead + offset, 1, 3);
      }
    }
    prepare(transactions[i], *states[i], pending[i]);
  }
}

void Scorer::decide(std::span<const Transaction> transactions,
                    std::span<const PendingDecision> pending, std::vector<Decision>& decisions) {
  const std::size_t count = transactions.size();
  decisions.resize(count);

  probabilities_.clear();
  if (model_ != nullptr && count > 0) {
    feature_rows_.resize(count);
    for (std::size_t i = 0; i < count; ++i) feature_rows_[i] = pending[i].features;
    model_->predict(feature_rows_, probabilities_);
  }

  flagged_rows_.clear();
  for (std::size_t i = 0; i < count; ++i) {
    const Transaction& transaction = transactions[i];
    const PendingDecision& step = pending[i];
    Decision& decision = decisions[i];

    decision.transaction_id = transaction.id;
    decision.account_display = transaction.account_display;
    decision.timestamp_ms = transaction.timestamp_ms;
    decision.amount = transaction.amount;
    decision.location = transaction.location;
    const bool model_applies = !probabilities_.empty() && modelApplies(step.features);
    decision.model_version = model_applies ? model_version_ : std::string();
    decision.rules_version = rules_.version();
    decision.label = static_cast<int>(transaction.label);
    decision.excluded_from_history = step.rules.exclude_from_history;

    decision.model_score = model_applies ? probabilities_[i] : -1.0;
    decision.score = combineScores(decision.model_score, step.rules.score);

    // The thresholds are calibrated on what they are compared with: the
    // model's thresholds on its probability (chosen on held-out data), the
    // fixed ones on the rules' score when no model scored the row. A rule's
    // action is a floor either way.
    const double thresholded = model_applies ? decision.model_score : decision.score;
    const double block_threshold = model_applies ? block_threshold_ : options_.block_threshold;
    const double review_threshold = model_applies ? review_threshold_ : options_.review_threshold;
    Action action = step.rules.action;
    if (thresholded >= block_threshold) {
      action = Action::kBlock;
    } else if (thresholded >= review_threshold && action == Action::kAllow) {
      action = Action::kReview;
    }
    decision.action = action;

    decision.fired_rules.clear();
    for (std::uint16_t rule_index : step.rules.fired) {
      const Rule& rule = rules_.rule(rule_index);
      decision.fired_rules.push_back(
          FiredRule{rule.name, rules_.renderReason(rule_index, step.features), rule.score});
    }
    decision.top_contributions.clear();
    if (action != Action::kAllow && model_applies) flagged_rows_.push_back(i);
  }

  // Contributions cost far more than a prediction, so only the transactions
  // an analyst will look at get them.
  if (model_ != nullptr && !flagged_rows_.empty() && options_.top_contributions > 0) {
    flagged_features_.clear();
    for (std::size_t row : flagged_rows_) flagged_features_.push_back(pending[row].features);
    model_->topContributions(flagged_features_, options_.top_contributions, contributions_);
    for (std::size_t j = 0; j < flagged_rows_.size(); ++j) {
      decisions[flagged_rows_[j]].top_contributions = std::move(contributions_[j]);
    }
  }
}

}  // namespace txguard
