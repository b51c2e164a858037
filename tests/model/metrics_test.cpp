#include "model/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/model_error.h"

namespace txguard {
namespace {

// Ten distinct scores, five frauds (marked *):
//   0.9* 0.8* 0.7 0.6* 0.55* 0.5 0.4* 0.3 0.2 0.1
// Flagged at >= 0.5: the first six rows, so tp 4, fp 2, fn 1 (0.4), tn 3.
// precision 4/6, recall 4/5, F1 = 2PR/(P+R) = 8/11, accuracy 7/10.
// ROC-AUC: negatives below each fraud: 0.9->5, 0.8->5, 0.6->4, 0.55->4,
// 0.4->3; 21 of 25 pairs = 0.84.
// Average precision: precision at each fraud's rank (1, 2, 4, 5, 7) is
// 1, 1, 3/4, 4/5, 5/7, each adding 1/5 recall: (1+1+0.75+0.8+5/7)/5.
TEST(Metrics, HandComputedDistinctScores) {
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.6f, 0.55f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  const std::vector<int> labels = {1, 1, 0, 1, 1, 0, 1, 0, 0, 0};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_EQ(m.rows, 10u);
  EXPECT_EQ(m.positives, 5u);
  EXPECT_EQ(m.negatives, 5u);
  EXPECT_EQ(m.confusion.tp, 4u);
  EXPECT_EQ(m.confusion.fp, 2u);
  EXPECT_EQ(m.confusion.fn, 1u);
  EXPECT_EQ(m.confusion.tn, 3u);
  EXPECT_NEAR(m.precision, 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(m.recall, 0.8, 1e-12);
  EXPECT_NEAR(m.f1, 8.0 / 11.0, 1e-12);
  EXPECT_NEAR(m.accuracy, 0.7, 1e-12);
  EXPECT_TRUE(m.auc_defined);
  EXPECT_NEAR(m.roc_auc, 0.84, 1e-12);
  EXPECT_NEAR(m.pr_auc, (1.0 + 1.0 + 0.75 + 0.8 + 5.0 / 7.0) / 5.0, 1e-12);
}

// Tied scores, frauds marked *: 0.8* 0.8 0.5* 0.5* 0.5 0.2.
// ROC-AUC by ranks (ascending, ties averaged): 0.2 -> 1; the three 0.5s
// share ranks 2-4 -> 3; the two 0.8s share 5-6 -> 5.5. Fraud rank sum
// 5.5 + 3 + 3 = 11.5, U = 11.5 - 3*4/2 = 5.5, AUC = 5.5 / 9.
// Pairwise check: the 0.8 fraud beats two negatives and ties one (2.5);
// each 0.5 fraud beats one and ties one (1.5 each): 5.5 of 9.
// Average precision by tie group: at 0.8, recall 1/3 with precision 1/2;
// at 0.5, recall 3/3 with precision 3/5: 1/3*1/2 + 2/3*3/5 = 17/30.
// Flagged at >= 0.5: five rows, tp 3, fp 2, tn 1, fn 0.
TEST(Metrics, HandComputedTiedScores) {
  const std::vector<float> scores = {0.8f, 0.8f, 0.5f, 0.5f, 0.5f, 0.2f};
  const std::vector<int> labels = {1, 0, 1, 1, 0, 0};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_NEAR(m.roc_auc, 5.5 / 9.0, 1e-12);
  EXPECT_NEAR(m.pr_auc, 17.0 / 30.0, 1e-12);
  EXPECT_EQ(m.confusion.tp, 3u);
  EXPECT_EQ(m.confusion.fp, 2u);
  EXPECT_EQ(m.confusion.tn, 1u);
  EXPECT_EQ(m.confusion.fn, 0u);
  EXPECT_NEAR(m.precision, 0.6, 1e-12);
  EXPECT_NEAR(m.recall, 1.0, 1e-12);
  EXPECT_NEAR(m.f1, 0.75, 1e-12);
  EXPECT_NEAR(m.accuracy, 4.0 / 6.0, 1e-12);
}

// Input order must not matter: the tied table shuffled.
TEST(Metrics, InputOrderDoesNotMatter) {
  const std::vector<float> scores = {0.5f, 0.2f, 0.8f, 0.5f, 0.8f, 0.5f};
  const std::vector<int> labels = {0, 0, 0, 1, 1, 1};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_NEAR(m.roc_auc, 5.5 / 9.0, 1e-12);
  EXPECT_NEAR(m.pr_auc, 17.0 / 30.0, 1e-12);
}

// All scores equal: every fraud/legit pair is a tie (AUC 1/2), and the one
// threshold step flags everything, so AP = precision = 2/4.
TEST(Metrics, AllScoresTied) {
  const std::vector<float> scores = {0.3f, 0.3f, 0.3f, 0.3f};
  const std::vector<int> labels = {1, 0, 1, 0};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_NEAR(m.roc_auc, 0.5, 1e-12);
  EXPECT_NEAR(m.pr_auc, 0.5, 1e-12);
  EXPECT_EQ(m.confusion.tn, 2u);
  EXPECT_EQ(m.confusion.fn, 2u);
  EXPECT_TRUE(std::isnan(m.precision)) << "nothing flagged, precision is undefined";
  EXPECT_NEAR(m.recall, 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(m.f1));
}

// A perfect ranking: every fraud above every legitimate row.
TEST(Metrics, PerfectRanking) {
  const std::vector<float> scores = {0.95f, 0.9f, 0.2f, 0.1f, 0.05f};
  const std::vector<int> labels = {1, 1, 0, 0, 0};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_NEAR(m.roc_auc, 1.0, 1e-12);
  EXPECT_NEAR(m.pr_auc, 1.0, 1e-12);
  EXPECT_NEAR(m.f1, 1.0, 1e-12);
}

TEST(Metrics, NoPositivesGivesUndefinedAucs) {
  const std::vector<float> scores = {0.9f, 0.1f, 0.4f};
  const std::vector<int> labels = {0, 0, 0};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_FALSE(m.auc_defined);
  EXPECT_TRUE(std::isnan(m.roc_auc));
  EXPECT_TRUE(std::isnan(m.pr_auc));
  EXPECT_TRUE(std::isnan(m.recall));
  EXPECT_NEAR(m.precision, 0.0, 1e-12);
  EXPECT_EQ(m.confusion.fp, 1u);
  EXPECT_EQ(m.confusion.tn, 2u);
}

TEST(Metrics, NoNegativesGivesUndefinedAucs) {
  const std::vector<float> scores = {0.9f, 0.1f};
  const std::vector<int> labels = {1, 1};

  const QualityMetrics m = evaluateScores(scores, labels, 0.5);

  EXPECT_FALSE(m.auc_defined);
  EXPECT_TRUE(std::isnan(m.roc_auc));
  EXPECT_TRUE(std::isnan(m.pr_auc));
  EXPECT_NEAR(m.recall, 0.5, 1e-12);
  EXPECT_NEAR(m.precision, 1.0, 1e-12);
}

TEST(Metrics, EmptyInput) {
  const QualityMetrics m = evaluateScores({}, {}, 0.5);

  EXPECT_EQ(m.rows, 0u);
  EXPECT_FALSE(m.auc_defined);
  EXPECT_TRUE(std::isnan(m.accuracy));
}

TEST(Metrics, RejectsInvalidInput) {
  const std::vector<float> scores = {0.1f, 0.2f};
  const std::vector<int> one_label = {1};
  const std::vector<int> bad_label = {1, -1};
  const std::vector<float> nan_score = {0.1f, std::nanf("")};
  const std::vector<int> labels = {1, 0};

  EXPECT_THROW(evaluateScores(scores, one_label, 0.5), ModelError);
  EXPECT_THROW(evaluateScores(nan_score, labels, 0.5), ModelError);
  try {
    evaluateScores(scores, bad_label, 0.5);
    FAIL() << "label -1 was accepted";
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("label -1 at row 1"), std::string::npos)
        << error.what();
  }
}

TEST(Metrics, FormatShowsTableAndConfusionMatrix) {
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.6f, 0.55f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  const std::vector<int> labels = {1, 1, 0, 1, 1, 0, 1, 0, 0, 0};

  const std::string text = formatMetrics(evaluateScores(scores, labels, 0.5));

  EXPECT_NE(text.find("precision                 0.6667\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ROC-AUC                   0.8400\n"), std::string::npos) << text;
  EXPECT_NE(text.find("actual fraud                   4           1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("actual legitimate              2           3\n"), std::string::npos) << text;
}

TEST(Metrics, FormatShowsUndefinedValues) {
  const std::vector<float> scores = {0.9f};
  const std::vector<int> labels = {0};

  const std::string text = formatMetrics(evaluateScores(scores, labels, 0.5));

  EXPECT_NE(text.find("ROC-AUC                      n/a\n"), std::string::npos) << text;
  EXPECT_NE(text.find("AUCs undefined"), std::string::npos) << text;
}

}  // namespace
}  // namespace txguard
