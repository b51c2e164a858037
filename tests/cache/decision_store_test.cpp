// The decision store against the local stack's real Redis: the commit's
// version check, duplicate detection, the outbox and the lease.
#include "cache/decision_store.h"

#include <gtest/gtest.h>

#include "support/stack_env.h"

namespace txguard {
namespace {

class DecisionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto env = test_support::loadStackEnv();
    ASSERT_TRUE(env.has_value()) << "TXGUARD_STACK_ENV is not set; run through ctest";
    RedisEndpoint endpoint = parseRedisUrl(test_support::requireStackValue(*env, "TXGUARD_REDIS_URL"));
    endpoint.password = test_support::requireStackValue(*env, "TXGUARD_REDIS_PASSWORD");
    // Database 9 is this test's own; the service tests use others.
    endpoint.database = 9;
    redis_ = std::make_unique<RedisClient>(endpoint);
    redis_->command({"FLUSHDB"});
    store_ = std::make_unique<DecisionStore>(*redis_, std::chrono::seconds(600));
  }

  static AccountState stateWithOne(const std::string& id) {
    AccountState state;
    Transaction transaction;
    transaction.id = id;
    transaction.account = "acct";
    transaction.timestamp_ms = 1'700'000'000'000;
    transaction.amount = 10;
    transaction.location = "SP";
    state.record(transaction);
    return state;
  }

  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<DecisionStore> store_;
};

TEST_F(DecisionStoreTest, CommitThenReadBack) {
  const std::vector<std::string> accounts = {"acct"};
  const auto before = store_->readAccounts(accounts);
  EXPECT_EQ(before.at("acct").version, 0u);
  EXPECT_FALSE(store_->decision("t1").has_value());

  const AccountState state = stateWithOne("t1");
  const CommitResult result = store_->commit(
      {{"acct", 0, state.encode()}}, {{"t1", 0, R"({"action":"block"})", true, "line", "", ""}});
  EXPECT_TRUE(result.conflicts.empty());
  EXPECT_TRUE(result.existing.empty());

  const auto after = store_->readAccounts(accounts);
  EXPECT_EQ(after.at("acct").version, 1u);
  EXPECT_EQ(after.at("acct").state.lastId(), "t1");
  EXPECT_EQ(store_->decision("t1"), R"({"action":"block"})");
  EXPECT_EQ(store_->decidedCount(), 1u);
  EXPECT_EQ(store_->recentAlerts(0, 10).size(), 1u);
  EXPECT_EQ(store_->peekOutbox(DecisionStore::kAlertsOutbox, 10),
            std::vector<std::string>{R"({"action":"block"})"});
  EXPECT_EQ(store_->outboxLength(DecisionStore::kArchiveOutbox), 1u);
}

TEST_F(DecisionStoreTest, StaleVersionReturnsStoredState) {
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(
      store_->commit({{"acct", 0, state.encode()}}, {{"t1", 0, "{}", false}}).conflicts.empty());

  // A second writer that read version 0 before the first commit gets the
  // state the first one stored, so it can score again without a read.
  const CommitResult result =
      store_->commit({{"acct", 0, state.encode()}}, {{"t2", 0, "{}", false}});
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].account, 0u);
  EXPECT_EQ(result.conflicts[0].stored.version, 1u);
  EXPECT_EQ(result.conflicts[0].stored.state.lastId(), "t1");
  EXPECT_TRUE(result.existing.empty());
  EXPECT_FALSE(store_->decision("t2").has_value());
  EXPECT_EQ(store_->decidedCount(), 1u);
}

TEST_F(DecisionStoreTest, MissingAccountConflictsAtVersionZero) {
  // The writer believed the account had a state, but it has none.
  const AccountState state = stateWithOne("t1");
  const CommitResult result =
      store_->commit({{"acct", 3, state.encode()}}, {{"t1", 0, "{}", false}});
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].stored.version, 0u);
  EXPECT_FALSE(result.conflicts[0].stored.state.hasLast());
}

TEST_F(DecisionStoreTest, ExistingDecisionIsReturned) {
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(store_->commit({{"acct", 0, state.encode()}}, {{"t1", 0, R"({"n":1})", false}})
                  .conflicts.empty());

  // Same id again with the current version: decided already, so nothing of
  // the account is written, and the first decision comes back.
  const CommitResult result = store_->commit(
      {{"acct", 1, state.encode()}}, {{"t2", 0, R"({"n":2})", false}, {"t1", 0, R"({"n":3})", false}});
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].stored.version, 1u);
  ASSERT_EQ(result.existing.size(), 1u);
  EXPECT_EQ(result.existing[0].first, 1u);
  EXPECT_EQ(result.existing[0].second, R"({"n":1})");
  EXPECT_FALSE(store_->decision("t2").has_value());
  EXPECT_EQ(store_->decidedCount(), 1u);
}

TEST_F(DecisionStoreTest, OtherAccountsCommitDespiteConflict) {
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(
      store_->commit({{"a", 0, state.encode()}}, {{"t1", 0, "{}", false}}).conflicts.empty());

  const CommitResult result =
      store_->commit({{"a", 0, state.encode()}, {"b", 0, state.encode()}},
                     {{"t2", 0, "{}", false}, {"t3", 1, "{}", false}});
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].account, 0u);
  EXPECT_FALSE(store_->decision("t2").has_value());
  EXPECT_TRUE(store_->decision("t3").has_value());
}

TEST_F(DecisionStoreTest, ConflictsKeepTheirPositions) {
  // Three accounts, of which only the middle one is stale. Its number and its stored
  // value must come back together.
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(store_->commit({{"b", 0, state.encode()}}, {{"t1", 0, "{}", false}})
                  .conflicts.empty());
  const CommitResult result = store_->commit(
      {{"a", 0, state.encode()}, {"b", 0, state.encode()}, {"c", 0, state.encode()}},
      {{"t2", 0, "{}", false}, {"t3", 1, "{}", false}, {"t4", 2, "{}", false}});
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].account, 1u);
  EXPECT_EQ(result.conflicts[0].stored.version, 1u);
  EXPECT_EQ(result.conflicts[0].stored.state.lastId(), "t1");
  EXPECT_TRUE(store_->decision("t2").has_value());
  EXPECT_FALSE(store_->decision("t3").has_value());
  EXPECT_TRUE(store_->decision("t4").has_value());
}

TEST_F(DecisionStoreTest, DropNeedsTheLease) {
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(store_->commit({{"acct", 0, state.encode()}}, {{"t1", 0, "{}", true, "line"}})
                  .conflicts.empty());
  EXPECT_FALSE(store_->dropOutboxAsHolder(DecisionStore::kAlertsOutbox, 1, "alerts", "a"));
  EXPECT_EQ(store_->outboxLength(DecisionStore::kAlertsOutbox), 1u);
  ASSERT_TRUE(store_->tryLeadership("alerts", "a", std::chrono::milliseconds(5000)));
  EXPECT_FALSE(store_->dropOutboxAsHolder(DecisionStore::kAlertsOutbox, 1, "alerts", "b"));
  EXPECT_TRUE(store_->dropOutboxAsHolder(DecisionStore::kAlertsOutbox, 1, "alerts", "a"));
  EXPECT_EQ(store_->outboxLength(DecisionStore::kAlertsOutbox), 0u);
}

TEST_F(DecisionStoreTest, OutboxKeepsOrderAndDrops) {
  const AccountState state = stateWithOne("t1");
  ASSERT_TRUE(store_->commit({{"acct", 0, state.encode()}},
                             {{"t1", 0, "{}", true, "first", "reports/t1.txt", "body 1"},
                              {"t2", 0, "{}", true, "second", "reports/t2.txt", "body 2"}})
                  .conflicts.empty());
  ASSERT_TRUE(store_->commit({{"acct", 1, state.encode()}}, {{"t3", 0, "{}", false, "third"}})
                  .conflicts.empty());
  // One archive entry per commit, its lines in order.
  const auto archive = store_->peekOutbox(DecisionStore::kArchiveOutbox, 10);
  ASSERT_EQ(archive.size(), 2u);
  EXPECT_EQ(archive[0], "first\nsecond");
  EXPECT_EQ(archive[1], "third");
  EXPECT_EQ(store_->peekOutbox(DecisionStore::kArchiveOutbox, 1, 1),
            std::vector<std::string>{"third"});
  const auto reports = store_->peekOutbox(DecisionStore::kReportsOutbox, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "reports/t1.txt\nbody 1");
  EXPECT_EQ(store_->outboxLength(DecisionStore::kAlertsOutbox), 2u);

  ASSERT_TRUE(store_->tryLeadership("outbox", "test", std::chrono::milliseconds(5000)));
  ASSERT_TRUE(store_->dropOutboxAsHolder(DecisionStore::kArchiveOutbox, 1, "outbox", "test"));
  const auto left = store_->peekOutbox(DecisionStore::kArchiveOutbox, 10);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0], "third");
}

TEST_F(DecisionStoreTest, LargeCommitPushesEveryAlert) {
  // More alerts than one LPUSH call takes in the script.
  const AccountState state = stateWithOne("t1");
  std::vector<AccountWrite> accounts;
  std::vector<DecisionWrite> decisions;
  for (std::size_t i = 0; i < 2500; ++i) {
    accounts.push_back({"acct-" + std::to_string(i), 0, state.encode()});
    decisions.push_back(
        {"t" + std::to_string(i), i, "{}", true, "", "reports/" + std::to_string(i), "r"});
  }
  ASSERT_TRUE(store_->commit(accounts, decisions).conflicts.empty());
  EXPECT_EQ(store_->outboxLength(DecisionStore::kAlertsOutbox), 2500u);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kReportsOutbox), 2500u);
  EXPECT_EQ(store_->recentAlerts(0, 100000).size(), 2500u);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kArchiveOutbox), 0u);
  EXPECT_EQ(store_->decidedCount(), 2500u);

  // Again with one decision past the first MGET chunk decided already:
  // exactly its account conflicts, with that decision returned.
  std::vector<AccountWrite> again;
  std::vector<DecisionWrite> more;
  for (std::size_t i = 0; i < 2500; ++i) {
    again.push_back({"acct-" + std::to_string(i), 1, state.encode()});
    more.push_back({i == 1500 ? "t1500" : "u" + std::to_string(i), i, "{}", false});
  }
  const CommitResult result = store_->commit(again, more);
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].account, 1500u);
  ASSERT_EQ(result.existing.size(), 1u);
  EXPECT_EQ(result.existing[0].first, 1500u);
}

TEST_F(DecisionStoreTest, LeaseHasOneHolder) {
  EXPECT_TRUE(store_->tryLeadership("test", "a", std::chrono::milliseconds(5000)));
  EXPECT_TRUE(store_->tryLeadership("test", "a", std::chrono::milliseconds(5000)));
  EXPECT_FALSE(store_->tryLeadership("test", "b", std::chrono::milliseconds(5000)));
  store_->releaseLeadership("test", "b");
  EXPECT_FALSE(store_->tryLeadership("test", "b", std::chrono::milliseconds(5000)));
  store_->releaseLeadership("test", "a");
  EXPECT_TRUE(store_->tryLeadership("test", "b", std::chrono::milliseconds(5000)));
}

TEST(RedisUrl, RejectsPasswordInUrl) {
  EXPECT_THROW(parseRedisUrl("redis://user:secret@host:6379/0"), RedisError);
  const RedisEndpoint endpoint = parseRedisUrl("redis://cache.internal:6380/3");
  EXPECT_EQ(endpoint.host, "cache.internal");
  EXPECT_EQ(endpoint.port, 6380);
  EXPECT_EQ(endpoint.database, 3);
}

TEST(RedisClient, GivesUpOnUnreachableServer) {
  RedisEndpoint endpoint = parseRedisUrl("redis://127.0.0.1:1/0");
  int retries = 0;
  RedisClient client(endpoint, [&retries](const std::string&, int) { ++retries; });
  client.setMaxAttempts(3);
  EXPECT_THROW(client.command({"PING"}), RedisError);
  EXPECT_EQ(retries, 2);
}

}  // namespace
}  // namespace txguard
