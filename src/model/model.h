// A trained XGBoost fraud model with its metadata: loading, saving, batch
// prediction and per-row feature contributions.
#pragma once

#include <xgboost/c_api.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decision/decision.h"
#include "features/feature_vector.h"
#include "model/metadata.h"
#include "model/model_error.h"
#include "model/tree_ensemble.h"

namespace txguard {

inline constexpr std::string_view kModelFileName = "model.json";
inline constexpr std::string_view kMetadataFileName = "metadata.json";

// Owns an XGBoost booster (binary:logistic, gbtree) and the metadata it was
// saved with. Movable, not copyable.
//
// Thread safety: predict(), contributions() and topContributions() may run
// concurrently on one Model. XGBoost documents prediction as thread safe for
// gbtree and dart boosters since 1.4 (doc/prediction.rst, "Thread Safety",
// 1.7 release), load rejects non-gbtree models, and this class keeps its
// scratch buffers thread_local. The booster's parameters are set once
// during load and never changed afterwards, because changing them while
// another thread predicts is undefined in XGBoost. Moving or destroying a
// Model while another thread uses it is a data race.
//
// NOTE: do not destroy a Model during static destruction (a Model in a
// static or namespace-scope variable). XGBoost 1.7 keeps per-booster
// prediction buffers in a thread-local map, which the C++ runtime destroys
// before statics at exit, and XGBoosterFree erases from that map: a double
// free under AddressSanitizer. Keep models in objects owned by main() or
// later, or leak them deliberately.
class Model {
 public:
  // Loads <dir>/model.json and <dir>/metadata.json. Throws ModelError
  // naming the file and the problem.
  static Model load(const std::filesystem::path& dir);

  // Same as load() for files already in memory (e.g. fetched from S3).
  static Model loadFromMemory(std::string_view model_json, std::string_view metadata_json);

  // Builds a model from XGBoost's JSON model and parsed metadata; load()
  // and the trainer use this. Checks that metadata.model_sha256 matches
  // `model_json`, that every feature name is known, and that the booster
  // has as many columns as metadata.features.
  static Model fromParts(std::string model_json, ModelMetadata metadata);

  Model(Model&& other) noexcept;
  Model& operator=(Model&& other) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  // Writes <dir>/model.json (the exact bytes that were loaded or trained)
  // and <dir>/metadata.json, creating `dir` if needed. Each file is written
  // to a temporary name and renamed, so a reader never sees half a file.
  void save(const std::filesystem::path& dir) const;

  const ModelMetadata& metadata() const { return metadata_; }
  const std::string& modelJson() const { return model_json_; }
  // The model's columns, in the order of metadata().features.
  const std::vector<Feature>& features() const { return features_; }

  // Fraud probability per row, in [0, 1]. NaN features are missing values.
  // `probabilities` is resized to rows.size(). Uses the model's TreeEnsemble
  // copy when loading built one and it matched XGBoost on probe rows, else
  // XGBoost.
  void predict(std::span<const FeatureVector> rows, std::vector<float>& probabilities) const;

  // predict() through XGBoost's in-place prediction, whatever predict()
  // uses; the reference that the TreeEnsemble copy is checked against.
  void predictWithXgboost(std::span<const FeatureVector> rows,
                          std::vector<float>& probabilities) const;

  // True when predict() evaluates the TreeEnsemble copy.
  bool usesTreeEnsemble() const { return trees_.has_value(); }

  // Approximate (Saabas) feature contributions in log-odds, row-major:
  // features().size() + 1 values
  // per row, the last one being the bias. A row's values sum to its margin,
  // log(p / (1 - p)).
  void contributions(std::span<const FeatureVector> rows, std::vector<float>& values) const;

  // The `k` features with the largest |contribution| per row, largest first
  // (ties by column order), bias excluded. `out` is resized to rows.size().
  void topContributions(std::span<const FeatureVector> rows, std::size_t k,
                        std::vector<std::vector<FeatureContribution>>& out) const;

 private:
  Model(BoosterHandle booster, std::string model_json, ModelMetadata metadata,
        std::vector<Feature> features);

  // Copies the model's columns of `rows` into a thread_local row-major
  // buffer and returns it.
  const std::vector<float>& selectColumns(std::span<const FeatureVector> rows) const;

  BoosterHandle booster_ = nullptr;
  std::string model_json_;
  ModelMetadata metadata_;
  std::vector<Feature> features_;
  std::optional<TreeEnsemble> trees_;
};

}  // namespace txguard
