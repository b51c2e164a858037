// DecisionService and AlertRelay against the local stack's real Redis and
// RabbitMQ: the worker's account cache never decides from a stale state,
// a redelivered transaction keeps its first decision, and committed alerts
// reach the alerts exchange once the relay runs. Each test has its own
// Redis database and queue names, so these run alongside other tests.
#include "service/decision_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "queue/amqp_connection.h"
#include "queue/publisher.h"
#include "service/alert_relay.h"
#include "service/gzip.h"
#include "service/outbox_uploader.h"
#include "store/local_folder_store.h"
#include "service_harness.h"
#include "support/stack_env.h"

namespace txguard {
namespace {

using namespace std::chrono_literals;

class DecisionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = test_support::loadStackEnv();
    ASSERT_TRUE(env_.has_value()) << "TXGUARD_STACK_ENV is not set; run through ctest";
    RedisEndpoint endpoint =
        parseRedisUrl(test_support::requireStackValue(*env_, "TXGUARD_REDIS_URL"));
    endpoint.password = test_support::requireStackValue(*env_, "TXGUARD_REDIS_PASSWORD");
    // Database 10 is this test's own.
    endpoint.database = 10;
    redis_ = std::make_unique<RedisClient>(endpoint);
    redis_->command({"FLUSHDB"});
    store_ = std::make_unique<DecisionStore>(*redis_, std::chrono::seconds(600));
    setups_ = std::make_unique<ScoringSetupSource>(
        std::filesystem::path(TXGUARD_SOURCE_DIR) / "config/rules/default.yaml", "none", nullptr);
  }

  // A transaction of account "acct" at minute `minute` in state `location`.
  static Transaction transaction(const std::string& id, int minute, const std::string& location) {
    Transaction t;
    t.id = id;
    t.account = "acct";
    t.timestamp_ms = 1'700'000'000'000 + std::int64_t{minute} * 60'000;
    t.amount = 25.0;
    t.location = location;
    return t;
  }

  std::vector<ScoredTransaction> score(DecisionService& service,
                                       const std::vector<Transaction>& batch) {
    std::vector<ScoredTransaction> out;
    service.score(batch, {}, out);
    return out;
  }

  std::uint32_t storedHistoryCount() {
    const std::vector<std::string> accounts = {"acct"};
    return store_->readAccounts(accounts).at("acct").state.historyCount();
  }

  std::optional<std::map<std::string, std::string>> env_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<DecisionStore> store_;
  std::unique_ptr<ScoringSetupSource> setups_;
  Metrics metrics_;
};

TEST_F(DecisionServiceTest, StaleCacheRescoresFromStoredState) {
  AccountCache cache(100);
  DecisionService cached(*store_, *setups_, metrics_, &cache);
  DecisionService other(*store_, *setups_, metrics_);

  ASSERT_FALSE(score(cached, {transaction("t1", 0, "SP")})[0].duplicate);
  ASSERT_TRUE(cache.find("acct").has_value());
  EXPECT_EQ(cache.find("acct")->version, 1u);

  // Another worker moves the account on behind the cache's back: a
  // purchase in RJ 70 minutes after the one in SP, allowed and recorded.
  ASSERT_EQ(score(other, {transaction("t2", 70, "RJ")})[0].action, Action::kAllow);

  // The cache still contains version 1, whose last purchase is t1 in SP. From
  // it, t3 in SP at minute 100 would be allowed. From the stored state its
  // previous purchase is t2 in RJ 30 minutes earlier: blocked.
  const double conflicts_before = metrics_.commitConflicts().Value();
  const auto result = score(cached, {transaction("t3", 100, "SP")});
  EXPECT_EQ(metrics_.commitConflicts().Value(), conflicts_before + 1)
      << "the stale entry was used, so the commit must have found the account changed";
  EXPECT_FALSE(result[0].duplicate);
  EXPECT_EQ(result[0].action, Action::kBlock) << result[0].decision_json;
  EXPECT_EQ(cache.find("acct")->version, 3u);
  EXPECT_EQ(store_->readAccounts(std::vector<std::string>{"acct"}).at("acct").version, 3u);
  EXPECT_EQ(storedHistoryCount(), 2u) << "t3 was blocked, so it stays out of the history";
  EXPECT_EQ(cache.find("acct")->state.historyCount(), 2u);
  EXPECT_EQ(store_->decidedCount(), 3u);
}

TEST_F(DecisionServiceTest, ReadIncludesCachedAccounts) {
  AccountCache cache(100);
  DecisionService cached(*store_, *setups_, metrics_, &cache);
  DecisionService other(*store_, *setups_, metrics_);
  score(cached, {transaction("t1", 0, "SP")});
  ASSERT_EQ(score(other, {transaction("t2", 70, "RJ")})[0].action, Action::kAllow);

  // "acct" is cached (stale) but "new" is not, so both are read in one
  // pipeline and the stale entry never reaches the commit.
  Transaction fresh = transaction("n1", 100, "SP");
  fresh.account = "new";
  const double conflicts_before = metrics_.commitConflicts().Value();
  const auto result = score(cached, {transaction("t3", 100, "SP"), fresh});
  EXPECT_EQ(metrics_.commitConflicts().Value(), conflicts_before);
  EXPECT_EQ(result[0].action, Action::kBlock) << result[0].decision_json;
  EXPECT_EQ(cache.find("acct")->version, 3u);
  EXPECT_EQ(cache.find("new")->version, 1u);
}

TEST_F(DecisionServiceTest, RedeliveryKeepsFirstDecision) {
  AccountCache cache(100);
  DecisionService service(*store_, *setups_, metrics_, &cache);
  const auto first = score(service, {transaction("t1", 0, "SP")});
  const std::uint32_t history = storedHistoryCount();

  // t1 again with a new one, as a redelivered batch would bring it.
  const auto again = score(service, {transaction("t1", 0, "SP"), transaction("t4", 90, "SP")});
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].decision_json, first[0].decision_json);
  EXPECT_FALSE(again[1].duplicate);
  EXPECT_EQ(storedHistoryCount(), history + 1);
  EXPECT_EQ(store_->decidedCount(), 2u);

  // The same after the cache forgot everything (a restarted worker).
  cache.clear();
  const auto third = score(service, {transaction("t4", 90, "SP")});
  EXPECT_TRUE(third[0].duplicate);
  EXPECT_EQ(storedHistoryCount(), history + 1);
}

TEST_F(DecisionServiceTest, ReportsFromBlockSkipsReviews) {
  DecisionService service(*store_, *setups_, metrics_, nullptr, Action::kBlock);
  // Seven payments in one minute trip the burst rule (review). A payment
  // from another state ten minutes later trips the location rule (block).
  std::vector<Transaction> batch;
  for (int i = 0; i < 7; ++i) batch.push_back(transaction("b" + std::to_string(i), 0, "SP"));
  batch.push_back(transaction("moved", 10, "RJ"));
  const auto scored = score(service, batch);

  int reviews = 0;
  int blocks = 0;
  for (const auto& one : scored) {
    const bool has_report = one.decision_json.find("\"report_key\"") != std::string::npos;
    EXPECT_EQ(has_report, one.action == Action::kBlock) << one.decision_json;
    reviews += one.action == Action::kReview;
    blocks += one.action == Action::kBlock;
  }
  ASSERT_GT(reviews, 0) << "the test data no longer trips a review rule";
  ASSERT_GT(blocks, 0) << "the test data no longer trips a block rule";
  EXPECT_EQ(store_->outboxLength(DecisionStore::kReportsOutbox), static_cast<std::uint64_t>(blocks));
  // Every flagged decision still raises an alert.
  EXPECT_EQ(store_->outboxLength(DecisionStore::kAlertsOutbox),
            static_cast<std::uint64_t>(reviews + blocks));
}

TEST_F(DecisionServiceTest, CacheDoesNotChangeDecisions) {
  // The same sequence scored with and without a cache, in batches, ends
  // in the same stored state and the same actions.
  std::vector<Transaction> all;
  const char* locations[] = {"SP", "SP", "RJ", "RJ", "MG", "SP", "SP", "BA", "BA", "SP"};
  for (int i = 0; i < 10; ++i) {
    all.push_back(transaction("c" + std::to_string(i), i * 25, locations[i]));
  }

  std::vector<Action> without_cache;
  {
    DecisionService service(*store_, *setups_, metrics_);
    for (int i = 0; i < 10; i += 3) {
      std::vector<Transaction> batch(all.begin() + i, all.begin() + std::min(i + 3, 10));
      for (const auto& scored : score(service, batch)) without_cache.push_back(scored.action);
    }
  }
  const std::uint32_t history = storedHistoryCount();
  redis_->command({"FLUSHDB"});

  AccountCache cache(100);
  DecisionService service(*store_, *setups_, metrics_, &cache);
  std::vector<Action> with_cache;
  prometheus::Counter& read_seconds = metrics_.stageSeconds("redis_read");
  for (int i = 0; i < 10; i += 3) {
    std::vector<Transaction> batch(all.begin() + i, all.begin() + std::min(i + 3, 10));
    const double read_before = read_seconds.Value();
    for (const auto& scored : score(service, batch)) with_cache.push_back(scored.action);
    // Only the first batch reads: the later ones find "acct" in the cache.
    if (i == 0) {
      EXPECT_GT(read_seconds.Value(), read_before);
    } else {
      EXPECT_EQ(read_seconds.Value(), read_before) << "batch at " << i << " read from Redis";
    }
  }
  EXPECT_EQ(with_cache, without_cache);
  EXPECT_EQ(storedHistoryCount(), history);
  EXPECT_NE(std::count(with_cache.begin(), with_cache.end(), Action::kAllow), 10)
      << "no state change was flagged, so the comparison tested little";
}

class AlertRelayTest : public DecisionServiceTest {
 protected:
  void SetUp() override {
    DecisionServiceTest::SetUp();
    if (HasFatalFailure()) return;
    amqp_ = parseAmqpUrl(test_support::requireStackValue(*env_, "TXGUARD_AMQP_URL"),
                         test_support::requireStackValue(*env_, "TXGUARD_AMQP_PASSWORD"));
    topology_ = QueueTopology::withSuffix(".test-relay-" + std::to_string(::getpid()));
    listener_ = std::make_unique<AmqpConnection>(amqp_);
    declareTopology(*listener_, topology_);
    queue_ = topology_.alerts_exchange + ".listener";
    listener_->declareQueue(queue_, {{"x-expires", std::int64_t{600000}}});
    listener_->bindQueue(queue_, topology_.alerts_exchange, "alert.#");
    listener_->consume(queue_);
  }

  void TearDown() override {
    if (!listener_) return;
    try {
      AmqpConnection connection(amqp_);
      connection.deleteQueue(queue_);
      deleteTopology(connection, topology_);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot delete the test topology: " << error.what();
    }
  }

  AmqpConfig amqp_;
  QueueTopology topology_;
  std::string queue_;
  std::unique_ptr<AmqpConnection> listener_;
};

TEST_F(AlertRelayTest, PublishesAlertsInCommitOrder) {
  AccountState state;
  std::vector<AccountWrite> accounts;
  std::vector<DecisionWrite> decisions;
  for (int i = 0; i < 30; ++i) {
    accounts.push_back({"a" + std::to_string(i), 0, state.encode()});
    const std::string action = i % 3 == 0 ? "block" : "review";
    decisions.push_back({"r" + std::to_string(i), static_cast<std::size_t>(i),
                         R"({"transaction_id":"r)" + std::to_string(i) + R"(","action":")" +
                             action + R"("})",
                         true});
  }
  ASSERT_TRUE(store_->commit(accounts, decisions).conflicts.empty());

  Publisher publisher(amqp_, topology_);
  AlertRelay relay(*store_, publisher, metrics_, AlertRelayOptions{"relay-a", 20});
  Publisher other_publisher(amqp_, topology_);
  AlertRelay other(*store_, other_publisher, metrics_, AlertRelayOptions{"relay-b", 20});

  EXPECT_EQ(relay.runOnce(), 20u);
  EXPECT_EQ(other.runOnce(), 0u) << "the second relay published without the lease";
  EXPECT_EQ(relay.runOnce(), 10u);
  EXPECT_EQ(relay.runOnce(), 0u);
  EXPECT_EQ(relay.backlog(), 0u);

  const auto messages = service_test::drainMessages(
      *listener_, 1000ms, 20000ms,
      [](const std::vector<service_test::ReceivedMessage>& got) { return got.size() >= 30; });
  ASSERT_EQ(messages.size(), 30u);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    // In commit order, with the action as routing key and the id as
    // message_id.
    EXPECT_EQ(messages[i].message_id, "r" + std::to_string(i));
    EXPECT_EQ(messages[i].routing_key, i % 3 == 0 ? "alert.block" : "alert.review");
    EXPECT_EQ(transactionIdOfDecisionJson(messages[i].body), messages[i].message_id);
  }

  relay.release();
  ASSERT_TRUE(store_->commit({{"late", 0, state.encode()}},
                             {{"late-1", 0, R"({"transaction_id":"late-1","action":"block"})", true}})
                  .conflicts.empty());
  EXPECT_EQ(other.runOnce(), 1u) << "the lease was released, so the other relay takes over";
}

// Writes through to a real folder, and records how many puts were in
// flight at once. A put of `failing_key_` throws.
class CountingStore : public ObjectStore {
 public:
  explicit CountingStore(const std::filesystem::path& root) : folder_(root, false) {}

  void put(const std::string& key, std::string_view body, const std::string& type) override {
    const int now = ++in_flight_;
    int seen = most_in_flight_.load();
    while (now > seen && !most_in_flight_.compare_exchange_weak(seen, now)) {
    }
    // Long enough for the other uploads of a pass to start meanwhile.
    std::this_thread::sleep_for(20ms);
    --in_flight_;
    {
      std::lock_guard lock(mutex_);
      if (key == failing_key_) throw ObjectStoreError("put '" + key + "': rejected by the test");
    }
    folder_.put(key, body, type);
  }
  std::optional<std::string> get(const std::string& key) override { return folder_.get(key); }
  bool exists(const std::string& key) override { return folder_.exists(key); }
  std::vector<ObjectInfo> list(const std::string& prefix) override { return folder_.list(prefix); }
  std::string downloadLink(const std::string& key, std::chrono::seconds expiry) override {
    return folder_.downloadLink(key, expiry);
  }

  void failOn(const std::string& key) {
    std::lock_guard lock(mutex_);
    failing_key_ = key;
  }
  int mostInFlight() const { return most_in_flight_; }

 private:
  LocalFolderStore folder_;
  std::mutex mutex_;
  std::string failing_key_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> most_in_flight_{0};
};

TEST_F(DecisionServiceTest, UploaderPutsReportsInParallel) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("txguard-uploader-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  CountingStore reports(root / "reports");
  CountingStore archive(root / "archive");
  constexpr int kReports = 40;
  for (int i = 0; i < kReports; ++i) {
    redis_->command({"LPUSH", std::string(DecisionStore::kReportsOutbox),
                     fmt::format("reports/r{}.txt\nreport {}", i, i)});
  }

  OutboxOptions options{"uploader-test"};
  options.upload_concurrency = 8;
  OutboxUploader uploader(*store_, reports, archive, metrics_, options);

  // One failed report keeps the whole pass in the outbox: nothing leaves
  // Redis before its object is written.
  reports.failOn("reports/r7.txt");
  EXPECT_THROW(uploader.runOnce(), ObjectStoreError);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kReportsOutbox), static_cast<std::uint64_t>(kReports));

  reports.failOn("");
  EXPECT_EQ(uploader.runOnce(), static_cast<std::size_t>(kReports));
  EXPECT_EQ(store_->outboxLength(DecisionStore::kReportsOutbox), 0u);
  for (int i = 0; i < kReports; ++i) {
    EXPECT_EQ(reports.get(fmt::format("reports/r{}.txt", i)), fmt::format("report {}", i));
  }
  EXPECT_GT(reports.mostInFlight(), 1) << "the reports were written one at a time";
  EXPECT_LE(reports.mostInFlight(), 8) << "more uploads in flight than upload_concurrency";

  // With a concurrency of 1 the uploads go one at a time.
  for (int i = 0; i < 5; ++i) {
    redis_->command({"LPUSH", std::string(DecisionStore::kReportsOutbox),
                     fmt::format("reports/s{}.txt\nsingle {}", i, i)});
  }
  CountingStore single(root / "single");
  options.upload_concurrency = 1;
  OutboxUploader one_at_a_time(*store_, single, archive, metrics_, options);
  EXPECT_EQ(one_at_a_time.runOnce(), 5u);
  EXPECT_EQ(single.mostInFlight(), 1);
  std::filesystem::remove_all(root);
}

TEST_F(DecisionServiceTest, UploaderPassesAreSeparate) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("txguard-halves-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  LocalFolderStore reports(root / "reports", false);
  LocalFolderStore archive(root / "archive", false);
  redis_->command({"LPUSH", std::string(DecisionStore::kReportsOutbox), "reports/a.txt\nreport a"});
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":1}\n{\"line\":2}"});
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":3}"});

  OutboxOptions options{"halves"};
  options.archive_interval = std::chrono::hours(1);
  OutboxUploader uploader(*store_, reports, archive, metrics_, options);
  EXPECT_EQ(uploader.runReportsOnce(), 1u);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kReportsOutbox), 0u);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kArchiveOutbox), 2u) << "the report pass took archive lines";
  EXPECT_EQ(reports.get("reports/a.txt"), "report a");

  EXPECT_EQ(uploader.runArchiveOnce(), 3u) << "the first object waits for no interval";
  EXPECT_EQ(store_->outboxLength(DecisionStore::kArchiveOutbox), 0u);
  const auto objects = archive.list("archive/");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(gzipDecompress(*archive.get(objects[0].key)), "{\"line\":1}\n{\"line\":2}\n{\"line\":3}\n");

  // A small object right after the last one waits for the interval, unless
  // flushed (at shutdown); a full one does not wait.
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":4}"});
  EXPECT_EQ(uploader.runArchiveOnce(), 0u);
  EXPECT_EQ(store_->outboxLength(DecisionStore::kArchiveOutbox), 1u);
  EXPECT_EQ(uploader.runArchiveOnce(/*flush=*/true), 1u);
  OutboxOptions full_options = options;
  full_options.archive_batch = 2;
  OutboxUploader full_side(*store_, reports, archive, metrics_, full_options);
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":5}"});
  EXPECT_EQ(full_side.runArchiveOnce(), 1u);
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":6}"});
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":7}"});
  EXPECT_EQ(full_side.runArchiveOnce(), 2u) << "a full object waited for the interval";
  EXPECT_EQ(archive.list("archive/").size(), 4u);

  // Each half has a lease of its own: another worker can hold the archive
  // lease while this one uploads reports, and the reverse.
  store_->releaseLeadership(OutboxUploader::kArchiveLease, "halves");
  OutboxUploader other(*store_, reports, archive, metrics_, OutboxOptions{"someone-else"});
  redis_->command({"LPUSH", std::string(DecisionStore::kArchiveOutbox), "{\"line\":8}"});
  EXPECT_EQ(other.runArchiveOnce(), 1u);
  EXPECT_EQ(uploader.runArchiveOnce(/*flush=*/true), 0u) << "two holders of the archive lease";
  redis_->command({"LPUSH", std::string(DecisionStore::kReportsOutbox), "reports/b.txt\nreport b"});
  EXPECT_EQ(other.runReportsOnce(), 0u) << "two holders of the report lease";
  EXPECT_EQ(uploader.runReportsOnce(), 1u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace txguard
