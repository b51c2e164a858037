// The scoring engine shared by the batch CLI, the API and the workers:
// features from the account's history, rules, the model, and the decision.
// It includes nothing of files, HTTP, AMQP, Redis or S3.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "decision/decision.h"
#include "features/account_state.h"
#include "features/feature_vector.h"
#include "rules/rule_set.h"
#include "transaction/transaction.h"

namespace txguard {

class Model;

// The account's previous accepted transaction, as the fraud report shows it.
struct PreviousTransaction {
  bool present = false;
  std::string id;
  std::int64_t timestamp_ms = 0;
  double amount = 0.0;
  std::string location;
};

struct ScorerOptions {
  // Used when no model is loaded; with a model, its metadata's thresholds win.
  double review_threshold = 0.5;
  double block_threshold = 0.9;
  // Feature contributions kept per reviewed or blocked transaction.
  std::size_t top_contributions = 3;
};

// One transaction after the first pass (features and rules, state updated).
struct PendingDecision {
  FeatureVector features{};
  RuleEvaluation rules;
  PreviousTransaction previous;
};

class Scorer {
 public:
  // `model` may be null (rules only). Both must outlive the scorer.
  Scorer(const RuleSet& rules, const Model* model, ScorerOptions options = {});

  // First pass, in event order: computes the features from `state`, runs the
  // rules, and records the transaction in `state` unless a rule excludes it.
  void prepare(const Transaction& transaction, AccountState& state, PendingDecision& pending) const;

  // prepare() for each transaction of a batch, in order, with states[i]
  // the state of transactions[i] (the same pointer when an account repeats
  // in the batch). Prefetches the states of later rows, because with many
  // accounts a state is rarely in cache and loading it costs more than the
  // features. Precondition: the three spans have the same size.
  void prepareBatch(std::span<const Transaction> transactions,
                    std::span<AccountState* const> states,
                    std::span<PendingDecision> pending) const;

  // Second pass over a batch: one batched model prediction, then a decision
  // per transaction. `decisions` is resized to the batch size.
  void decide(std::span<const Transaction> transactions, std::span<const PendingDecision> pending,
              std::vector<Decision>& decisions);

  const std::string& modelVersion() const { return model_version_; }

  // True when the model is loaded and the row has every feature the model
  // never saw missing in training (ModelMetadata::required_features).
  // Other rows are decided by the rules alone, with the default thresholds.
  bool modelApplies(const FeatureVector& features) const;
  const std::string& rulesVersion() const;
  double reviewThreshold() const { return review_threshold_; }
  double blockThreshold() const { return block_threshold_; }

 private:
  const RuleSet& rules_;
  const Model* model_;
  ScorerOptions options_;
  std::string model_version_;
  double review_threshold_;
  double block_threshold_;
  std::vector<Feature> required_features_;

  // Reused between batches so that decide() does not allocate per call.
  std::vector<FeatureVector> feature_rows_;
  std::vector<float> probabilities_;
  std::vector<std::size_t> flagged_rows_;
  std::vector<FeatureVector> flagged_features_;
  std::vector<std::vector<FeatureContribution>> contributions_;
};

// Combines the model's probability and the rules' score as independent
// evidence: 1 - (1 - p)(1 - r). Without a model, the rules' score alone.
// This is the score a decision reports; the action comes from the rules'
// actions and the thresholds (see Scorer::decide).
double combineScores(double model_score, double rules_score);

}  // namespace txguard
