// Identity, provenance and held-out quality of a trained model: the
// contents of metadata.json beside model.json.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/metrics.h"

namespace txguard {

// Bumped when a field changes meaning; load() rejects other values.
inline constexpr int kMetadataFormatVersion = 1;

struct ModelMetadata {
  int format_version = kMetadataFormatVersion;

  std::string name;          // model family, e.g. "paysim"; the S3 key prefix
  std::string version;       // "<name>-<YYYY.MM.DD>-<first 8 hex of model_sha256>"
  std::string dataset_kind;  // input format the model was trained on: "paysim", "sparkov"...

  // Model columns in order: names from kFeatureNames. Column i of model.json
  // is features[i].
  std::vector<std::string> features;

  // Model features that no training row was missing (NaN). A transaction
  // missing any of them is unlike the training data, e.g. an ACME row
  // without balances scored by the PaySim model, so the scorer does not
  // apply the model to it. Empty in metadata written before this field.
  std::vector<std::string> required_features;

  std::string model_sha256;          // SHA-256 of the model.json bytes
  std::string training_data_sha256;  // SHA-256 of the TrainingSet, see trainer.h

  std::uint64_t train_rows = 0;
  std::uint64_t test_rows = 0;
  std::string split_rule;  // how train and test rows were chosen, in words
  double test_fraction = 0.0;
  // Event time of the first held-out row, ms since the Unix epoch (UTC):
  // every training row is at or before it.
  std::int64_t test_start_timestamp_ms = 0;

  // XGBoost training parameters as passed to XGBoosterSetParam, plus
  // "num_boost_round".
  std::map<std::string, std::string> parameters;

  // Probability at or above which a transaction is reviewed / blocked,
  // and the rule that chose each value.
  double review_threshold = 0.5;
  double block_threshold = 0.9;
  std::string review_threshold_rule;
  std::string block_threshold_rule;

  // Held-out metrics with rows flagged at each threshold.
  QualityMetrics review_metrics;
  QualityMetrics block_metrics;

  std::string created_at;       // UTC, ISO 8601 ("2026-12-04T10:15:00Z")
  std::string xgboost_version;  // library that trained the model, "1.7.4"
};

// Serialises the metadata as indented JSON.
std::string metadataToJson(const ModelMetadata& metadata);

// Parses metadata.json. Throws ModelError naming the missing or mistyped
// field. Does not check feature names; Model does.
ModelMetadata metadataFromJson(std::string_view json);

}  // namespace txguard
