#include "model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixture.h"
#include "model/sha256.h"

namespace txguard {
namespace {

using testing::freshDirectory;
using testing::syntheticSet;
using testing::trainedModel;

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

std::vector<FeatureVector> someRows(std::size_t count) {
  const TrainingSet& data = syntheticSet();
  return {data.rows.begin(), data.rows.begin() + static_cast<std::ptrdiff_t>(count)};
}

std::string messageOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const ModelError& error) {
    return error.what();
  }
  return "no ModelError thrown";
}

TEST(Model, PredictsProbabilities) {
  const std::vector<FeatureVector> rows = someRows(500);
  std::vector<float> probabilities;

  trainedModel().predict(rows, probabilities);

  ASSERT_EQ(probabilities.size(), rows.size());
  for (const float p : probabilities) {
    EXPECT_GE(p, 0.0f);
    EXPECT_LE(p, 1.0f);
  }
  const auto [low, high] = std::minmax_element(probabilities.begin(), probabilities.end());
  EXPECT_LT(*low, 0.1f);
  EXPECT_GT(*high, 0.9f);
}

TEST(Model, PredictOfEmptyBatchIsEmpty) {
  std::vector<float> probabilities = {1.0f};

  trainedModel().predict({}, probabilities);

  EXPECT_TRUE(probabilities.empty());
}

TEST(Model, BatchAndSingleRowPredictionsAgree) {
  const std::vector<FeatureVector> rows = someRows(64);
  std::vector<float> batch;
  trainedModel().predict(rows, batch);

  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<float> single;
    trainedModel().predict(std::span<const FeatureVector>(&rows[i], 1), single);
    EXPECT_EQ(single[0], batch[i]) << "row " << i;
  }
}

TEST(Model, SaveLoadRoundTripIsBitIdentical) {
  const std::filesystem::path dir = freshDirectory("round_trip");
  trainedModel().save(dir);

  const Model loaded = Model::load(dir);

  const std::vector<FeatureVector> rows = someRows(2000);
  std::vector<float> original;
  std::vector<float> reloaded;
  trainedModel().predict(rows, original);
  loaded.predict(rows, reloaded);
  ASSERT_EQ(original.size(), reloaded.size());
  EXPECT_EQ(std::memcmp(original.data(), reloaded.data(), original.size() * sizeof(float)), 0);
  EXPECT_EQ(loaded.modelJson(), trainedModel().modelJson());
  EXPECT_EQ(loaded.metadata().version, trainedModel().metadata().version);
  EXPECT_EQ(loaded.metadata().features, trainedModel().metadata().features);
  EXPECT_DOUBLE_EQ(loaded.metadata().review_threshold, trainedModel().metadata().review_threshold);
  EXPECT_DOUBLE_EQ(loaded.metadata().block_metrics.pr_auc,
                   trainedModel().metadata().block_metrics.pr_auc);
  EXPECT_EQ(loaded.metadata().parameters, trainedModel().metadata().parameters);
  EXPECT_EQ(sha256Hex(readFile(dir / "model.json")), trainedModel().metadata().model_sha256);
}

TEST(Model, LoadFromMemoryEqualsLoad) {
  const std::filesystem::path dir = freshDirectory("from_memory");
  trainedModel().save(dir);

  const Model from_files = Model::load(dir);
  const Model from_memory =
      Model::loadFromMemory(readFile(dir / "model.json"), readFile(dir / "metadata.json"));

  const std::vector<FeatureVector> rows = someRows(1000);
  std::vector<float> a;
  std::vector<float> b;
  from_files.predict(rows, a);
  from_memory.predict(rows, b);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_EQ(metadataToJson(from_files.metadata()), metadataToJson(from_memory.metadata()));
}

TEST(Model, UndefinedMetricsSurviveJson) {
  ModelMetadata metadata = trainedModel().metadata();
  metadata.block_metrics.roc_auc = std::nan("");
  metadata.block_metrics.auc_defined = false;

  const ModelMetadata parsed = metadataFromJson(metadataToJson(metadata));

  EXPECT_TRUE(std::isnan(parsed.block_metrics.roc_auc));
  EXPECT_FALSE(parsed.block_metrics.auc_defined);
}

TEST(Model, UnknownFeatureIsLoadError) {
  ModelMetadata metadata = trainedModel().metadata();
  metadata.features[0] = "no_such_feature";

  const std::string message = messageOf(
      [&] { Model::loadFromMemory(trainedModel().modelJson(), metadataToJson(metadata)); });

  EXPECT_NE(message.find("unknown feature \"no_such_feature\""), std::string::npos) << message;
}

TEST(Model, FeatureListMismatchIsLoadError) {
  ModelMetadata metadata = trainedModel().metadata();
  metadata.features.pop_back();

  const std::string message = messageOf(
      [&] { Model::loadFromMemory(trainedModel().modelJson(), metadataToJson(metadata)); });

  EXPECT_NE(message.find("feature columns but metadata.json lists"), std::string::npos) << message;
}

TEST(Model, CorruptModelFileIsLoadError) {
  const std::filesystem::path dir = freshDirectory("corrupt");
  trainedModel().save(dir);
  const std::string model_json = trainedModel().modelJson();
  writeFile(dir / "model.json", model_json.substr(0, model_json.size() / 2));

  const std::string message = messageOf([&] { Model::load(dir); });

  EXPECT_NE(message.find("model.json does not match metadata.json"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
}

TEST(Model, UnparsableModelIsLoadError) {
  // The digest matches, so the failure comes from XGBoost's parser.
  const std::string garbage = "{\"learner\": [1, 2";
  ModelMetadata metadata = trainedModel().metadata();
  metadata.model_sha256 = sha256Hex(garbage);

  const std::string message =
      messageOf([&] { Model::loadFromMemory(garbage, metadataToJson(metadata)); });

  EXPECT_NE(message.find("parsing model.json failed"), std::string::npos) << message;
  EXPECT_EQ(message.find("Stack trace"), std::string::npos) << message;
}

TEST(Model, InvalidMetadataIsLoadError) {
  EXPECT_NE(messageOf([] {
              Model::loadFromMemory("{}", "not json");
            }).find("metadata.json: invalid JSON"),
            std::string::npos);
  EXPECT_NE(messageOf([] {
              Model::loadFromMemory("{}", R"({"format_version": 1})");
            }).find("missing field \"name\""),
            std::string::npos);
}

TEST(Model, MissingFileIsLoadError) {
  const std::filesystem::path dir = freshDirectory("missing");

  const std::string message = messageOf([&] { Model::load(dir); });

  EXPECT_NE(message.find("has no model.json"), std::string::npos) << message;
}

// SHAP values plus the bias add up to the margin, log(p / (1 - p)). The
// probability is a float, so its logit loses precision near 0 and 1; rows
// with p outside [0.001, 0.999] are skipped.
TEST(Model, ContributionsSumToMargin) {
  const std::vector<FeatureVector> rows = someRows(1000);
  std::vector<float> probabilities;
  std::vector<float> contributions;
  trainedModel().predict(rows, probabilities);
  trainedModel().contributions(rows, contributions);

  const std::size_t width = trainedModel().features().size() + 1;
  ASSERT_EQ(contributions.size(), rows.size() * width);
  std::size_t checked = 0;
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const double p = probabilities[row];
    if (p < 0.001 || p > 0.999) continue;
    double sum = 0.0;
    for (std::size_t column = 0; column < width; ++column) {
      sum += contributions[row * width + column];
    }
    EXPECT_NEAR(sum, std::log(p / (1.0 - p)), 1e-4) << "row " << row;
    ++checked;
  }
  EXPECT_GT(checked, 500u);
}

TEST(Model, TopContributionsAreLargestByMagnitude) {
  const std::vector<FeatureVector> rows = someRows(50);
  std::vector<float> contributions;
  std::vector<std::vector<FeatureContribution>> top;
  trainedModel().contributions(rows, contributions);
  trainedModel().topContributions(rows, 3, top);

  const std::vector<Feature>& features = trainedModel().features();
  const std::size_t width = features.size() + 1;
  ASSERT_EQ(top.size(), rows.size());
  for (std::size_t row = 0; row < rows.size(); ++row) {
    ASSERT_EQ(top[row].size(), 3u);
    // The third largest |contribution| bounds every feature left out.
    const float smallest_kept = std::fabs(top[row][2].contribution);
    for (std::size_t i = 1; i < 3; ++i) {
      EXPECT_GE(std::fabs(top[row][i - 1].contribution), std::fabs(top[row][i].contribution));
    }
    for (const FeatureContribution& entry : top[row]) {
      const Feature feature = featureByName(entry.feature).value();
      const auto column = static_cast<std::size_t>(
          std::find(features.begin(), features.end(), feature) - features.begin());
      ASSERT_LT(column, features.size());
      EXPECT_EQ(entry.contribution, contributions[row * width + column]);
      const float value = rows[row][static_cast<std::size_t>(feature)];
      if (std::isnan(value)) {
        EXPECT_TRUE(std::isnan(entry.value));
      } else {
        EXPECT_EQ(entry.value, value);
      }
    }
    std::size_t larger = 0;
    for (std::size_t column = 0; column < features.size(); ++column) {
      if (std::fabs(contributions[row * width + column]) > smallest_kept) ++larger;
    }
    EXPECT_LE(larger, 2u) << "row " << row;
  }
}

TEST(Model, TopContributionsClampK) {
  const std::vector<FeatureVector> rows = someRows(2);
  std::vector<std::vector<FeatureContribution>> top;

  trainedModel().topContributions(rows, 1000, top);

  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].size(), trainedModel().features().size());
}

TEST(Model, ConcurrentPredictMatchesSerial) {
  const std::vector<FeatureVector> rows = someRows(4096);
  std::vector<float> expected;
  trainedModel().predict(rows, expected);

  constexpr int kThreads = 4;
  std::vector<std::vector<float>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) trainedModel().predict(rows, results[t]);
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), expected.size());
    EXPECT_EQ(std::memcmp(results[t].data(), expected.data(), expected.size() * sizeof(float)), 0)
        << "thread " << t;
  }
}

TEST(Model, MoveTransfersBooster) {
  const std::filesystem::path dir = freshDirectory("move");
  trainedModel().save(dir);
  Model first = Model::load(dir);
  const std::vector<FeatureVector> rows = someRows(10);
  std::vector<float> before;
  first.predict(rows, before);

  Model second = std::move(first);
  std::vector<float> after;
  second.predict(rows, after);

  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace txguard
