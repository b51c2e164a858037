// Batch scoring throughput of the XGBoost model: in-place prediction over
// batches of synthetic rows, and SHAP contributions for flagged rows. The
// model is trained once with the default TrainOptions (200 rounds, depth 6)
// on 100,000 synthetic PaySim-like rows from a fixed seed.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "model/model.h"
#include "model/synthetic.h"
#include "model/trainer.h"

namespace txguard {
namespace {

constexpr std::size_t kTrainingRows = 100'000;
constexpr std::uint64_t kSeed = 20241204;

const TrainingSet& trainingSet() {
  static const TrainingSet set = makeSyntheticTrainingSet(kTrainingRows, kSeed);
  return set;
}

// Leaked on purpose: destroying a Model during static destruction crashes
// inside XGBoost 1.7 (see model/model.h).
const Model& model() {
  static const Model* trained = new Model(train(trainingSet(), TrainOptions{}));
  return *trained;
}

std::vector<FeatureVector> batchOf(std::size_t rows) {
  const TrainingSet& set = trainingSet();
  std::vector<FeatureVector> batch;
  batch.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) batch.push_back(set.rows[i % set.rows.size()]);
  return batch;
}

void BM_Predict(benchmark::State& state) {
  const std::vector<FeatureVector> batch = batchOf(static_cast<std::size_t>(state.range(0)));
  const Model& scorer = model();
  std::vector<float> probabilities;
  for (auto _ : state) {
    scorer.predict(batch, probabilities);
    benchmark::DoNotOptimize(probabilities.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Predict)->Arg(256)->Arg(1024)->Arg(4096);

void BM_TopContributions(benchmark::State& state) {
  const std::vector<FeatureVector> batch = batchOf(static_cast<std::size_t>(state.range(0)));
  const Model& scorer = model();
  std::vector<std::vector<FeatureContribution>> top;
  for (auto _ : state) {
    scorer.topContributions(batch, 3, top);
    benchmark::DoNotOptimize(top.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_TopContributions)->Arg(16)->Arg(256);

}  // namespace
}  // namespace txguard

BENCHMARK_MAIN();
