#include "features/account_state_store.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

#include "test_transactions.h"

namespace txguard {
namespace {

using testing::makeTransaction;

TEST(InMemoryAccountStateStore, StateForInsertsOnce) {
  InMemoryAccountStateStore store;
  AccountState& first = store.stateFor("C100");
  first.record(makeTransaction(0, 5.0));
  AccountState& again = store.stateFor(std::string("C100"));
  EXPECT_EQ(&first, &again);
  EXPECT_EQ(again.historyCount(), 1U);
  EXPECT_EQ(store.size(), 1U);
}

TEST(InMemoryAccountStateStore, ReferencesSurviveRehash) {
  InMemoryAccountStateStore store;
  AccountState& first = store.stateFor("C0");
  first.record(makeTransaction(0, 1.0));
  for (int i = 1; i < 5'000; ++i) store.stateFor("C" + std::to_string(i));
  EXPECT_EQ(&first, &store.stateFor("C0"));
  EXPECT_EQ(first.historyCount(), 1U);
}

TEST(InMemoryAccountStateStore, FindUnknownReturnsNull) {
  InMemoryAccountStateStore store;
  EXPECT_EQ(store.find("C404"), nullptr);
  EXPECT_EQ(store.size(), 0U);
}

TEST(InMemoryAccountStateStore, LoadUnknownReturnsEmptyState) {
  InMemoryAccountStateStore store;
  const AccountState state = store.load("C404");
  EXPECT_EQ(state.historyCount(), 0U);
  EXPECT_EQ(store.size(), 0U);
}

TEST(InMemoryAccountStateStore, SaveThenLoadReturnsState) {
  InMemoryAccountStateStore store;
  AccountState state;
  state.record(makeTransaction(1'000, 7.0, "M1", "SP"));
  store.save("C1", state);
  EXPECT_TRUE(store.load("C1") == state);
  ASSERT_NE(store.find("C1"), nullptr);
  EXPECT_EQ(store.find("C1")->lastLocation(), "SP");
}

TEST(InMemoryAccountStateStore, LoadManyAndSaveMany) {
  InMemoryAccountStateStore store;
  std::array<AccountState, 2> states;
  states[0].record(makeTransaction(0, 1.0));
  states[1].record(makeTransaction(0, 2.0));
  states[1].record(makeTransaction(1, 2.0));
  const std::array<std::string_view, 2> accounts = {"A", "B"};
  store.saveMany(accounts, states);

  const std::array<std::string_view, 3> requested = {"B", "missing", "A"};
  std::array<AccountState, 3> loaded;
  store.loadMany(requested, loaded);
  EXPECT_EQ(loaded[0].historyCount(), 2U);
  EXPECT_EQ(loaded[1].historyCount(), 0U);
  EXPECT_EQ(loaded[2].historyCount(), 1U);
}

TEST(InMemoryAccountStateStore, MemoryEstimateGrowsWithAccountsAndLongKeys) {
  InMemoryAccountStateStore store;
  store.reserve(1'000);
  const std::size_t empty_bytes = store.memoryBytesEstimate();
  EXPECT_GE(empty_bytes, 1'000 * sizeof(void*));

  store.stateFor("short");
  const std::size_t one_short = store.memoryBytesEstimate();
  EXPECT_GE(one_short - empty_bytes, sizeof(AccountState) + sizeof(std::string));

  store.stateFor(std::string(100, 'k'));
  const std::size_t with_long = store.memoryBytesEstimate();
  EXPECT_GE(with_long - one_short, sizeof(AccountState) + sizeof(std::string) + 101);
}

TEST(InMemoryAccountStateStore, ClearRemovesAccounts) {
  InMemoryAccountStateStore store;
  store.stateFor(std::string(40, 'a'));
  store.clear();
  EXPECT_EQ(store.size(), 0U);
  EXPECT_EQ(store.find(std::string(40, 'a')), nullptr);
}

}  // namespace
}  // namespace txguard
