#include "model/trainer.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <numeric>

#include "model/metrics.h"
#include "model/sha256.h"
#include "model/xgboost_check.h"

namespace txguard {
namespace {

constexpr std::string_view kSplitRule =
    "time-ordered: rows sorted by event time (ties in input order); the latest test_fraction of "
    "rows is held out, the rest trains";

void validate(const TrainingSet& data, const TrainOptions& options) {
  const std::size_t rows = data.rows.size();
  if (data.labels.size() != rows || data.timestamps_ms.size() != rows) {
    throw ModelError(fmt::format(
        "training set has {} rows, {} labels and {} timestamps; pass one of each per row", rows,
        data.labels.size(), data.timestamps_ms.size()));
  }
  for (std::size_t i = 0; i < rows; ++i) {
    if (data.labels[i] != 0 && data.labels[i] != 1) {
      throw ModelError(fmt::format(
          "training set: label {} at row {} is invalid; labels must be 0 or 1, drop unlabelled "
          "rows before training",
          data.labels[i], i));
    }
  }
  if (options.rounds < 1 || options.max_depth < 1 || options.nthread < 1) {
    throw ModelError(
        fmt::format("train: rounds ({}), max_depth ({}) and nthread ({}) must each be at least 1",
                    options.rounds, options.max_depth, options.nthread));
  }
  if (!(options.eta > 0.0 && options.eta <= 1.0)) {
    throw ModelError(fmt::format("train: eta {} is invalid; use a value in (0, 1]", options.eta));
  }
  if (!(options.review_recall_target > 0.0 && options.review_recall_target <= 1.0) ||
      !(options.block_precision_target > 0.0 && options.block_precision_target <= 1.0)) {
    throw ModelError("train: review_recall_target and block_precision_target must be in (0, 1]");
  }
}

std::string utcTimestamp(std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// "2026-12-04T10:15:00Z" -> "2026.12.04".
std::string versionDate(const std::string& created_at) {
  std::string date = created_at.substr(0, 10);
  std::replace(date.begin(), date.end(), '-', '.');
  return date;
}

std::map<std::string, std::string> boosterParameters(const TrainOptions& options,
                                                     double scale_pos_weight) {
  // fmt's "{}" prints the shortest text that reads back as the same double,
  // so the recorded values reproduce the run exactly.
  return {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(options.max_depth)},
      {"eta", fmt::format("{}", options.eta)},
      {"subsample", fmt::format("{}", options.subsample)},
      {"colsample_bytree", fmt::format("{}", options.colsample_bytree)},
      {"scale_pos_weight", fmt::format("{}", scale_pos_weight)},
      {"seed", std::to_string(options.seed)},
      {"nthread", std::to_string(options.nthread)},
  };
}

// Row-major float matrix of `columns` for the rows in `indices`.
std::vector<float> gatherMatrix(const TrainingSet& data, std::span<const std::size_t> indices,
                                std::span<const Feature> columns) {
  std::vector<float> matrix;
  matrix.reserve(indices.size() * columns.size());
  for (const std::size_t index : indices) {
    for (const Feature feature : columns) {
      matrix.push_back(data.rows[index][static_cast<std::size_t>(feature)]);
    }
  }
  return matrix;
}

// Trains the booster and returns its JSON model.
std::string trainBooster(const std::vector<float>& matrix, const std::vector<float>& labels,
                         const std::vector<std::string>& feature_names,
                         const std::map<std::string, std::string>& parameters, int rounds) {
  DMatrixGuard dtrain;
  checkXgboost(XGDMatrixCreateFromMat(matrix.data(), labels.size(), feature_names.size(),
                                      std::numeric_limits<float>::quiet_NaN(), dtrain.out()),
               "building the training matrix");
  checkXgboost(XGDMatrixSetFloatInfo(dtrain.get(), "label", labels.data(), labels.size()),
               "setting training labels");

  BoosterHandle raw_booster = nullptr;
  DMatrixHandle cache[] = {dtrain.get()};
  checkXgboost(XGBoosterCreate(cache, 1, &raw_booster), "creating an XGBoost booster");
  struct BoosterFree {
    BoosterHandle handle;
    ~BoosterFree() { XGBoosterFree(handle); }
  } booster{raw_booster};

  std::vector<const char*> names;
  for (const std::string& name : feature_names) names.push_back(name.c_str());
  checkXgboost(
      XGBoosterSetStrFeatureInfo(booster.handle, "feature_name", names.data(), names.size()),
      "setting feature names");
  for (const auto& [key, value] : parameters) {
    checkXgboost(XGBoosterSetParam(booster.handle, key.c_str(), value.c_str()),
                 fmt::format("setting XGBoost parameter {}={}", key, value));
  }
  for (int round = 0; round < rounds; ++round) {
    checkXgboost(XGBoosterUpdateOneIter(booster.handle, round, dtrain.get()),
                 fmt::format("boosting round {}", round));
  }

  bst_ulong length = 0;
  const char* json = nullptr;
  checkXgboost(XGBoosterSaveModelToBuffer(booster.handle, R"({"format":"json"})", &length, &json),
               "serialising the model to JSON");
  return std::string(json, length);
}

}  // namespace

TimeSplit splitByTime(std::span<const std::int64_t> timestamps_ms, double test_fraction) {
  const std::size_t rows = timestamps_ms.size();
  if (rows < 2) {
    throw ModelError(fmt::format(
        "time split: {} rows is too few; training and testing need at least one row each", rows));
  }
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
    throw ModelError(fmt::format("time split: test_fraction {} is invalid; use a value in (0, 1)",
                                 test_fraction));
  }

  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return timestamps_ms[a] < timestamps_ms[b];
  });

  const auto rounded_test_rows =
      static_cast<std::size_t>(std::llround(static_cast<double>(rows) * test_fraction));
  const std::size_t test_rows = std::clamp<std::size_t>(rounded_test_rows, 1, rows - 1);
  const auto boundary = order.begin() + static_cast<std::ptrdiff_t>(rows - test_rows);
  return TimeSplit{std::vector<std::size_t>(order.begin(), boundary),
                   std::vector<std::size_t>(boundary, order.end())};
}

std::vector<std::string> defaultFeatureNames(std::string_view dataset_kind) {
  std::vector<Feature> excluded;
  if (dataset_kind == "paysim") {
    // PaySim has no coordinates or locations. Its event time is the
    // simulator's hour counter (`step`), and legitimate rows exist only in
    // some hours while fraud is spread over all of them, so the time of day
    // would teach the model the simulator, not fraud.
    excluded = {Feature::location_changed, Feature::distance_from_previous_km,
                Feature::speed_from_previous_kmh, Feature::distance_from_home_km,
                Feature::hour_of_day, Feature::day_of_week};
  } else if (dataset_kind == "sparkov") {
    // Sparkov has no balances.
    excluded = {Feature::balance_before, Feature::balance_error, Feature::drains_balance,
                Feature::counterparty_balance_error, Feature::zero_balances};
  }

  std::vector<std::string> names;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    const auto feature = static_cast<Feature>(i);
    if (std::find(excluded.begin(), excluded.end(), feature) == excluded.end()) {
      names.emplace_back(kFeatureNames[i]);
    }
  }
  return names;
}

std::string trainingDataSha256(const TrainingSet& data) {
  Sha256 hash;
  for (const FeatureVector& row : data.rows) hash.update(row.data(), sizeof(float) * row.size());
  for (const int label : data.labels) {
    const auto value = static_cast<std::int32_t>(label);
    hash.update(&value, sizeof(value));
  }
  for (const std::int64_t timestamp : data.timestamps_ms) {
    hash.update(&timestamp, sizeof(timestamp));
  }
  return hash.finishHex();
}

double thresholdForRecall(std::span<const float> scores, std::span<const int> labels,
                          double target) {
  std::vector<float> positive_scores;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] == 1) positive_scores.push_back(scores[i]);
  }
  if (positive_scores.empty()) {
    throw ModelError(
        "review threshold: the held-out slice has no fraud, so no recall can be measured; use a "
        "larger test_fraction or set review_threshold");
  }
  std::sort(positive_scores.begin(), positive_scores.end(), std::greater<>());

  // The epsilon absorbs rounding in target * P (0.9 * 10 may land just above
  // 9), which ceil would turn into one positive too many.
  const double positives_needed =
      std::ceil(target * static_cast<double>(positive_scores.size()) - 1e-9);
  const std::size_t needed = std::clamp<std::size_t>(static_cast<std::size_t>(positives_needed), 1,
                                                     positive_scores.size());
  return positive_scores[needed - 1];
}

std::optional<double> thresholdForPrecision(std::span<const float> scores,
                                            std::span<const int> labels, double target) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });

  // Precision is not monotonic in the threshold, so every distinct score is
  // a candidate and the lowest qualifying one (the most recall) wins.
  std::optional<double> lowest;
  std::size_t tp = 0;
  std::size_t i = 0;
  while (i < order.size()) {
    const float score = scores[order[i]];
    while (i < order.size() && scores[order[i]] == score) {
      tp += static_cast<std::size_t>(labels[order[i]] == 1);
      ++i;
    }
    if (static_cast<double>(tp) >= target * static_cast<double>(i)) lowest = score;
  }
  return lowest;
}

Model train(const TrainingSet& data, const TrainOptions& options) {
  validate(data, options);
  const TimeSplit split = splitByTime(data.timestamps_ms, options.test_fraction);

  ModelMetadata metadata;
  metadata.name = options.name;
  metadata.dataset_kind = options.dataset_kind;
  metadata.features =
      options.features.empty() ? defaultFeatureNames(options.dataset_kind) : options.features;
  std::vector<Feature> columns;
  for (const std::string& name : metadata.features) {
    const std::optional<Feature> feature = featureByName(name);
    if (!feature) {
      throw ModelError(
          fmt::format("train: unknown feature \"{}\"; choose names from kFeatureNames in "
                      "features/feature_vector.h",
                      name));
    }
    columns.push_back(*feature);
  }

  for (std::size_t column = 0; column < columns.size(); ++column) {
    const auto feature = static_cast<std::size_t>(columns[column]);
    bool always_present = true;
    for (const std::size_t index : split.train) {
      if (std::isnan(data.rows[index][feature])) {
        always_present = false;
        break;
      }
    }
    if (always_present) metadata.required_features.push_back(metadata.features[column]);
  }

  std::vector<float> train_labels;
  std::size_t train_positives = 0;
  for (const std::size_t index : split.train) {
    train_labels.push_back(static_cast<float>(data.labels[index]));
    train_positives += static_cast<std::size_t>(data.labels[index]);
  }
  const std::size_t train_negatives = split.train.size() - train_positives;
  if (train_positives == 0 || train_negatives == 0) {
    throw ModelError(fmt::format(
        "train: the training part ({} rows before the held-out slice) has {} fraud and {} "
        "legitimate rows; it needs both, so use more data or a smaller test_fraction",
        split.train.size(), train_positives, train_negatives));
  }
  const double scale_pos_weight = options.scale_pos_weight.value_or(
      static_cast<double>(train_negatives) / static_cast<double>(train_positives));

  metadata.parameters = boosterParameters(options, scale_pos_weight);
  std::string model_json = trainBooster(gatherMatrix(data, split.train, columns), train_labels,
                                        metadata.features, metadata.parameters, options.rounds);
  metadata.parameters["num_boost_round"] = std::to_string(options.rounds);

  metadata.model_sha256 = sha256Hex(model_json);
  metadata.training_data_sha256 = trainingDataSha256(data);
  metadata.created_at = utcTimestamp(std::chrono::system_clock::now());
  metadata.version = fmt::format("{}-{}-{}", options.name, versionDate(metadata.created_at),
                                 metadata.model_sha256.substr(0, 8));
  metadata.xgboost_version = xgboostVersion();
  metadata.split_rule = kSplitRule;
  metadata.test_fraction = options.test_fraction;
  metadata.train_rows = split.train.size();
  metadata.test_rows = split.test.size();
  metadata.test_start_timestamp_ms = data.timestamps_ms[split.test.front()];

  // Score the held-out slice with the model as it will be loaded.
  Model unrated = Model::fromParts(model_json, metadata);
  std::vector<FeatureVector> test_rows;
  std::vector<int> test_labels;
  for (const std::size_t index : split.test) {
    test_rows.push_back(data.rows[index]);
    test_labels.push_back(data.labels[index]);
  }
  std::vector<float> scores;
  unrated.predict(test_rows, scores);

  if (options.review_threshold) {
    metadata.review_threshold = *options.review_threshold;
    metadata.review_threshold_rule = "fixed by the training options";
  } else {
    metadata.review_threshold =
        thresholdForRecall(scores, test_labels, options.review_recall_target);
    metadata.review_threshold_rule =
        fmt::format("highest score flagging at least {} of held-out fraud (recall)",
                    options.review_recall_target);
  }

  if (options.block_threshold) {
    metadata.block_threshold = *options.block_threshold;
    metadata.block_threshold_rule = "fixed by the training options";
  } else if (const auto chosen =
                 thresholdForPrecision(scores, test_labels, options.block_precision_target)) {
    metadata.block_threshold = *chosen;
    metadata.block_threshold_rule = fmt::format(
        "lowest score with held-out precision of at least {}", options.block_precision_target);
  } else {
    metadata.block_threshold = options.block_fallback;
    metadata.block_threshold_rule =
        fmt::format("fallback {}: no held-out score reached precision {}", options.block_fallback,
                    options.block_precision_target);
  }
  // A block threshold below the review threshold flags more rows than the
  // review threshold, so it already meets the recall target. Lowering the
  // review threshold to it keeps both guarantees (recall and precision);
  // raising the block threshold instead would lose the precision one.
  if (!options.review_threshold && metadata.block_threshold < metadata.review_threshold) {
    metadata.review_threshold = metadata.block_threshold;
    metadata.review_threshold_rule += "; lowered to the block threshold";
  }

  metadata.review_metrics = evaluateScores(scores, test_labels, metadata.review_threshold);
  metadata.block_metrics = evaluateScores(scores, test_labels, metadata.block_threshold);
  return Model::fromParts(std::move(model_json), std::move(metadata));
}

}  // namespace txguard
