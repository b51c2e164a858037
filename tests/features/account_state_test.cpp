#include "features/account_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_transactions.h"

namespace txguard {
namespace {

using testing::makeTransaction;

constexpr std::size_t kCapacity = AccountState::kRingCapacity;

std::vector<std::int64_t> ringTimestamps(const AccountState& state) {
  std::vector<std::int64_t> timestamps;
  for (std::size_t i = 0; i < state.recentEventCount(); ++i) {
    timestamps.push_back(state.recentEvent(i).timestamp_ms);
  }
  return timestamps;
}

TEST(AccountState, EmptyStateHasNoHistory) {
  const AccountState state;
  EXPECT_EQ(state.historyCount(), 0U);
  EXPECT_FALSE(state.hasLast());
  EXPECT_EQ(state.recentEventCount(), 0U);
  EXPECT_TRUE(std::isnan(state.amountStddev()));
  EXPECT_TRUE(state.counterparties().empty());
}

TEST(AccountState, MeanAndStddevMatchDirectComputation) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> amounts(4.0, 1.5);
  std::vector<double> recorded;
  AccountState state;
  for (int i = 0; i < 500; ++i) {
    const double amount = amounts(random);
    recorded.push_back(amount);
    state.record(makeTransaction(1'000 * i, amount));
  }

  double sum = 0.0;
  for (double amount : recorded) sum += amount;
  const double mean = sum / static_cast<double>(recorded.size());
  double squares = 0.0;
  for (double amount : recorded) squares += (amount - mean) * (amount - mean);
  const double stddev = std::sqrt(squares / static_cast<double>(recorded.size() - 1));

  EXPECT_EQ(state.historyCount(), recorded.size());
  EXPECT_NEAR(state.amountMean(), mean, 1e-9 * mean);
  EXPECT_NEAR(state.amountStddev(), stddev, 1e-9 * stddev);
}

TEST(AccountState, StddevNeedsTwoAmounts) {
  AccountState state;
  state.record(makeTransaction(0, 10.0));
  EXPECT_TRUE(std::isnan(state.amountStddev()));
  state.record(makeTransaction(1, 20.0));
  EXPECT_NEAR(state.amountStddev(), std::sqrt(50.0), 1e-12);
}

TEST(AccountState, RecordKeepsLastTransaction) {
  Transaction transaction = makeTransaction(5'000, 12.5, "M1", "SP");
  transaction.id = "abc";
  transaction.latitude = -23.5;
  transaction.longitude = -46.6;
  AccountState state;
  state.record(transaction);

  EXPECT_TRUE(state.hasLast());
  EXPECT_EQ(state.lastId(), "abc");
  EXPECT_EQ(state.lastTimestampMs(), 5'000);
  EXPECT_EQ(state.lastAmount(), 12.5);
  EXPECT_EQ(state.lastLocation(), "SP");
  EXPECT_EQ(state.lastLatitude(), -23.5);
  EXPECT_EQ(state.lastLongitude(), -46.6);
}

TEST(AccountState, RingKeepsNewestEventsWhenFull) {
  AccountState state;
  const std::size_t recorded = kCapacity + 5;
  for (std::size_t i = 0; i < recorded; ++i) {
    state.record(makeTransaction(static_cast<std::int64_t>(i) * 10, static_cast<double>(i)));
  }
  ASSERT_EQ(state.recentEventCount(), kCapacity);
  EXPECT_EQ(state.historyCount(), recorded);
  for (std::size_t i = 0; i < kCapacity; ++i) {
    const std::size_t expected = i + 5;
    EXPECT_EQ(state.recentEvent(i).timestamp_ms, static_cast<std::int64_t>(expected) * 10);
    EXPECT_EQ(state.recentEvent(i).amount, static_cast<float>(expected));
  }
}

TEST(AccountState, WindowCountSaturatesAtRingCapacity) {
  AccountState state;
  for (int i = 0; i < 30; ++i) state.record(makeTransaction(1'000 + i, 1.0));
  const WindowTotals totals = state.totalsInWindow(2'000, 60'000);
  EXPECT_EQ(totals.count, kCapacity);
  EXPECT_EQ(totals.amount_sum, static_cast<double>(kCapacity));
}

TEST(AccountState, LateEventIsInsertedInTimeOrder) {
  AccountState state;
  state.record(makeTransaction(1'000, 1.0));
  state.record(makeTransaction(3'000, 3.0));
  state.record(makeTransaction(2'000, 2.0));

  EXPECT_EQ(ringTimestamps(state), (std::vector<std::int64_t>{1'000, 2'000, 3'000}));
  EXPECT_EQ(state.recentEvent(1).amount, 2.0f);
  EXPECT_EQ(state.historyCount(), 3U);
  EXPECT_NEAR(state.amountMean(), 2.0, 1e-12);
}

TEST(AccountState, LateEventDoesNotReplaceLast) {
  AccountState state;
  state.record(makeTransaction(3'000, 3.0, "", "RJ"));
  state.record(makeTransaction(2'000, 2.0, "", "SP"));
  EXPECT_EQ(state.lastTimestampMs(), 3'000);
  EXPECT_EQ(state.lastAmount(), 3.0);
  EXPECT_EQ(state.lastLocation(), "RJ");
  EXPECT_EQ(state.lastId(), "tx-3000");
}

TEST(AccountState, EqualTimestampReplacesLast) {
  AccountState state;
  Transaction first = makeTransaction(3'000, 3.0);
  first.id = "first";
  Transaction second = makeTransaction(3'000, 4.0);
  second.id = "second";
  state.record(first);
  state.record(second);
  EXPECT_EQ(state.lastId(), "second");
  EXPECT_EQ(ringTimestamps(state), (std::vector<std::int64_t>{3'000, 3'000}));
  EXPECT_EQ(state.recentEvent(1).amount, 4.0f);
}

TEST(AccountState, LateEventInFullRingEvictsOldest) {
  AccountState state;
  for (std::size_t i = 0; i < kCapacity; ++i) {
    state.record(makeTransaction(static_cast<std::int64_t>(i) * 100, 1.0));
  }
  state.record(makeTransaction(150, 7.0));

  const std::vector<std::int64_t> timestamps = ringTimestamps(state);
  ASSERT_EQ(timestamps.size(), kCapacity);
  EXPECT_EQ(timestamps.front(), 100);
  EXPECT_EQ(timestamps[1], 150);
  EXPECT_EQ(timestamps.back(), static_cast<std::int64_t>(kCapacity - 1) * 100);
  EXPECT_EQ(state.recentEvent(1).amount, 7.0f);
}

TEST(AccountState, LateEventOlderThanFullRingIsDropped) {
  AccountState state;
  for (std::size_t i = 0; i < kCapacity; ++i) {
    state.record(makeTransaction(1'000 + static_cast<std::int64_t>(i), 1.0));
  }
  const std::vector<std::int64_t> before = ringTimestamps(state);
  state.record(makeTransaction(10, 5.0));
  EXPECT_EQ(ringTimestamps(state), before);
  EXPECT_EQ(state.historyCount(), kCapacity + 1);
}

TEST(AccountState, RingStaysSortedUnderShuffledArrival) {
  std::vector<std::int64_t> timestamps;
  for (std::int64_t i = 0; i < 60; ++i) timestamps.push_back(i * 1'000);
  std::mt19937 random(7);
  std::shuffle(timestamps.begin(), timestamps.end(), random);

  AccountState state;
  for (std::int64_t timestamp : timestamps) state.record(makeTransaction(timestamp, 1.0));

  const std::vector<std::int64_t> ring = ringTimestamps(state);
  EXPECT_TRUE(std::is_sorted(ring.begin(), ring.end()));
  EXPECT_EQ(ring.back(), 59'000);
  EXPECT_EQ(state.lastTimestampMs(), 59'000);
  EXPECT_EQ(state.historyCount(), 60U);
}

TEST(AccountState, EventsBeyondEncodableAgeAreDropped) {
  AccountState state;
  state.record(makeTransaction(0, 1.0));
  state.record(makeTransaction(1'000, 1.0));
  state.record(makeTransaction(AccountState::kMaxEventAgeMs + 500, 1.0));
  EXPECT_EQ(ringTimestamps(state),
            (std::vector<std::int64_t>{1'000, AccountState::kMaxEventAgeMs + 500}));

  state.record(makeTransaction(200, 1.0));
  EXPECT_EQ(state.recentEventCount(), 2U);
  EXPECT_EQ(state.historyCount(), 4U);
}

TEST(AccountState, WindowIgnoresEventsAfterNow) {
  AccountState state;
  state.record(makeTransaction(1'000, 1.0));
  state.record(makeTransaction(5'000, 2.0));
  const WindowTotals totals = state.totalsInWindow(3'000, 60'000);
  EXPECT_EQ(totals.count, 1U);
  EXPECT_EQ(totals.amount_sum, 1.0);
}

TEST(AccountState, TotalsInNestedWindowsInOnePass) {
  AccountState state;
  state.record(makeTransaction(0, 100.0));
  state.record(makeTransaction(9'000, 20.0));
  state.record(makeTransaction(9'900, 3.0));
  const std::array<std::int64_t, 3> windows = {200, 1'001, 10'000};
  std::array<WindowTotals, 3> totals;
  state.totalsInWindows(10'000, windows, totals);
  EXPECT_EQ(totals[0].count, 1U);
  EXPECT_EQ(totals[0].amount_sum, 3.0);
  EXPECT_EQ(totals[1].count, 2U);
  EXPECT_EQ(totals[1].amount_sum, 23.0);
  EXPECT_EQ(totals[2].count, 2U);
  EXPECT_EQ(totals[2].amount_sum, 23.0);
  state.totalsInWindows(10'000, std::span<const std::int64_t>(), std::span<WindowTotals>());
}

TEST(AccountState, RecordRejectsNonFiniteAmount) {
  AccountState state;
  EXPECT_THROW(state.record(makeTransaction(0, std::numeric_limits<double>::quiet_NaN())),
               AccountStateError);
  EXPECT_THROW(state.record(makeTransaction(0, std::numeric_limits<double>::infinity())),
               AccountStateError);
  EXPECT_EQ(state.historyCount(), 0U);
}

TEST(AccountState, LongIdAndLocationAreTruncated) {
  Transaction transaction = makeTransaction(0, 1.0);
  transaction.id = std::string(100, 'x');
  transaction.location = std::string(40, 'L');
  AccountState state;
  state.record(transaction);
  EXPECT_EQ(state.lastId(), std::string(AccountState::kMaxIdBytes, 'x'));
  EXPECT_EQ(state.lastLocation(), std::string(AccountState::kMaxLocationBytes, 'L'));
}

TEST(AccountState, TruncationKeepsWholeUtf8Characters) {
  // "São Paulo - SP – Brasil": 'ã' is 2 bytes at offset 1, '–' is 3 bytes at offset 15.
  const std::string location = "S\xC3\xA3o Paulo - SP \xE2\x80\x93 Brasil";
  EXPECT_EQ(AccountState::truncateUtf8(location, 16), "S\xC3\xA3o Paulo - SP ");
  EXPECT_EQ(AccountState::truncateUtf8(location, 2), "S");
  EXPECT_EQ(AccountState::truncateUtf8(location, 3), "S\xC3\xA3");
  EXPECT_EQ(AccountState::truncateUtf8("short", 16), "short");
}

TEST(CounterpartyFilter, ReportsSeenAndNew) {
  CounterpartyFilter filter;
  EXPECT_FALSE(filter.mayContain("M1823072687"));
  filter.add("M1823072687");
  filter.add("C553264065");
  EXPECT_TRUE(filter.mayContain("M1823072687"));
  EXPECT_TRUE(filter.mayContain("C553264065"));
  EXPECT_FALSE(filter.mayContain("M1979787155"));
}

TEST(CounterpartyFilter, FalsePositiveRateNearEstimate) {
  // (1 - e^(-3n/512))^3 gives 8.7 % at n = 100. The fill of a single
  // filter varies around that estimate, so the bounds are wide. A hash that
  // clusters bits would still push the rate far outside them.
  CounterpartyFilter filter;
  for (int i = 0; i < 100; ++i) filter.add("M" + std::to_string(1'000'000 + i * 7919));
  int false_positives = 0;
  const int probes = 20'000;
  for (int i = 0; i < probes; ++i) {
    if (filter.mayContain("C" + std::to_string(5'000'000 + i))) ++false_positives;
  }
  const double rate = static_cast<double>(false_positives) / probes;
  EXPECT_GT(rate, 0.05);
  EXPECT_LT(rate, 0.13);
}

TEST(CounterpartyFilter, RecordAddsCounterparty) {
  AccountState state;
  state.record(makeTransaction(0, 1.0, "M42"));
  state.record(makeTransaction(1, 1.0, ""));
  EXPECT_TRUE(state.counterparties().mayContain("M42"));
  EXPECT_FALSE(state.counterparties().mayContain("M43"));
}

}  // namespace
}  // namespace txguard
