// Quality of a binary fraud score against ground-truth labels: threshold
// metrics, confusion matrix and the two threshold-free areas (ROC-AUC and
// average precision).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace txguard {

struct ConfusionMatrix {
  std::uint64_t tp = 0;  // fraud, flagged
  std::uint64_t fp = 0;  // legitimate, flagged
  std::uint64_t tn = 0;  // legitimate, not flagged
  std::uint64_t fn = 0;  // fraud, not flagged
};

// A row is flagged when its score is >= threshold. A ratio whose
// denominator is zero is NaN: precision when nothing is flagged, recall
// when there are no positives, F1 when either is NaN.
struct QualityMetrics {
  double threshold = 0.0;
  std::uint64_t rows = 0;
  std::uint64_t positives = 0;
  std::uint64_t negatives = 0;
  ConfusionMatrix confusion;

  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  double accuracy = 0.0;

  // ROC-AUC from ranks (Mann-Whitney U, tied scores get their average rank).
  double roc_auc = 0.0;
  // PR-AUC as average precision: sum over distinct score values, highest
  // first, of (recall gained at that value) x (precision at that value),
  // the step-wise definition scikit-learn's average_precision_score uses.
  double pr_auc = 0.0;
  // False when the labels hold only one class: both AUCs are then NaN,
  // because neither ranks positives against negatives.
  bool auc_defined = false;
};

// Computes the metrics of `scores` against `labels` (each 0 or 1) with rows
// flagged at score >= `threshold`. Throws ModelError when the spans differ
// in length, a label is not 0 or 1, or a score is NaN.
QualityMetrics evaluateScores(std::span<const float> scores, std::span<const int> labels,
                              double threshold);

// Formats the metrics as an aligned text table with the confusion matrix,
// for the CLI. NaN values print as "n/a".
std::string formatMetrics(const QualityMetrics& metrics);

}  // namespace txguard
