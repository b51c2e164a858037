// The shipped models on a held-out time slice of each bundled data set.
// The floors sit just under the values measured when the models were
// trained (PaySim: PR-AUC 1.0000, ROC-AUC 1.0000; Sparkov: PR-AUC 0.9901,
// ROC-AUC 0.9918, on the latest 20 % of rows by event time), so a regression
// in ingest, features, training or the models shows up here.
#include <gtest/gtest.h>

#include "cli/defaults.h"
#include "cli/labelled_dataset.h"
#include "cli_runner.h"
#include "model/trainer.h"

namespace txguard::testing {
namespace {

struct QualityCase {
  std::string file;
  std::string model;
  double min_pr_auc;
  double min_roc_auc;
};

class ShippedModelQuality : public ::testing::TestWithParam<QualityCase> {};

TEST_P(ShippedModelQuality, HeldOutSliceReachesTheFloor) {
  const QualityCase& param = GetParam();
  TempDir dir;
  ReaderOptions options;
  options.pan_hash_key = "quality-test-key";
  const RuleSet rules = resolveRules("default");
  const LabelledDataset dataset =
      loadLabelledDataset(sourcePath(param.file), options, rules, dir.path() / "rejects.csv");
  const std::optional<Model> model = resolveModel(param.model, dataset.format);
  ASSERT_TRUE(model.has_value());

  const TimeSplit split = splitByTime(dataset.timestamps_ms, model->metadata().test_fraction);
  std::vector<FeatureVector> rows;
  std::vector<int> labels;
  for (std::size_t index : split.test) {
    rows.push_back(dataset.features[index]);
    labels.push_back(dataset.labels[index]);
  }
  std::vector<float> scores;
  model->predict(rows, scores);
  const QualityMetrics metrics = evaluateScores(scores, labels, model->metadata().review_threshold);

  EXPECT_GE(metrics.pr_auc, param.min_pr_auc) << formatMetrics(metrics);
  EXPECT_GE(metrics.roc_auc, param.min_roc_auc) << formatMetrics(metrics);
}

INSTANTIATE_TEST_SUITE_P(
    BundledData, ShippedModelQuality,
    ::testing::Values(
        QualityCase{"data/paysim/paysim_sample.csv", "paysim", 0.99, 0.99},
        QualityCase{"data/sparkov/fraudTest_sample_2020-06-21_to_2020-10-31.csv", "sparkov",
                    0.98, 0.98}),
    [](const auto& info) { return info.param.model; });

}  // namespace
}  // namespace txguard::testing
