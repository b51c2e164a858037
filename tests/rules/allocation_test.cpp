// Checks that RuleSet::evaluate() does not allocate once its output has
// grown, by counting calls to the replaced global operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace {
std::atomic<std::size_t> allocation_count{0};
}  // namespace

void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}

void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace txguard {
namespace {

TEST(RuleSetAllocation, EvaluateDoesNotAllocate) {
  const RuleSet rules =
      RuleSet::loadFile(std::string(TXGUARD_SOURCE_DIR) + "/config/rules/default.yaml");

  // Values around every default threshold, a tenth of them missing, so that
  // rules both fire and stay quiet.
  std::mt19937 random(7);
  std::uniform_real_distribution<float> value(0.0f, 4000.0f);
  std::vector<FeatureVector> rows(256);
  for (FeatureVector& row : rows) {
    for (float& feature : row) feature = random() % 10 == 0 ? std::nanf("") : value(random);
    row[static_cast<std::size_t>(Feature::location_changed)] = static_cast<float>(random() % 2);
    row[static_cast<std::size_t>(Feature::drains_balance)] = static_cast<float>(random() % 2);
    row[static_cast<std::size_t>(Feature::new_counterparty)] = static_cast<float>(random() % 2);
  }

  RuleEvaluation out;
  rules.evaluate(rows[0], out);  // the first call may size out.fired

  std::size_t fired = 0;
  const std::size_t before = allocation_count.load();
  for (int pass = 0; pass < 4; ++pass) {
    for (const FeatureVector& row : rows) {
      rules.evaluate(row, out);
      fired += out.fired.size();
    }
  }
  const std::size_t after = allocation_count.load();

  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(fired, 0u);  // the loop exercised firing rules, not only quiet ones
}

}  // namespace
}  // namespace txguard
