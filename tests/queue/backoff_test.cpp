#include "queue/backoff.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace txguard {
namespace {

using std::chrono::milliseconds;

TEST(BackoffDelay, StaysWithinHalfCeilingAndCeiling) {
  BackoffPolicy policy{milliseconds(100), milliseconds(5000)};
  std::mt19937_64 random(42);
  const long ceilings[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int attempt = 1; attempt <= 9; ++attempt) {
    long ceiling = ceilings[attempt - 1];
    for (int draw = 0; draw < 200; ++draw) {
      milliseconds delay = backoffDelay(policy, attempt, random);
      EXPECT_GE(delay.count(), ceiling / 2) << "attempt " << attempt;
      EXPECT_LE(delay.count(), ceiling) << "attempt " << attempt;
    }
  }
}

TEST(BackoffDelay, NeverExceedsCapForLargeAttempts) {
  BackoffPolicy policy{milliseconds(1), milliseconds(30000)};
  std::mt19937_64 random(7);
  for (int attempt : {31, 64, 1000, 1'000'000}) {
    milliseconds delay = backoffDelay(policy, attempt, random);
    EXPECT_GE(delay.count(), 15000) << "attempt " << attempt;
    EXPECT_LE(delay.count(), 30000) << "attempt " << attempt;
  }
}

TEST(BackoffDelay, JittersBetweenClients) {
  BackoffPolicy policy{milliseconds(1000), milliseconds(1000)};
  std::mt19937_64 random(1);
  std::set<long> seen;
  for (int i = 0; i < 50; ++i) {
    seen.insert(backoffDelay(policy, 1, random).count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffDelay, RejectsInvalidArguments) {
  std::mt19937_64 random(1);
  BackoffPolicy policy;
  EXPECT_THROW(backoffDelay(policy, 0, random), std::invalid_argument);
  EXPECT_THROW(backoffDelay({milliseconds(0), milliseconds(10)}, 1, random), std::invalid_argument);
  EXPECT_THROW(backoffDelay({milliseconds(100), milliseconds(10)}, 1, random),
               std::invalid_argument);
}

}  // namespace
}  // namespace txguard
