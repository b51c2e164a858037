// Exactly-once decisions while servers and workers fail. Each test runs
// kRounds rounds of kRoundSize transactions, with the fault in the middle
// of the stream, and then checks that every transaction has exactly one
// decision: txg:stats:decided (raised once per committed decision, in the
// same atomic commit) equals the number of distinct ids, every id's
// decision is stored, and nothing went to the dead-letter queue.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "queue/consumer.h"
#include "queue/publisher.h"
#include "service/transaction_codec.h"
#include "service_harness.h"

namespace txguard::service_test {
namespace {

// 3 rounds of 3,000 transactions: 9,000 per fault. Where the replay runs
// during the fault, its rate spreads a round over about 3 s, so the fault
// lands while messages still arrive.
constexpr int kRounds = 3;
constexpr std::size_t kRoundSize = 3000;
constexpr int kReplayRate = 1000;

// Accounts in the synthetic data; each gets a transaction every 10 minutes.
constexpr std::size_t kAccounts = 250;

// 2024-06-01T00:00:00Z.
constexpr std::int64_t kStartMs = 1717200000000;

// Writes `count` canonical JSON Lines transactions with ids
// "<prefix>-<n>". Every eighth transaction of an account moves from RJ to
// SP ten minutes after the previous one, so the ACME rule blocks it and the
// worker writes a report and an alert.
std::vector<std::string> writeTransactions(const std::filesystem::path& path,
                                           const std::string& prefix, std::size_t count) {
  std::ofstream out(path);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t account = i % kAccounts;
    const std::size_t sequence = i / kAccounts;
    const std::int64_t timestamp_ms = kStartMs + static_cast<std::int64_t>(sequence) * 600000 +
                                      static_cast<std::int64_t>(account) * 1000;
    Transaction transaction;
    transaction.id = fmt::format("{}-{}", prefix, i);
    transaction.account = fmt::format("{}-acct-{}", prefix, account);
    transaction.timestamp_ms = timestamp_ms;
    transaction.amount = 10.0 + static_cast<double>((i * 37) % 500);
    transaction.location = sequence % 8 == 7 ? "SP" : "RJ";
    transaction.category = "PAYMENT";
    std::string line;
    appendCanonicalJson(line, transaction);
    out << line << '\n';
    ids.push_back(transaction.id);
  }
  return ids;
}

// Parses one counter of a Prometheus text page, summing its label sets.
double metricValue(const std::string& page, const std::string& name) {
  double total = 0;
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != ' ' && next != '{') continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

class ServiceFaultTest : public ServiceTest {
 protected:
  // Writes round `round`'s data file and starts `txguard replay --to queue`
  // on it without waiting; returns the ids.
  std::vector<std::string> startReplay(const std::string& prefix, ChildProcess** replay) {
    const auto path = log_dir_ / (prefix + ".jsonl");
    std::vector<std::string> ids = writeTransactions(path, prefix, kRoundSize);
    *replay = &spawn("replay",
                     {"replay", path.string(), "--to", "queue", "--rate",
                      std::to_string(kReplayRate), "--batch", "100"},
                     serviceEnvironment());
    return ids;
  }

  void finishReplay(ChildProcess& replay) {
    const std::optional<int> status = replay.waitExit(120s);
    ASSERT_TRUE(status.has_value()) << "replay still running after 120 s:\n" << replay.log();
    ASSERT_EQ(*status, 0) << replay.log();
  }

  // Messages in txguard.transactions.dlq, read (and removed) within 1 s of
  // quiet.
  std::vector<ReceivedMessage> drainDeadLetters(
      std::chrono::milliseconds timeout = 2s,
      const std::function<bool(const std::vector<ReceivedMessage>&)>& until = {}) {
    AmqpConnection connection(amqp_);
    connection.consume(QueueTopology{}.dead_letter_queue);
    return drainMessages(connection, 1000ms, timeout, until);
  }

  // The exactly-once check after all `ids` (every round so far) were sent.
  void expectExactlyOnce(const std::vector<std::string>& ids, const std::string& round) {
    const std::uint64_t decided = waitDecided(ids.size(), 180s);
    // A little longer, so a late second decision would show up too.
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(decidedCount(), ids.size()) << round << ": decided " << decided;
    const std::vector<std::string> missing = missingDecisions(ids);
    EXPECT_TRUE(missing.empty()) << round << ": " << missing.size() << " ids without a decision, "
                                 << "first " << (missing.empty() ? "" : missing.front());
    const auto dead = drainDeadLetters();
    EXPECT_TRUE(dead.empty()) << round << ": " << dead.size() << " messages dead-lettered, first "
                              << (dead.empty() ? "" : dead.front().message_id);
  }

  double workerMetric(const ChildProcess& worker, const std::string& name) {
    return metricValue(httpGet(workerPort(worker), "/metrics").body, name);
  }
};

// The whole round is queued first, so the worker is busy when it is
// killed: the kill lands at a random point of a batch, sometimes between
// the Redis commit and the ack, and the next worker then gets deliveries
// that are already decided.
TEST_F(ServiceFaultTest, WorkerKilledMidBatch) {
  std::vector<std::string> all_ids;
  double duplicates = 0;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("kill-r{}", round);
    const auto path = log_dir_ / (name + ".jsonl");
    const std::vector<std::string> ids = writeTransactions(path, name, kRoundSize);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    ASSERT_EQ(runTxguard("replay", {"replay", path.string(), "--to", "queue", "--batch", "500"}),
              0);

    ChildProcess& first = startWorker();
    // A different point of the stream in each round, polled every 2 ms so
    // the worker is still in the middle of its work.
    const std::uint64_t kill_at = all_ids.size() - kRoundSize + kRoundSize * round / 4;
    ASSERT_TRUE(waitUntil([&] { return decidedCount() >= kill_at; }, 120s, 2ms)) << name;
    first.signal(SIGKILL);
    ASSERT_EQ(first.waitExit(10s), 128 + SIGKILL);
    const std::uint64_t decided_at_kill = decidedCount();
    EXPECT_LT(decided_at_kill, all_ids.size()) << name << ": the worker finished before the kill";

    ChildProcess& second = startWorker();
    expectExactlyOnce(all_ids, name);
    const double seen = workerMetric(second, "txguard_decisions_duplicate_total");
    duplicates += seen;
    std::cout << name << ": killed after " << decided_at_kill - (all_ids.size() - kRoundSize)
              << " of " << kRoundSize << " decisions; the next worker got " << seen
              << " deliveries that were already decided\n";
    second.stop(20s);
  }
  // NOTE: not asserted, because where the kill lands is chance; 0 in every
  // round means no kill hit the commit-to-ack window.
  std::cout << "already decided deliveries over " << kRounds << " rounds: " << duplicates << "\n";
}

TEST_F(ServiceFaultTest, RabbitMqRestartDuringConsumption) {
  ChildProcess& worker = startWorker();
  std::vector<std::string> all_ids;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("rabbitmq-r{}", round);
    ChildProcess* replay = nullptr;
    const std::vector<std::string> ids = startReplay(name, &replay);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());

    const std::uint64_t restart_at = all_ids.size() - kRoundSize + kRoundSize * round / 4;
    ASSERT_TRUE(waitUntil([&] { return decidedCount() >= restart_at; }, 120s)) << name;
    stackCommand("restart-rabbitmq");

    finishReplay(*replay);
    expectExactlyOnce(all_ids, name);
    ASSERT_TRUE(worker.running()) << "the worker exited during " << name;
  }
  EXPECT_GT(workerMetric(worker, "txguard_retries_total"), 0)
      << "the worker never reconnected, so the restart was not seen";
}

TEST_F(ServiceFaultTest, RedisRestartKeepsStateAndDecisions) {
  startApi();
  ChildProcess& worker = startWorker();
  std::vector<std::string> all_ids;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("redis-r{}", round);

    // Account history written before the restart must still be there
    // afterwards: the second transaction is blocked only if the first one
    // (RJ, 30 minutes earlier) is remembered.
    const std::string account = name + "-history";
    const HttpReply before = apiPost(
        "/v1/score",
        fmt::format(
            R"({{"id":"{0}-a","account":"{1}","timestamp":"2024-03-01T10:00:00Z","amount":50,"location":"RJ"}})",
            name, account));
    ASSERT_EQ(before.status, 200) << before.body;
    EXPECT_EQ(before.json().value("action", ""), "allow") << before.body;
    all_ids.push_back(name + "-a");

    ChildProcess* replay = nullptr;
    const std::vector<std::string> ids = startReplay(name, &replay);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    const std::uint64_t restart_at = all_ids.size() - kRoundSize + kRoundSize * round / 4;
    ASSERT_TRUE(waitUntil([&] { return decidedCount() >= restart_at; }, 120s)) << name;
    stackCommand("restart-redis");

    const HttpReply after = apiPost(
        "/v1/score",
        fmt::format(
            R"({{"id":"{0}-b","account":"{1}","timestamp":"2024-03-01T10:30:00Z","amount":50,"location":"SP"}})",
            name, account));
    ASSERT_EQ(after.status, 200) << after.body;
    const nlohmann::json decision = after.json();
    EXPECT_EQ(decision.value("action", ""), "block") << after.body;
    bool acme_fired = false;
    for (const auto& reason : decision["reasons"]) {
      acme_fired = acme_fired || reason.value("name", "") == "acme_location_change_within_hour";
    }
    EXPECT_TRUE(acme_fired) << "the account's pre-restart history was lost: " << after.body;
    all_ids.push_back(name + "-b");

    finishReplay(*replay);
    expectExactlyOnce(all_ids, name);
    ASSERT_TRUE(worker.running()) << "the worker exited during " << name;
  }
}

TEST_F(ServiceFaultTest, S3OutageKeepsDecidingAndCatchesUp) {
  // AddressSanitizer keeps up to 256 MiB of freed memory in quarantine by
  // default, which would hide any growth of the worker's own memory.
  // Other builds ignore the variable.
  const char* asan_options = std::getenv("ASAN_OPTIONS");
  ChildProcess& worker = startWorker(
      {{"ASAN_OPTIONS", std::string(asan_options ? asan_options : "") + ":quarantine_size_mb=8"}});
  std::vector<std::string> all_ids;

  // Warm-up: the worker's memory settles before the first measurement.
  {
    ChildProcess* replay = nullptr;
    const auto ids = startReplay("s3-warmup", &replay);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    finishReplay(*replay);
    ASSERT_EQ(waitDecided(all_ids.size(), 120s), all_ids.size());
    ASSERT_TRUE(waitUntil([&] { return outboxLength() == 0; }, 60s)) << "outbox never drained";
  }

  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("s3-r{}", round);
    const std::uint64_t rss_before_kib = worker.residentKib();
    stackCommand("stop-s3");

    ChildProcess* replay = nullptr;
    const std::vector<std::string> ids = startReplay(name, &replay);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    finishReplay(*replay);

    // Decisions go on without S3, and what S3 should receive waits in the
    // Redis outbox: one archive line per decision, plus the reports.
    EXPECT_EQ(waitDecided(all_ids.size(), 120s), all_ids.size()) << name;
    const std::uint64_t waiting = archiveLinesWaiting();
    EXPECT_GE(waiting, kRoundSize) << name;
    // NOTE: a round's backlog is about 2 MiB of JSON. So this bound only
    // catches a worker that keeps many copies of it, such as one per failed
    // upload attempt. The outbox length above shows where the backlog is.
    const std::uint64_t rss_after_kib = worker.residentKib();
    EXPECT_LT(rss_after_kib, rss_before_kib + 16 * 1024)
        << name << ": worker RSS grew from " << rss_before_kib << " KiB to " << rss_after_kib
        << " KiB while " << waiting << " archive lines waited";
    std::cout << name << ": " << waiting << " archive lines waited; worker RSS " << rss_before_kib
              << " -> " << rss_after_kib << " KiB\n";

    stackCommand("start-s3");
    EXPECT_TRUE(waitUntil([&] { return outboxLength() == 0; }, 120s, 500ms))
        << name << ": " << outboxLength() << " outbox entries left after S3 came back";

    // Reports of this round's flagged transactions are in the bucket.
    S3Store reports = bucketStore(bucket_reports_);
    DecisionStore store = decisionStore();
    std::size_t flagged = 0;
    for (const std::string& id : ids) {
      const auto json = store.decision(id);
      ASSERT_TRUE(json.has_value()) << id;
      const nlohmann::json decision = nlohmann::json::parse(*json);
      if (decision.value("action", "allow") == "allow") continue;
      ++flagged;
      EXPECT_TRUE(reports.exists(decision.value("report_key", ""))) << id;
    }
    EXPECT_GT(flagged, 0u) << name;

    // Every decision so far is archived (at least once).
    const auto archived = readArchive();
    std::size_t missing = 0;
    for (const std::string& id : all_ids) missing += archived.count(id) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << name << ": decisions missing from the archive";

    expectExactlyOnce(all_ids, name);
  }
}

TEST_F(ServiceFaultTest, PoisonMessagesGoToDeadLetterQueue) {
  ChildProcess& worker = startWorker();
  Publisher publisher(amqp_);
  const QueueTopology topology;
  std::vector<std::string> good_ids;
  double poison_total = 0;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("poison-r{}", round);

    // kRoundSize good messages with a poison one after every 300th, and one
    // more at the very end, so a batch also ends on a poison message.
    std::vector<OutgoingMessage> messages;
    std::map<std::string, std::string> poison;  // message id -> expected reason
    for (std::size_t i = 0; i < kRoundSize; ++i) {
      Transaction transaction;
      transaction.id = fmt::format("{}-{}", name, i);
      transaction.account = fmt::format("{}-acct-{}", name, i % kAccounts);
      transaction.timestamp_ms = kStartMs + static_cast<std::int64_t>(i) * 1000;
      transaction.amount = 20;
      std::string body;
      appendTransactionMessage(body, transaction, 0);
      messages.push_back(transactionMessage(topology, transaction.id, body));
      good_ids.push_back(transaction.id);

      if (i % 300 == 299 || i + 1 == kRoundSize) {
        const std::string id = fmt::format("{}-poison-{}", name, poison.size());
        if (poison.size() % 2 == 0) {
          messages.push_back(transactionMessage(topology, id, "this is not JSON {"));
          poison[id] = "invalid transaction message";
        } else {
          messages.push_back(transactionMessage(
              topology, id,
              fmt::format(R"({{"id":"{}","timestamp_ms":{},"amount":5.0}})", id, kStartMs)));
          poison[id] = "missing field account";
        }
      }
    }
    for (std::size_t start = 0; start < messages.size(); start += 500) {
      const std::size_t end = std::min(messages.size(), start + 500);
      const PublishResult result =
          publisher.publishBatch(std::span(messages).subspan(start, end - start));
      ASSERT_TRUE(result.allConfirmed()) << name;
    }

    poison_total += static_cast<double>(poison.size());

    EXPECT_EQ(waitDecided(good_ids.size(), 120s), good_ids.size()) << name;
    const auto dead = drainDeadLetters(30s, [&](const std::vector<ReceivedMessage>& received) {
      return received.size() >= poison.size();
    });
    EXPECT_EQ(dead.size(), poison.size()) << name;
    for (const ReceivedMessage& message : dead) {
      auto it = poison.find(message.message_id);
      ASSERT_NE(it, poison.end()) << "unexpected dead letter " << message.message_id;
      const auto reason = headerAs<std::string>(message.headers, kReasonHeader);
      ASSERT_TRUE(reason.has_value()) << message.message_id << " has no x-txguard-reason";
      EXPECT_NE(reason->find(it->second), std::string::npos)
          << message.message_id << ": " << *reason;
    }
    EXPECT_EQ(decidedCount(), good_ids.size()) << name;
    EXPECT_TRUE(missingDecisions(good_ids).empty()) << name;
  }

  // No fault happened, so no good message may have been delivered twice:
  // acking a batch must not disturb the channel after a dead-lettering.
  EXPECT_EQ(workerMetric(worker, "txguard_decisions_duplicate_total"), 0);
  EXPECT_EQ(workerMetric(worker, "txguard_dead_lettered_total"), poison_total);
}

TEST_F(ServiceFaultTest, SigtermDrainsAndExitsZero) {
  constexpr int kGraceSeconds = 10;
  std::vector<std::string> all_ids;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = fmt::format("sigterm-r{}", round);
    ChildProcess& first =
        startWorker({{"TXGUARD_SHUTDOWN_GRACE_SECONDS", std::to_string(kGraceSeconds)}});
    ChildProcess* replay = nullptr;
    const std::vector<std::string> ids = startReplay(name, &replay);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());

    const std::uint64_t stop_at = all_ids.size() - kRoundSize + kRoundSize * round / 4;
    ASSERT_TRUE(waitUntil([&] { return decidedCount() >= stop_at; }, 120s)) << name;
    const auto signalled = Clock::now();
    first.signal(SIGTERM);
    const std::optional<int> status = first.waitExit(std::chrono::seconds(kGraceSeconds + 5));
    const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
    ASSERT_TRUE(status.has_value()) << name << ": still running " << seconds << " s after SIGTERM";
    EXPECT_EQ(*status, 0) << name << ":\n" << first.log();
    EXPECT_LT(seconds, kGraceSeconds) << name;
    EXPECT_NE(first.log().find("worker drained"), std::string::npos) << first.log();
    std::cout << name << ": exited " << seconds << " s after SIGTERM with "
              << decidedCount() - (all_ids.size() - kRoundSize) << " of " << kRoundSize
              << " decided\n";

    startWorker();
    finishReplay(*replay);
    expectExactlyOnce(all_ids, name);
  }
}

}  // namespace
}  // namespace txguard::service_test
