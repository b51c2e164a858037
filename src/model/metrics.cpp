#include "model/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "model/model_error.h"

namespace txguard {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(std::uint64_t numerator, std::uint64_t denominator) {
  if (denominator == 0) return kNaN;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

void validateInput(std::span<const float> scores, std::span<const int> labels) {
  if (scores.size() != labels.size()) {
    throw ModelError(
        fmt::format("evaluateScores: {} scores but {} labels; pass one label per score",
                    scores.size(), labels.size()));
  }
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      throw ModelError(fmt::format(
          "evaluateScores: label {} at row {} is invalid; labels must be 0 (legitimate) or 1 "
          "(fraud), drop unlabelled rows first",
          labels[i], i));
    }
    if (std::isnan(scores[i])) {
      throw ModelError(fmt::format("evaluateScores: score at row {} is NaN", i));
    }
  }
}

// Rank-sum form of the Mann-Whitney U statistic: the probability that a
// random positive scores above a random negative, ties counting one half.
double rocAuc(std::span<const float> scores, std::span<const int> labels,
              const std::vector<std::size_t>& ascending, std::uint64_t positives,
              std::uint64_t negatives) {
  double positive_rank_sum = 0.0;
  std::size_t begin = 0;
  while (begin < ascending.size()) {
    std::size_t end = begin + 1;
    while (end < ascending.size() && scores[ascending[end]] == scores[ascending[begin]]) ++end;

    // 1-based ranks begin+1 .. end share their mean.
    const double average_rank = (static_cast<double>(begin + 1) + static_cast<double>(end)) / 2.0;
    for (std::size_t i = begin; i < end; ++i) {
      if (labels[ascending[i]] == 1) positive_rank_sum += average_rank;
    }
    begin = end;
  }

  const double p = static_cast<double>(positives);
  const double u = positive_rank_sum - p * (p + 1.0) / 2.0;
  return u / (p * static_cast<double>(negatives));
}

// Walks the tie groups from the highest score down; rows with equal scores
// enter together, as one threshold step.
double averagePrecision(std::span<const float> scores, std::span<const int> labels,
                        const std::vector<std::size_t>& ascending, std::uint64_t positives) {
  double sum = 0.0;
  double previous_recall = 0.0;
  std::uint64_t tp = 0;
  std::uint64_t flagged = 0;
  std::size_t end = ascending.size();
  while (end > 0) {
    std::size_t begin = end - 1;
    while (begin > 0 && scores[ascending[begin - 1]] == scores[ascending[end - 1]]) --begin;

    for (std::size_t i = begin; i < end; ++i) {
      tp += static_cast<std::uint64_t>(labels[ascending[i]]);
    }
    flagged += end - begin;

    const double recall = static_cast<double>(tp) / static_cast<double>(positives);
    const double precision = static_cast<double>(tp) / static_cast<double>(flagged);
    sum += (recall - previous_recall) * precision;
    previous_recall = recall;
    end = begin;
  }
  return sum;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "n/a";
  return fmt::format("{:.4f}", value);
}

}  // namespace

QualityMetrics evaluateScores(std::span<const float> scores, std::span<const int> labels,
                              double threshold) {
  validateInput(scores, labels);

  QualityMetrics metrics;
  metrics.threshold = threshold;
  metrics.rows = scores.size();
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const bool fraud = labels[i] == 1;
    const bool flagged = static_cast<double>(scores[i]) >= threshold;
    if (fraud && flagged) ++metrics.confusion.tp;
    if (!fraud && flagged) ++metrics.confusion.fp;
    if (!fraud && !flagged) ++metrics.confusion.tn;
    if (fraud && !flagged) ++metrics.confusion.fn;
  }
  const ConfusionMatrix& c = metrics.confusion;
  metrics.positives = c.tp + c.fn;
  metrics.negatives = c.tn + c.fp;

  metrics.precision = ratio(c.tp, c.tp + c.fp);
  metrics.recall = ratio(c.tp, c.tp + c.fn);
  if (std::isnan(metrics.precision) || std::isnan(metrics.recall)) {
    metrics.f1 = kNaN;
  } else if (metrics.precision + metrics.recall == 0.0) {
    metrics.f1 = 0.0;
  } else {
    metrics.f1 = 2.0 * metrics.precision * metrics.recall / (metrics.precision + metrics.recall);
  }
  metrics.accuracy = ratio(c.tp + c.tn, metrics.rows);

  metrics.auc_defined = metrics.positives > 0 && metrics.negatives > 0;
  if (!metrics.auc_defined) {
    metrics.roc_auc = kNaN;
    metrics.pr_auc = kNaN;
    return metrics;
  }

  std::vector<std::size_t> ascending(scores.size());
  std::iota(ascending.begin(), ascending.end(), std::size_t{0});
  std::sort(ascending.begin(), ascending.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  metrics.roc_auc = rocAuc(scores, labels, ascending, metrics.positives, metrics.negatives);
  metrics.pr_auc = averagePrecision(scores, labels, ascending, metrics.positives);
  return metrics;
}

std::string formatMetrics(const QualityMetrics& metrics) {
  const ConfusionMatrix& c = metrics.confusion;
  std::string out;
  auto line = [&out](std::string_view name, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<20}{:>12}\n", name, value);
  };
  line("threshold", formatValue(metrics.threshold));
  line("rows", std::to_string(metrics.rows));
  line("positives (fraud)", std::to_string(metrics.positives));
  line("negatives", std::to_string(metrics.negatives));
  line("precision", formatValue(metrics.precision));
  line("recall", formatValue(metrics.recall));
  line("F1", formatValue(metrics.f1));
  line("accuracy", formatValue(metrics.accuracy));
  line("ROC-AUC", formatValue(metrics.roc_auc));
  line("PR-AUC (avg prec.)", formatValue(metrics.pr_auc));
  if (!metrics.auc_defined) {
    out += "AUCs undefined: the labels hold only one class\n";
  }

  out += "\nconfusion matrix\n";
  fmt::format_to(std::back_inserter(out), "{:<20}{:>12}{:>12}\n", "", "flagged", "not flagged");
  fmt::format_to(std::back_inserter(out), "{:<20}{:>12}{:>12}\n", "actual fraud", c.tp, c.fn);
  fmt::format_to(std::back_inserter(out), "{:<20}{:>12}{:>12}\n", "actual legitimate", c.fp, c.tn);
  return out;
}

}  // namespace txguard
