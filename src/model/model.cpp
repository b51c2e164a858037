#include "model/model.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <system_error>
#include <utility>

#include "model/sha256.h"
#include "model/xgboost_check.h"

namespace txguard {
namespace {

// In-place prediction settings: "type" 0 is the probability; the missing
// value is NaN, as in FeatureVector. cache_id must be 0 in XGBoost 1.7.
constexpr const char* kPredictConfig =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
    R"("strict_shape":false,"missing":NaN,"cache_id":0})";

// "type" 3 is approximate contributions (pred_contribs with
// approx_contribs: Saabas's method, which walks each row's path once per
// tree). Exact TreeSHAP ("type" 2) ran at about 1 % of the prediction
// rate, so reasons for every flagged row would dominate a run. Both sum to
// the margin. XGBoost 1.7 rejects contributions in in-place prediction, so
// they go through a DMatrix.
// Probe rows on which the TreeEnsemble copy must match XGBoost at load.
constexpr std::size_t kTreeCheckRows = 512;

constexpr const char* kContributionsConfig =
    R"({"type":3,"training":false,"iteration_begin":0,"iteration_end":0,)"
    R"("strict_shape":false})";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ModelError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    throw ModelError(fmt::format("reading {} failed", path.string()));
  }
  return std::move(contents).str();
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw ModelError(
          fmt::format("cannot create {}: {}", temporary.string(), std::strerror(errno)));
    }
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      throw ModelError(
          fmt::format("writing {} failed: {}", temporary.string(), std::strerror(errno)));
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    throw ModelError(fmt::format("renaming {} to {} failed: {}", temporary.string(), path.string(),
                                 error.message()));
  }
}

std::vector<Feature> resolveFeatures(const std::vector<std::string>& names) {
  if (names.empty()) {
    throw ModelError("metadata.json: \"features\" is empty; a model needs at least one feature");
  }
  std::vector<Feature> features;
  features.reserve(names.size());
  for (const std::string& name : names) {
    const std::optional<Feature> feature = featureByName(name);
    if (!feature) {
      throw ModelError(fmt::format(
          "metadata.json: unknown feature \"{}\"; this build computes only the features in "
          "src/features/feature_vector.h, so the model needs a build that has \"{}\" or must be "
          "retrained",
          name, name));
    }
    if (std::find(features.begin(), features.end(), *feature) != features.end()) {
      throw ModelError(fmt::format("metadata.json: feature \"{}\" is listed twice", name));
    }
    features.push_back(*feature);
  }
  return features;
}

// Frees the booster unless released, so fromParts() cannot leak on a throw.
class BoosterGuard {
 public:
  BoosterGuard() = default;
  ~BoosterGuard() {
    if (handle_ != nullptr) XGBoosterFree(handle_);
  }
  BoosterGuard(const BoosterGuard&) = delete;
  BoosterGuard& operator=(const BoosterGuard&) = delete;

  BoosterHandle* out() { return &handle_; }
  BoosterHandle get() const { return handle_; }
  BoosterHandle release() { return std::exchange(handle_, nullptr); }

 private:
  BoosterHandle handle_ = nullptr;
};

// Rejects models this class would misread or cannot vouch for: predict()
// returns probabilities only for binary:logistic, and the trainer makes
// and the tests cover gbtree boosters only.
void checkBoosterKind(BoosterHandle booster) {
  bst_ulong length = 0;
  const char* config = nullptr;
  checkXgboost(XGBoosterSaveJsonConfig(booster, &length, &config), "reading the booster config");
  std::string objective;
  std::string booster_name;
  try {
    const nlohmann::json parsed = nlohmann::json::parse(std::string_view(config, length));
    objective = parsed.at("learner").at("objective").at("name").get<std::string>();
    booster_name = parsed.at("learner").at("gradient_booster").at("name").get<std::string>();
  } catch (const nlohmann::json::exception& error) {
    throw ModelError(
        fmt::format("model.json: cannot read the objective and booster: {}", error.what()));
  }

  if (objective != "binary:logistic") {
    throw ModelError(fmt::format(
        "model.json: objective is \"{}\"; txguard needs a binary:logistic model", objective));
  }
  if (booster_name != "gbtree") {
    throw ModelError(
        fmt::format("model.json: booster is \"{}\"; txguard needs a gbtree model", booster_name));
  }
}

void checkFeatureCount(BoosterHandle booster, const ModelMetadata& metadata) {
  bst_ulong columns = 0;
  checkXgboost(XGBoosterGetNumFeature(booster, &columns), "reading the model's feature count");
  if (columns != metadata.features.size()) {
    throw ModelError(fmt::format(
        "model.json has {} feature columns but metadata.json lists {} features; the files are "
        "from different models",
        columns, metadata.features.size()));
  }

  // Models trained here carry the names too; older or foreign models may not.
  bst_ulong name_count = 0;
  const char** names = nullptr;
  checkXgboost(XGBoosterGetStrFeatureInfo(booster, "feature_name", &name_count, &names),
               "reading the model's feature names");
  if (name_count == 0) return;
  for (bst_ulong i = 0; i < name_count && i < columns; ++i) {
    if (metadata.features[i] != names[i]) {
      throw ModelError(fmt::format(
          "model.json names column {} \"{}\" but metadata.json names it \"{}\"; the files are "
          "from different models",
          i, names[i], metadata.features[i]));
    }
  }
}

}  // namespace

Model::Model(BoosterHandle booster, std::string model_json, ModelMetadata metadata,
             std::vector<Feature> features)
    : booster_(booster),
      model_json_(std::move(model_json)),
      metadata_(std::move(metadata)),
      features_(std::move(features)) {}

Model::Model(Model&& other) noexcept
    : booster_(std::exchange(other.booster_, nullptr)),
      model_json_(std::move(other.model_json_)),
      metadata_(std::move(other.metadata_)),
      features_(std::move(other.features_)),
      trees_(std::move(other.trees_)) {}

Model& Model::operator=(Model&& other) noexcept {
  if (this != &other) {
    if (booster_ != nullptr) XGBoosterFree(booster_);
    booster_ = std::exchange(other.booster_, nullptr);
    model_json_ = std::move(other.model_json_);
    metadata_ = std::move(other.metadata_);
    features_ = std::move(other.features_);
    trees_ = std::move(other.trees_);
  }
  return *this;
}

Model::~Model() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

Model Model::load(const std::filesystem::path& dir) {
  const std::filesystem::path model_path = dir / kModelFileName;
  const std::filesystem::path metadata_path = dir / kMetadataFileName;
  for (const auto& path : {model_path, metadata_path}) {
    if (!std::filesystem::is_regular_file(path)) {
      throw ModelError(fmt::format(
          "model directory {} has no {}; it must contain the model.json and metadata.json that "
          "Model::save writes",
          dir.string(), path.filename().string()));
    }
  }

  const std::string model_json = readFile(model_path);
  const std::string metadata_json = readFile(metadata_path);
  try {
    return loadFromMemory(model_json, metadata_json);
  } catch (const ModelError& error) {
    throw ModelError(fmt::format("loading the model in {}: {}", dir.string(), error.what()));
  }
}

Model Model::loadFromMemory(std::string_view model_json, std::string_view metadata_json) {
  return fromParts(std::string(model_json), metadataFromJson(metadata_json));
}

Model Model::fromParts(std::string model_json, ModelMetadata metadata) {
  std::vector<Feature> features = resolveFeatures(metadata.features);

  const std::string digest = sha256Hex(model_json);
  if (digest != metadata.model_sha256) {
    throw ModelError(fmt::format(
        "model.json does not match metadata.json: its SHA-256 is {} but metadata.json expects "
        "{}; the file is corrupt or the two files are from different models, so copy both from "
        "the same training run",
        digest, metadata.model_sha256));
  }

  BoosterGuard booster;
  checkXgboost(XGBoosterCreate(nullptr, 0, booster.out()), "creating an XGBoost booster");
  checkXgboost(XGBoosterLoadModelFromBuffer(booster.get(), model_json.data(), model_json.size()),
               "parsing model.json");
  checkBoosterKind(booster.get());
  checkFeatureCount(booster.get(), metadata);

  // One thread per call: callers score batches on their own threads, so
  // XGBoost's OpenMP threads would only compete with them for cores.
  checkXgboost(XGBoosterSetParam(booster.get(), "nthread", "1"), "setting nthread");

  Model model(booster.release(), std::move(model_json), std::move(metadata), std::move(features));

  // The first prediction configures the learner. Doing it here keeps that
  // one-time step out of concurrent predict() calls.
  FeatureVector warm_up;
  warm_up.fill(std::numeric_limits<float>::quiet_NaN());
  std::vector<float> ignored;
  model.predictWithXgboost(std::span<const FeatureVector>(&warm_up, 1), ignored);

  // The tree copy serves predict() only when it gives XGBoost's
  // probabilities, bit for bit, on rows that sit on the split conditions.
  if (std::optional<TreeEnsemble> trees =
          TreeEnsemble::fromJson(model.model_json_, model.features_)) {
    const std::vector<FeatureVector> probes = trees->probeRows(kTreeCheckRows);
    std::vector<float> expected;
    model.predictWithXgboost(probes, expected);
    std::vector<float> actual(probes.size());
    trees->predict(probes, actual);
    if (actual == expected) model.trees_ = std::move(trees);
  }
  return model;
}

void Model::save(const std::filesystem::path& dir) const {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw ModelError(
        fmt::format("cannot create model directory {}: {}", dir.string(), error.message()));
  }
  writeFileAtomically(dir / kModelFileName, model_json_);
  writeFileAtomically(dir / kMetadataFileName, metadataToJson(metadata_));
}

const std::vector<float>& Model::selectColumns(std::span<const FeatureVector> rows) const {
  thread_local std::vector<float> buffer;
  const std::size_t columns = features_.size();
  buffer.resize(rows.size() * columns);
  float* out = buffer.data();
  for (const FeatureVector& row : rows) {
    for (const Feature feature : features_) {
      *out++ = row[static_cast<std::size_t>(feature)];
    }
  }
  return buffer;
}

void Model::predict(std::span<const FeatureVector> rows, std::vector<float>& probabilities) const {
  if (!trees_) {
    predictWithXgboost(rows, probabilities);
    return;
  }
  probabilities.resize(rows.size());
  trees_->predict(rows, probabilities);
}

void Model::predictWithXgboost(std::span<const FeatureVector> rows,
                               std::vector<float>& probabilities) const {
  probabilities.resize(rows.size());
  if (rows.empty()) return;

  const std::vector<float>& matrix = selectColumns(rows);

  // NumPy __array_interface__ (version 3) describing `matrix`: C-order
  // float32, read-only.
  char interface[160];
  const int written = std::snprintf(
      interface, sizeof(interface),
      R"({"data":[%ju,true],"shape":[%zu,%zu],"strides":null,"typestr":"<f4","version":3})",
      static_cast<std::uintmax_t>(reinterpret_cast<std::uintptr_t>(matrix.data())), rows.size(),
      features_.size());
  if (written < 0 || static_cast<std::size_t>(written) >= sizeof(interface)) {
    throw ModelError("predict: array interface description does not fit its buffer");
  }

  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  checkXgboost(XGBoosterPredictFromDense(booster_, interface, kPredictConfig, nullptr, &shape,
                                         &dimensions, &result),
               "XGBoost prediction");
  if (dimensions != 1 || shape[0] != rows.size()) {
    throw ModelError(
        fmt::format("predict: XGBoost returned {} dimensions for {} rows; expected "
                    "one probability per row",
                    dimensions, rows.size()));
  }
  // `result` points into XGBoost's thread-local storage; copy before the next call.
  std::copy(result, result + rows.size(), probabilities.begin());
}

void Model::contributions(std::span<const FeatureVector> rows, std::vector<float>& values) const {
  const std::size_t width = features_.size() + 1;
  values.resize(rows.size() * width);
  if (rows.empty()) return;

  const std::vector<float>& matrix = selectColumns(rows);
  DMatrixGuard dmatrix;
  checkXgboost(
      XGDMatrixCreateFromMat_omp(matrix.data(), rows.size(), features_.size(),
                                 std::numeric_limits<float>::quiet_NaN(), dmatrix.out(), 1),
      "building the contributions matrix");

  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  checkXgboost(XGBoosterPredictFromDMatrix(booster_, dmatrix.get(), kContributionsConfig, &shape,
                                           &dimensions, &result),
               "XGBoost contribution prediction");
  if (dimensions != 2 || shape[0] != rows.size() || shape[1] != width) {
    throw ModelError(
        fmt::format("contributions: XGBoost returned {} dimensions for {} rows; expected {} x {}",
                    dimensions, rows.size(), rows.size(), width));
  }
  std::copy(result, result + values.size(), values.begin());
}

void Model::topContributions(std::span<const FeatureVector> rows, std::size_t k,
                             std::vector<std::vector<FeatureContribution>>& out) const {
  out.resize(rows.size());
  thread_local std::vector<float> values;
  contributions(rows, values);

  const std::size_t columns = features_.size();
  const std::size_t width = columns + 1;
  const std::size_t top_count = std::min(k, columns);
  std::vector<std::size_t> order(columns);
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const float* row_values = values.data() + row * width;
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top_count),
                      order.end(), [row_values](std::size_t a, std::size_t b) {
                        const float magnitude_a = std::fabs(row_values[a]);
                        const float magnitude_b = std::fabs(row_values[b]);
                        if (magnitude_a != magnitude_b) return magnitude_a > magnitude_b;
                        return a < b;
                      });

    std::vector<FeatureContribution>& top = out[row];
    top.clear();
    for (std::size_t i = 0; i < top_count; ++i) {
      const std::size_t column = order[i];
      const Feature feature = features_[column];
      top.push_back(FeatureContribution{
          .feature = std::string(kFeatureNames[static_cast<std::size_t>(feature)]),
          .value = rows[row][static_cast<std::size_t>(feature)],
          .contribution = row_values[column],
      });
    }
  }
}

}  // namespace txguard
