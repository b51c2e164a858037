#include "model/metadata.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "model/model_error.h"

namespace txguard {
namespace {

using nlohmann::json;

// JSON has no NaN; undefined metrics are stored as null.
json number(double value) {
  if (std::isnan(value)) return nullptr;
  return value;
}

json metricsToJson(const QualityMetrics& m) {
  return json{
      {"threshold", m.threshold},
      {"rows", m.rows},
      {"positives", m.positives},
      {"negatives", m.negatives},
      {"confusion",
       {{"tp", m.confusion.tp},
        {"fp", m.confusion.fp},
        {"tn", m.confusion.tn},
        {"fn", m.confusion.fn}}},
      {"precision", number(m.precision)},
      {"recall", number(m.recall)},
      {"f1", number(m.f1)},
      {"accuracy", number(m.accuracy)},
      {"roc_auc", number(m.roc_auc)},
      {"pr_auc", number(m.pr_auc)},
      {"auc_defined", m.auc_defined},
  };
}

// Reads `key` from `object`, naming the full field path on failure.
template <typename T>
T field(const json& object, std::string_view path, const char* key) {
  if (!object.is_object() || !object.contains(key)) {
    throw ModelError(fmt::format("metadata.json: missing field \"{}{}\"", path, key));
  }
  try {
    return object.at(key).get<T>();
  } catch (const json::exception& error) {
    throw ModelError(fmt::format("metadata.json: field \"{}{}\" has the wrong type: {}", path, key,
                                 error.what()));
  }
}

double nullableNumber(const json& object, std::string_view path, const char* key) {
  if (object.contains(key) && object.at(key).is_null()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return field<double>(object, path, key);
}

QualityMetrics metricsFromJson(const json& object, const std::string& path) {
  QualityMetrics m;
  m.threshold = field<double>(object, path, "threshold");
  m.rows = field<std::uint64_t>(object, path, "rows");
  m.positives = field<std::uint64_t>(object, path, "positives");
  m.negatives = field<std::uint64_t>(object, path, "negatives");
  const json confusion = field<json>(object, path, "confusion");
  const std::string confusion_path = path + "confusion.";
  m.confusion.tp = field<std::uint64_t>(confusion, confusion_path, "tp");
  m.confusion.fp = field<std::uint64_t>(confusion, confusion_path, "fp");
  m.confusion.tn = field<std::uint64_t>(confusion, confusion_path, "tn");
  m.confusion.fn = field<std::uint64_t>(confusion, confusion_path, "fn");
  m.precision = nullableNumber(object, path, "precision");
  m.recall = nullableNumber(object, path, "recall");
  m.f1 = nullableNumber(object, path, "f1");
  m.accuracy = nullableNumber(object, path, "accuracy");
  m.roc_auc = nullableNumber(object, path, "roc_auc");
  m.pr_auc = nullableNumber(object, path, "pr_auc");
  m.auc_defined = field<bool>(object, path, "auc_defined");
  return m;
}

}  // namespace

std::string metadataToJson(const ModelMetadata& metadata) {
  const json document = {
      {"format_version", metadata.format_version},
      {"name", metadata.name},
      {"version", metadata.version},
      {"dataset_kind", metadata.dataset_kind},
      {"features", metadata.features},
      {"required_features", metadata.required_features},
      {"model_sha256", metadata.model_sha256},
      {"training_data_sha256", metadata.training_data_sha256},
      {"split",
       {{"rule", metadata.split_rule},
        {"test_fraction", metadata.test_fraction},
        {"train_rows", metadata.train_rows},
        {"test_rows", metadata.test_rows},
        {"test_start_timestamp_ms", metadata.test_start_timestamp_ms}}},
      {"parameters", metadata.parameters},
      {"thresholds",
       {{"review", metadata.review_threshold},
        {"block", metadata.block_threshold},
        {"review_rule", metadata.review_threshold_rule},
        {"block_rule", metadata.block_threshold_rule}}},
      {"held_out_metrics",
       {{"at_review_threshold", metricsToJson(metadata.review_metrics)},
        {"at_block_threshold", metricsToJson(metadata.block_metrics)}}},
      {"created_at", metadata.created_at},
      {"xgboost_version", metadata.xgboost_version},
  };
  return document.dump(2) + "\n";
}

ModelMetadata metadataFromJson(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& error) {
    throw ModelError(fmt::format("metadata.json: invalid JSON: {}", error.what()));
  }
  if (!document.is_object()) {
    throw ModelError("metadata.json: expected a JSON object at the top level");
  }

  ModelMetadata metadata;
  metadata.format_version = field<int>(document, "", "format_version");
  if (metadata.format_version != kMetadataFormatVersion) {
    throw ModelError(fmt::format(
        "metadata.json: format_version {} is not supported; this build reads version {}, "
        "retrain the model or use a matching txguard build",
        metadata.format_version, kMetadataFormatVersion));
  }
  metadata.name = field<std::string>(document, "", "name");
  metadata.version = field<std::string>(document, "", "version");
  metadata.dataset_kind = field<std::string>(document, "", "dataset_kind");
  metadata.features = field<std::vector<std::string>>(document, "", "features");
  if (document.contains("required_features")) {
    metadata.required_features =
        field<std::vector<std::string>>(document, "", "required_features");
  }
  metadata.model_sha256 = field<std::string>(document, "", "model_sha256");
  metadata.training_data_sha256 = field<std::string>(document, "", "training_data_sha256");

  const json split = field<json>(document, "", "split");
  metadata.split_rule = field<std::string>(split, "split.", "rule");
  metadata.test_fraction = field<double>(split, "split.", "test_fraction");
  metadata.train_rows = field<std::uint64_t>(split, "split.", "train_rows");
  metadata.test_rows = field<std::uint64_t>(split, "split.", "test_rows");
  metadata.test_start_timestamp_ms =
      field<std::int64_t>(split, "split.", "test_start_timestamp_ms");

  metadata.parameters = field<std::map<std::string, std::string>>(document, "", "parameters");

  const json thresholds = field<json>(document, "", "thresholds");
  metadata.review_threshold = field<double>(thresholds, "thresholds.", "review");
  metadata.block_threshold = field<double>(thresholds, "thresholds.", "block");
  metadata.review_threshold_rule = field<std::string>(thresholds, "thresholds.", "review_rule");
  metadata.block_threshold_rule = field<std::string>(thresholds, "thresholds.", "block_rule");

  const json held_out = field<json>(document, "", "held_out_metrics");
  metadata.review_metrics =
      metricsFromJson(field<json>(held_out, "held_out_metrics.", "at_review_threshold"),
                      "held_out_metrics.at_review_threshold.");
  metadata.block_metrics =
      metricsFromJson(field<json>(held_out, "held_out_metrics.", "at_block_threshold"),
                      "held_out_metrics.at_block_threshold.");

  metadata.created_at = field<std::string>(document, "", "created_at");
  metadata.xgboost_version = field<std::string>(document, "", "xgboost_version");
  return metadata;
}

}  // namespace txguard
