// Cost of the rules stage: evaluating config/rules/default.yaml against
// random feature vectors, and loading (parsing and compiling) that file.
// The vectors come from a fixed seed; values straddle the default
// thresholds and a tenth are missing, so rules both fire and stay quiet.
#include <benchmark/benchmark.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "features/category.h"
#include "rules/rule_set.h"

namespace txguard {
namespace {

constexpr std::size_t kVectors = 4096;  // 4096 * 26 floats = 416 KiB, beyond L1 and L2
constexpr unsigned kSeed = 20240301;

std::string defaultRulesPath() {
  return std::string(TXGUARD_SOURCE_DIR) + "/config/rules/default.yaml";
}

std::vector<FeatureVector> randomVectors() {
  std::mt19937 random(kSeed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  const auto scaled = [&](float low, float high) { return low + (high - low) * uniform(random); };
  const auto flag = [&] { return uniform(random) < 0.5f ? 0.0f : 1.0f; };

  std::vector<FeatureVector> vectors(kVectors);
  for (FeatureVector& features : vectors) {
    const auto set = [&](Feature feature, float value) {
      features[static_cast<std::size_t>(feature)] = uniform(random) < 0.1f ? std::nanf("") : value;
    };
    for (std::size_t i = 0; i < kFeatureCount; ++i) set(static_cast<Feature>(i), scaled(0, 100));
    set(Feature::amount, scaled(0, 5000));
    set(Feature::seconds_since_previous, scaled(0, 7200));
    set(Feature::count_1m, std::floor(scaled(0, 8)));
    set(Feature::count_1h, std::floor(scaled(0, 30)));
    set(Feature::history_count, std::floor(scaled(0, 40)));
    set(Feature::amount_zscore, scaled(-2, 10));
    set(Feature::amount_to_mean, scaled(0, 20));
    set(Feature::new_counterparty, flag());
    set(Feature::location_changed, flag());
    set(Feature::distance_from_previous_km, scaled(0, 3000));
    set(Feature::speed_from_previous_kmh, scaled(0, 2000));
    set(Feature::category_code, std::floor(scaled(1, kCategoryNames.size() + 1)));
    set(Feature::drains_balance, flag());
  }
  return vectors;
}

void BM_EvaluateDefaultRules(benchmark::State& state) {
  const RuleSet rules = RuleSet::loadFile(defaultRulesPath());
  const std::vector<FeatureVector> vectors = randomVectors();
  RuleEvaluation out;
  std::size_t next = 0;
  std::size_t fired = 0;
  for (auto _ : state) {
    rules.evaluate(vectors[next], out);
    fired += out.fired.size();
    benchmark::DoNotOptimize(out);
    next = next + 1 == vectors.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["fired_per_vector"] =
      static_cast<double>(fired) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EvaluateDefaultRules);

void BM_LoadDefaultRules(benchmark::State& state) {
  std::ifstream file(defaultRulesPath(), std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  const std::string text = bytes.str();
  for (auto _ : state) {
    RuleSet rules = RuleSet::parse(text, "default.yaml");
    benchmark::DoNotOptimize(rules);
  }
}
BENCHMARK(BM_LoadDefaultRules)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace txguard

BENCHMARK_MAIN();
