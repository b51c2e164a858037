#include "store/retry_policy.h"

#include <gtest/gtest.h>

namespace txguard {
namespace {

using std::chrono::milliseconds;

TEST(BackoffDelay, StaysWithinJitterWindow) {
  RetryPolicy policy{6, milliseconds(100), milliseconds(5000)};
  std::mt19937_64 random(42);
  const std::int64_t ceilings[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
  for (int retry = 1; retry <= 8; ++retry) {
    for (int sample = 0; sample < 200; ++sample) {
      std::int64_t delay = backoffDelay(policy, retry, random).count();
      ASSERT_GE(delay, ceilings[retry - 1] / 2) << "retry " << retry;
      ASSERT_LE(delay, ceilings[retry - 1]) << "retry " << retry;
    }
  }
}

TEST(BackoffDelay, IsJittered) {
  RetryPolicy policy;
  std::mt19937_64 random(7);
  milliseconds first = backoffDelay(policy, 3, random);
  bool differs = false;
  for (int i = 0; i < 50 && !differs; ++i) {
    differs = backoffDelay(policy, 3, random) != first;
  }
  EXPECT_TRUE(differs);
}

TEST(BackoffDelay, HugeRetryNumberDoesNotOverflow) {
  RetryPolicy policy{100, milliseconds(100), milliseconds(5000)};
  std::mt19937_64 random(1);
  milliseconds delay = backoffDelay(policy, 1000, random);
  EXPECT_GE(delay.count(), 2500);
  EXPECT_LE(delay.count(), 5000);
}

TEST(BackoffDelay, ZeroBaseMeansNoWait) {
  RetryPolicy policy{3, milliseconds(0), milliseconds(0)};
  std::mt19937_64 random(1);
  EXPECT_EQ(backoffDelay(policy, 2, random).count(), 0);
}

}  // namespace
}  // namespace txguard
