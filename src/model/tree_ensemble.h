// A copy of the trees of an XGBoost binary:logistic gbtree model in a flat
// layout, evaluated without XGBoost. XGBoost 1.7.4's in-place prediction
// walks one row at a time through each tree after copying the row into its
// sparse format. This walks eight rows at a time through each tree, level
// by level, with AVX2 gathers and no branches, which took the prediction of
// models/paysim from about 2.4 us to 1.2 us per row (docs/benchmarks.md).
// Model uses it for predict() after checking it against XGBoost at load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "features/feature_vector.h"

namespace txguard {

class TreeEnsemble {
 public:
  // Reads the trees of an XGBoost JSON model whose column j is columns[j].
  // Returns nullopt, so that the caller uses XGBoost, for a model this
  // evaluator does not cover: an objective other than binary:logistic,
  // several targets or parallel trees, categorical splits, a right child
  // not numbered left + 1, a column outside `columns`, trees deeper than
  // kMaxDepth, or JSON it cannot read.
  static std::optional<TreeEnsemble> fromJson(std::string_view model_json,
                                              std::span<const Feature> columns);

  // Writes the fraud probability of rows[i] to probabilities[i], computed as
  // XGBoost 1.6-1.7 does: the float sum of the leaf values in tree order,
  // starting from the base margin, then the logistic function in float.
  // Precondition: probabilities.size() == rows.size().
  void predict(std::span<const FeatureVector> rows, std::span<float> probabilities) const;

  // Returns `count` rows built from the trees' split conditions. Each
  // feature is NaN, a split condition, the float just below one, or 0,
  // chosen from a fixed seed. Comparing predict() with XGBoost on them
  // exercises both sides of many splits and the missing-value directions.
  std::vector<FeatureVector> probeRows(std::size_t count) const;

  std::size_t treeCount() const { return trees_.size(); }

  static constexpr std::size_t kMaxDepth = 64;

 private:
  // Bits of a packed node: the FeatureVector index of the split's feature
  // in the low 8 bits, the missing-value direction in bit 8, and the index
  // of the left child in nodes_ from bit 9. XGBoost numbers the right child
  // left + 1, which fromJson() checks.
  static constexpr std::uint32_t kFeatureMask = 0xFF;
  static constexpr std::uint32_t kDefaultLeftBit = 1U << 8;
  static constexpr int kLeftShift = 9;

  struct Tree {
    std::uint32_t root = 0;   // index in the node arrays
    std::uint32_t depth = 0;  // levels from the root to the deepest leaf
  };

  void predictScalar(const FeatureVector* rows, std::size_t count, float* probabilities) const;
  void predictAvx2(const FeatureVector* rows, std::size_t count, float* probabilities) const;

  // Per node, in three arrays so that the vector path gathers each with
  // one instruction. A leaf's split is +infinity, its missing values go
  // left, and its left child is itself, so a walk of a fixed number of
  // levels stays on the leaf once it reaches one.
  std::vector<std::uint32_t> packed_;
  std::vector<float> split_;
  std::vector<float> leaf_value_;  // 0 for splits
  std::vector<Tree> trees_;
  float base_margin_ = 0.0f;
};

}  // namespace txguard
