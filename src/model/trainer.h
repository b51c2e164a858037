// Training of the fraud model: time-ordered split, XGBoost training,
// held-out metrics and threshold choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "features/feature_vector.h"
#include "model/model.h"

namespace txguard {

// Labelled rows in any order; index i of each vector is one transaction.
struct TrainingSet {
  std::vector<FeatureVector> rows;
  std::vector<int> labels;                  // 1 fraud, 0 legitimate
  std::vector<std::int64_t> timestamps_ms;  // event time, ms since the Unix epoch, UTC
};

struct TrainOptions {
  std::string name = "paysim";          // model family, first part of the version
  std::string dataset_kind = "paysim";  // recorded in the metadata; picks default features

  // Feature names the model uses, in column order. Empty means
  // defaultFeatureNames(dataset_kind).
  std::vector<std::string> features;

  // Fraction of rows, the latest by event time, held out for metrics and
  // thresholds. Must be in (0, 1).
  double test_fraction = 0.2;

  // XGBoost parameters (binary:logistic, tree_method hist).
  int max_depth = 6;
  double eta = 0.1;
  int rounds = 200;
  double subsample = 1.0;         // row sampling per tree; < 1 makes `seed` matter
  double colsample_bytree = 1.0;  // column sampling per tree
  // Weight of fraud rows. Unset means negatives / positives of the
  // training part, which balances the classes' total weight.
  std::optional<double> scale_pos_weight;
  std::uint64_t seed = 0;
  // XGBoost threads. The byte-identical model.json guarantee is tested with
  // 1 only.
  int nthread = 1;

  // review_threshold: the highest score that still flags
  // `review_recall_target` of the held-out frauds, unless set here.
  double review_recall_target = 0.9;
  std::optional<double> review_threshold;

  // block_threshold: the lowest score at which the held-out precision is at
  // least `block_precision_target`, unless set here; `block_fallback` when
  // no score reaches that precision.
  double block_precision_target = 0.9;
  std::optional<double> block_threshold;
  double block_fallback = 0.9;
};

// Indices into a TrainingSet, each part in event-time order.
struct TimeSplit {
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
};

// Sorts rows by timestamp (equal timestamps keep their input order) and
// puts the last round(size * test_fraction) rows, at least 1 and at most
// size - 1, in `test`. Throws ModelError with fewer than 2 rows or a
// fraction outside (0, 1).
TimeSplit splitByTime(std::span<const std::int64_t> timestamps_ms, double test_fraction);

// The feature subset trained by default for an input format: PaySim has
// balances but no locations, Sparkov the reverse. Any other kind gets all
// features.
std::vector<std::string> defaultFeatureNames(std::string_view dataset_kind);

// SHA-256 over the training set as held in memory, in input order: each
// row's kFeatureCount float32 values, then every label as int32, then every
// timestamp as int64, all in host byte order (little-endian on x86-64).
std::string trainingDataSha256(const TrainingSet& data);

// Trains, evaluates on the held-out slice and picks thresholds. The same
// data and options give a byte-identical model.json (with nthread 1).
// Throws ModelError on invalid input, e.g. no fraud in the training part.
Model train(const TrainingSet& data, const TrainOptions& options);

// Picks the review threshold: the score of the ceil(target * P)-th highest
// scoring positive, so that flagging score >= threshold reaches `target`
// recall. Throws ModelError when there are no positives.
double thresholdForRecall(std::span<const float> scores, std::span<const int> labels,
                          double target);

// Picks the block threshold: the lowest distinct score t at which the rows
// with score >= t have precision >= `target`; nullopt when none does.
std::optional<double> thresholdForPrecision(std::span<const float> scores,
                                            std::span<const int> labels, double target);

}  // namespace txguard
