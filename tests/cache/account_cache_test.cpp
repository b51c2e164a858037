// The worker's bounded account cache: lookups, the two generations and the
// bound on its size.
#include "cache/account_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace txguard {
namespace {

AccountSnapshot snapshot(std::uint64_t version) {
  AccountSnapshot value;
  value.version = version;
  return value;
}

TEST(AccountCache, FindsWhatWasPut) {
  AccountCache cache(10);
  EXPECT_FALSE(cache.find("a").has_value());
  cache.put("a", snapshot(1));
  ASSERT_TRUE(cache.find("a").has_value());
  EXPECT_EQ(cache.find("a")->version, 1u);
  cache.put("a", snapshot(2));
  EXPECT_EQ(cache.find("a")->version, 2u);
  EXPECT_EQ(cache.size(), 1u);
  cache.erase("a");
  EXPECT_FALSE(cache.find("a").has_value());
}

TEST(AccountCache, KeepsTheHigherVersion) {
  // Two threads committed the same account and finished in the other order.
  AccountCache cache(10);
  cache.put("a", snapshot(7));
  cache.put("a", snapshot(6));
  EXPECT_EQ(cache.find("a")->version, 7u);
}

TEST(AccountCache, CapacityOneStillCaches) {
  AccountCache cache(1);
  cache.put("a", snapshot(1));
  EXPECT_TRUE(cache.find("a").has_value());
  EXPECT_TRUE(cache.worthUsing());
}

TEST(AccountCache, StaysWithinItsCapacity) {
  AccountCache cache(100);
  for (int i = 0; i < 10000; ++i) {
    cache.put("account-" + std::to_string(i), snapshot(static_cast<std::uint64_t>(i)));
    ASSERT_LE(cache.size(), 100u);
  }
  // The newest ones are there, the oldest ones are gone.
  ASSERT_TRUE(cache.find("account-9999").has_value());
  EXPECT_EQ(cache.find("account-9999")->version, 9999u);
  EXPECT_FALSE(cache.find("account-0").has_value());
}

TEST(AccountCache, KeepsAccountsInUse) {
  AccountCache cache(4);  // two generations of two
  cache.put("hot", snapshot(1));
  for (int i = 0; i < 50; ++i) {
    cache.put("cold-" + std::to_string(i), snapshot(1));
    // Each lookup moves "hot" to the young generation, so it survives.
    ASSERT_TRUE(cache.find("hot").has_value()) << "after " << i << " other accounts";
    ASSERT_LE(cache.size(), 4u);
  }
  EXPECT_FALSE(cache.find("cold-0").has_value());
}

TEST(AccountCache, ClearForgetsEverything) {
  AccountCache cache(10);
  cache.put("a", snapshot(1));
  cache.put("b", snapshot(1));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("a").has_value());
}

TEST(AccountCache, ZeroCapacityTurnsItOff) {
  AccountCache cache(0);
  cache.put("a", snapshot(1));
  EXPECT_FALSE(cache.find("a").has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AccountCache, BypassedWhileOftenStale) {
  AccountCache cache(100);
  EXPECT_TRUE(cache.worthUsing());
  // One stale state in a thousand is fine.
  for (int i = 0; i < 20; ++i) cache.recordOutcome(1000, 1);
  EXPECT_TRUE(cache.worthUsing());

  // Another worker keeps changing the same accounts: half are stale.
  cache.recordOutcome(100, 50);
  for (int i = 0; i < AccountCache::kBypassCalls; ++i) {
    ASSERT_FALSE(cache.worthUsing()) << "call " << i;
  }
  // Then it is tried again, and a clean commit keeps it in use.
  EXPECT_TRUE(cache.worthUsing());
  cache.recordOutcome(100, 0);
  EXPECT_TRUE(cache.worthUsing());
  // A stale probe turns it off again.
  cache.recordOutcome(100, 30);
  EXPECT_FALSE(cache.worthUsing());
}

TEST(AccountCache, SharedBetweenThreads) {
  // The API's request threads share one cache. Under the sanitizers, which
  // CI uses, this also checks that they do not race.
  AccountCache cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string account = "a" + std::to_string((i * 7 + t) % 100);
        cache.put(account, snapshot(static_cast<std::uint64_t>(i)));
        if (auto found = cache.find(account)) EXPECT_LT(found->version, 2000u);
        if (i % 50 == 0) cache.erase(account);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace txguard
