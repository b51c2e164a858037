// The TreeEnsemble copy must give XGBoost's probabilities bit for bit,
// because predict() uses it in place of XGBoost.
#include "model/tree_ensemble.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fixture.h"
#include "model/model.h"

namespace txguard {
namespace {

// Kept in a static map that is never freed, as in fixture.h: XGBoost
// crashes when a Model is destroyed during static destruction.
const Model& shippedModel(const std::string& name) {
  static auto* models = new std::map<std::string, Model>();
  auto found = models->find(name);
  if (found == models->end()) {
    const std::filesystem::path dir = std::filesystem::path(TXGUARD_SOURCE_DIR) / "models" / name;
    found = models->emplace(name, Model::load(dir)).first;
  }
  return found->second;
}

// Rows drawn around the training data: every feature of a synthetic row,
// scaled by a random factor, with a tenth of the values missing.
std::vector<FeatureVector> perturbedRows(std::size_t count) {
  const TrainingSet& set = testing::syntheticSet();
  std::mt19937 random(7);
  std::uniform_real_distribution<float> scale(0.5f, 1.5f);
  std::uniform_int_distribution<int> missing(0, 9);
  std::vector<FeatureVector> rows;
  for (std::size_t i = 0; i < count; ++i) {
    FeatureVector row = set.rows[i % set.rows.size()];
    for (float& value : row) {
      value =
          missing(random) == 0 ? std::numeric_limits<float>::quiet_NaN() : value * scale(random);
    }
    rows.push_back(row);
  }
  return rows;
}

void expectSameAsXgboost(const Model& model, const std::vector<FeatureVector>& rows) {
  std::vector<float> expected;
  model.predictWithXgboost(rows, expected);
  std::vector<float> actual;
  model.predict(rows, actual);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(actual[i], expected[i]) << "row " << i;
  }
}

TEST(TreeEnsemble, TrainedModelUsesTreeCopy) {
  EXPECT_TRUE(testing::trainedModel().usesTreeEnsemble());
}

// 5,003 rows take the AVX2 path (on a CPU that has it) for 5,000 rows and
// the scalar path for the last 3; 7 rows take only the scalar path.
TEST(TreeEnsemble, TrainedModelMatchesXgboost) {
  expectSameAsXgboost(testing::trainedModel(), perturbedRows(5'003));
  expectSameAsXgboost(testing::trainedModel(), perturbedRows(7));
}

TEST(TreeEnsemble, ShippedModelsMatchXgboost) {
  for (const char* name : {"paysim", "sparkov"}) {
    SCOPED_TRACE(name);
    const Model& model = shippedModel(name);
    EXPECT_TRUE(model.usesTreeEnsemble());
    expectSameAsXgboost(model, perturbedRows(5'003));
    const auto trees = TreeEnsemble::fromJson(model.modelJson(), model.features());
    ASSERT_TRUE(trees.has_value());
    expectSameAsXgboost(model, trees->probeRows(2'000));
  }
}

TEST(TreeEnsemble, AllMissingRowMatchesXgboost) {
  FeatureVector row;
  row.fill(std::numeric_limits<float>::quiet_NaN());
  expectSameAsXgboost(testing::trainedModel(), {row});
}

TEST(TreeEnsemble, RejectsUnsupportedModels) {
  const Model& model = testing::trainedModel();
  std::string multiclass = model.modelJson();
  const std::string objective = R"("name":"binary:logistic")";
  const std::size_t at = multiclass.find(objective);
  ASSERT_NE(at, std::string::npos);
  multiclass.replace(at, objective.size(), R"("name":"multi:softprob")");
  EXPECT_FALSE(TreeEnsemble::fromJson(multiclass, model.features()).has_value());
  EXPECT_FALSE(TreeEnsemble::fromJson("not json", model.features()).has_value());
  EXPECT_FALSE(TreeEnsemble::fromJson(model.modelJson(), {}).has_value());
}

}  // namespace
}  // namespace txguard
