#include "model/tree_ensemble.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace txguard {
namespace {

// Rows walked through a tree together. 64 rows of 26 floats and their node
// indices stay in L1, and a tree of up to a few hundred nodes does too.
constexpr std::size_t kBlockRows = 64;
// Rows per AVX2 vector of 32-bit lanes.
constexpr std::size_t kVectorRows = 8;

// XGBoost writes numbers in learner_model_param as strings ("5E-1").
std::optional<float> parseFloat(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  try {
    std::size_t used = 0;
    const std::string text = value.get<std::string>();
    const float parsed = std::stof(text, &used);
    if (used != text.size()) return std::nullopt;
    return parsed;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool isStringNumber(const nlohmann::json& object, const char* key, std::string_view expected) {
  const auto found = object.find(key);
  return found == object.end() || (found->is_string() && found->get<std::string>() == expected);
}

}  // namespace

std::optional<TreeEnsemble> TreeEnsemble::fromJson(std::string_view model_json,
                                                   std::span<const Feature> columns) {
  const nlohmann::json root =
      nlohmann::json::parse(model_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return std::nullopt;

  try {
    const nlohmann::json& learner = root.at("learner");
    if (learner.at("objective").at("name") != "binary:logistic") return std::nullopt;
    const nlohmann::json& parameters = learner.at("learner_model_param");
    if (!isStringNumber(parameters, "num_class", "0") ||
        !isStringNumber(parameters, "num_target", "1")) {
      return std::nullopt;
    }
    const std::optional<float> base_score = parseFloat(parameters.at("base_score"));
    if (!base_score || !(*base_score > 0.0f && *base_score < 1.0f)) return std::nullopt;

    const nlohmann::json& booster = learner.at("gradient_booster");
    if (booster.at("name") != "gbtree") return std::nullopt;
    const nlohmann::json& model = booster.at("model");
    if (!isStringNumber(model.at("gbtree_model_param"), "num_parallel_tree", "1")) {
      return std::nullopt;
    }

    TreeEnsemble ensemble;
    // XGBoost's ProbToMargin for binary:logistic, in float as it computes it.
    ensemble.base_margin_ = -std::log(1.0f / *base_score - 1.0f);

    for (const nlohmann::json& tree : model.at("trees")) {
      const auto lefts = tree.at("left_children").get<std::vector<std::int64_t>>();
      const auto rights = tree.at("right_children").get<std::vector<std::int64_t>>();
      const auto split_columns = tree.at("split_indices").get<std::vector<std::int64_t>>();
      const auto conditions = tree.at("split_conditions").get<std::vector<float>>();
      const auto default_lefts = tree.at("default_left").get<std::vector<int>>();
      const std::size_t count = lefts.size();
      if (count == 0 || rights.size() != count || split_columns.size() != count ||
          conditions.size() != count || default_lefts.size() != count) {
        return std::nullopt;
      }
      if (tree.contains("split_type")) {
        for (int type : tree.at("split_type").get<std::vector<int>>()) {
          if (type != 0) return std::nullopt;  // categorical split
        }
      }

      Tree placed;
      placed.root = static_cast<std::uint32_t>(ensemble.split_.size());
      // depth[i] of each node, filled from the root down; XGBoost numbers a
      // child after its parent, which the check below relies on.
      std::vector<std::uint32_t> depth(count, 0);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t index = placed.root + i;
        if (index + 1 >= (std::size_t{1} << (32 - kLeftShift))) return std::nullopt;
        if (lefts[i] == -1) {
          ensemble.packed_.push_back(static_cast<std::uint32_t>(index) << kLeftShift |
                                     kDefaultLeftBit);
          ensemble.split_.push_back(std::numeric_limits<float>::infinity());
          ensemble.leaf_value_.push_back(conditions[i]);
          placed.depth = std::max(placed.depth, depth[i]);
          continue;
        }
        const std::int64_t left = lefts[i];
        const std::int64_t column = split_columns[i];
        const bool children_valid = left > static_cast<std::int64_t>(i) && rights[i] == left + 1 &&
                                    rights[i] < static_cast<std::int64_t>(count);
        if (!children_valid || column < 0 || column >= static_cast<std::int64_t>(columns.size())) {
          return std::nullopt;
        }
        const auto feature = static_cast<std::uint32_t>(columns[static_cast<std::size_t>(column)]);
        if (feature > kFeatureMask) return std::nullopt;
        ensemble.packed_.push_back((placed.root + static_cast<std::uint32_t>(left)) << kLeftShift |
                                   (default_lefts[i] != 0 ? kDefaultLeftBit : 0U) | feature);
        ensemble.split_.push_back(conditions[i]);
        ensemble.leaf_value_.push_back(0.0f);
        depth[static_cast<std::size_t>(left)] = depth[i] + 1;
        depth[static_cast<std::size_t>(left) + 1] = depth[i] + 1;
        if (depth[i] + 1 > kMaxDepth) return std::nullopt;
      }
      ensemble.trees_.push_back(placed);
    }
    if (model.contains("tree_info")) {
      for (int group : model.at("tree_info").get<std::vector<int>>()) {
        if (group != 0) return std::nullopt;
      }
    }
    if (ensemble.trees_.empty()) return std::nullopt;
    return ensemble;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void TreeEnsemble::predict(std::span<const FeatureVector> rows,
                           std::span<float> probabilities) const {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  std::size_t done = 0;
  if (has_avx2) {
    done = rows.size() / kVectorRows * kVectorRows;
    predictAvx2(rows.data(), done, probabilities.data());
  }
  predictScalar(rows.data() + done, rows.size() - done, probabilities.data() + done);
}

void TreeEnsemble::predictScalar(const FeatureVector* rows, std::size_t count,
                                 float* probabilities) const {
  std::array<float, kBlockRows> margins;
  std::array<std::uint32_t, kBlockRows> at;

  for (std::size_t begin = 0; begin < count; begin += kBlockRows) {
    const std::size_t block_count = std::min(kBlockRows, count - begin);
    const FeatureVector* block = rows + begin;
    margins.fill(base_margin_);

    for (const Tree& tree : trees_) {
      std::fill_n(at.begin(), block_count, tree.root);
      // Rows that reach a leaf early stay on it, so every row takes
      // tree.depth steps and the loop has no data-dependent branch. The
      // rows' steps are independent, so their loads overlap.
      for (std::uint32_t level = 0; level < tree.depth; ++level) {
        for (std::size_t r = 0; r < block_count; ++r) {
          const std::uint32_t packed = packed_[at[r]];
          const float value = block[r][packed & kFeatureMask];
          const bool go_left =
              (value < split_[at[r]]) | (std::isnan(value) & ((packed & kDefaultLeftBit) != 0));
          at[r] = (packed >> kLeftShift) + (go_left ? 0U : 1U);
        }
      }
      for (std::size_t r = 0; r < block_count; ++r) margins[r] += leaf_value_[at[r]];
    }

    for (std::size_t r = 0; r < block_count; ++r) {
      probabilities[begin + r] = 1.0f / (1.0f + std::exp(-margins[r]));
    }
  }
}

// Eight rows per vector: each level gathers the packed nodes, their split
// conditions and the rows' feature values. Margins are added lane by lane
// in tree order, so the sums equal the scalar path's bit for bit.
__attribute__((target("avx2"))) void TreeEnsemble::predictAvx2(const FeatureVector* rows,
                                                               std::size_t count,
                                                               float* probabilities) const {
  constexpr std::size_t kGroups = kBlockRows / kVectorRows;
  const auto* packed = reinterpret_cast<const int*>(packed_.data());
  const __m256i feature_mask = _mm256_set1_epi32(static_cast<int>(kFeatureMask));
  const __m256i default_left_bit = _mm256_set1_epi32(static_cast<int>(kDefaultLeftBit));
  const __m256i one = _mm256_set1_epi32(1);
  // Offsets of the eight rows' first floats from the group's first row.
  const __m256i row_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                 _mm256_set1_epi32(kFeatureCount));

  for (std::size_t begin = 0; begin < count; begin += kBlockRows) {
    const std::size_t groups = std::min(kBlockRows, count - begin) / kVectorRows;
    std::array<__m256, kGroups> margins;
    margins.fill(_mm256_set1_ps(base_margin_));

    for (const Tree& tree : trees_) {
      std::array<__m256i, kGroups> at;
      at.fill(_mm256_set1_epi32(static_cast<int>(tree.root)));
      for (std::uint32_t level = 0; level < tree.depth; ++level) {
        for (std::size_t g = 0; g < groups; ++g) {
          const float* group_rows = rows[begin + g * kVectorRows].data();
          const __m256i node = _mm256_i32gather_epi32(packed, at[g], 4);
          const __m256 split = _mm256_i32gather_ps(split_.data(), at[g], 4);
          const __m256i column =
              _mm256_add_epi32(row_offsets, _mm256_and_si256(node, feature_mask));
          const __m256 value = _mm256_i32gather_ps(group_rows, column, 4);
          const __m256 less = _mm256_cmp_ps(value, split, _CMP_LT_OQ);
          const __m256 missing = _mm256_cmp_ps(value, value, _CMP_UNORD_Q);
          const __m256i default_left =
              _mm256_cmpeq_epi32(_mm256_and_si256(node, default_left_bit), default_left_bit);
          const __m256i go_left =
              _mm256_or_si256(_mm256_castps_si256(less),
                              _mm256_and_si256(_mm256_castps_si256(missing), default_left));
          // left + 1 for the right child; go_left is -1 in the lanes that go left.
          at[g] =
              _mm256_add_epi32(_mm256_add_epi32(_mm256_srli_epi32(node, kLeftShift), one), go_left);
        }
      }
      for (std::size_t g = 0; g < groups; ++g) {
        margins[g] = _mm256_add_ps(margins[g], _mm256_i32gather_ps(leaf_value_.data(), at[g], 4));
      }
    }

    for (std::size_t g = 0; g < groups; ++g) {
      alignas(32) std::array<float, kVectorRows> lanes;
      _mm256_store_ps(lanes.data(), margins[g]);
      for (std::size_t lane = 0; lane < kVectorRows; ++lane) {
        probabilities[begin + g * kVectorRows + lane] = 1.0f / (1.0f + std::exp(-lanes[lane]));
      }
    }
  }
}

std::vector<FeatureVector> TreeEnsemble::probeRows(std::size_t count) const {
  std::array<std::vector<float>, kFeatureCount> conditions;
  for (std::size_t i = 0; i < packed_.size(); ++i) {
    const bool leaf = std::isinf(split_[i]);
    if (!leaf) conditions[packed_[i] & kFeatureMask].push_back(split_[i]);
  }

  std::mt19937 random(20241204);
  std::uniform_int_distribution<int> kind(0, 9);
  std::vector<FeatureVector> rows(count);
  for (FeatureVector& row : rows) {
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const std::vector<float>& values = conditions[f];
      const int choice = kind(random);
      if (choice == 0 || values.empty()) {
        row[f] = choice == 0 ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
        continue;
      }
      const float condition = values[random() % values.size()];
      row[f] = choice < 5 ? condition : std::nextafter(condition, -INFINITY);
    }
  }
  return rows;
}

}  // namespace txguard
