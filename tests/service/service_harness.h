// Test fixture for the service tests. It runs `txguard api`, `txguard
// worker` and `txguard replay` as child processes against the local stack,
// each test with its own Redis database and S3 buckets. Clients for HTTP,
// Redis, RabbitMQ and S3 let the test check what the service did.
//
// The RabbitMQ queue names are fixed (txguard.transactions and its DLQ), so
// these tests must run one at a time: CMake marks them FAULT (RUN_SERIAL),
// and SetUp empties both queues.
#pragma once

#include <curl/curl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cache/decision_store.h"
#include "cache/redis_client.h"
#include "child_process.h"
#include "ingest/reader.h"
#include "queue/amqp_config.h"
#include "queue/amqp_connection.h"
#include "queue/errors.h"
#include "queue/topology.h"
#include "service/gzip.h"
#include "store/s3_store.h"
#include "support/stack_env.h"

namespace txguard::service_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::string sourcePath(const std::string& relative) {
  return std::string(TXGUARD_SOURCE_DIR) + "/" + relative;
}

inline std::string txguardBinary() { return std::string(TXGUARD_BINARY_DIR) + "/txguard"; }

// Returns a TCP port that was free on 127.0.0.1 when this returned. Another
// process can take it before the child binds it. The child then exits, and
// waitHealthy() fails the test with the child's log.
inline int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free TCP port on 127.0.0.1");
  }
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// The message of the last exception waitUntil() caught, for failure output.
inline std::string& lastWaitError() {
  static std::string message;
  return message;
}

// Polls `condition` every `interval` until it returns true or `timeout`
// passes. Exceptions count as "not yet", because the tests poll through
// server restarts; the last one is kept in lastWaitError().
inline bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds interval = 200ms) {
  const auto deadline = Clock::now() + timeout;
  lastWaitError().clear();
  for (;;) {
    try {
      if (condition()) return true;
    } catch (const std::exception& error) {
      lastWaitError() = error.what();
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

struct HttpReply {
  int status = -1;  // -1: no response (connection failed or timed out)
  std::string body;
  httplib::Headers headers;

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// GET of an absolute URL with libcurl, as a person following a presigned
// report link would.
inline HttpReply curlGet(const std::string& url) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* out) {
        static_cast<std::string*>(out)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    reply.status = static_cast<int>(status);
  }
  curl_easy_cleanup(curl);
  return reply;
}

// One message taken from a test queue.
struct ReceivedMessage {
  std::string message_id;
  std::string routing_key;
  std::string body;
  Headers headers;
};

// Reads every message that arrives within `quiet` of the previous one (or
// until `until` returns true), acking each, from an open consumer.
inline std::vector<ReceivedMessage> drainMessages(
    AmqpConnection& connection, std::chrono::milliseconds quiet, std::chrono::milliseconds timeout,
    const std::function<bool(const std::vector<ReceivedMessage>&)>& until = {}) {
  std::vector<ReceivedMessage> messages;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (until && until(messages)) break;
    auto event = connection.nextEvent(quiet);
    if (!event) {
      if (!until) break;
      continue;
    }
    if (auto* delivery = std::get_if<Delivery>(&*event)) {
      messages.push_back(
          {delivery->message_id, delivery->routing_key, delivery->body, delivery->headers});
      connection.ack(delivery->delivery_tag, false);
    }
  }
  return messages;
}

// A durable test queue bound to txguard.alerts with `alert.#`, so the test
// sees every alert the workers publish. The broker deletes it 10 minutes
// after its last use, in case the test dies before its destructor runs.
class AlertListener {
 public:
  explicit AlertListener(const AmqpConfig& config)
      : connection_(config),
        queue_(fmt::format("txguard.test-alerts-{}-{}", ::getpid(), counter()++)) {
    connection_.declareQueue(queue_, {{"x-expires", std::int64_t{600000}}});
    connection_.bindQueue(queue_, QueueTopology{}.alerts_exchange, "alert.#");
    connection_.consume(queue_);
  }

  ~AlertListener() {
    try {
      connection_.deleteQueue(queue_);
    } catch (const std::exception&) {
      // x-expires removes it later.
    }
  }

  // Collects alerts until every id in `expected` has arrived or `timeout`
  // passes; returns message_id -> routing key (the last one seen).
  std::map<std::string, std::string> collect(const std::set<std::string>& expected,
                                             std::chrono::milliseconds timeout) {
    auto seen_all = [&](const std::vector<ReceivedMessage>&) {
      for (const std::string& id : expected) {
        if (!received_.count(id)) return false;
      }
      return true;
    };
    const auto deadline = Clock::now() + timeout;
    while (!seen_all({}) && Clock::now() < deadline) {
      for (const ReceivedMessage& message : drainMessages(connection_, 500ms, 500ms)) {
        received_[message.message_id] = message.routing_key;
        bodies_[message.message_id] = message.body;
      }
    }
    // Read what is still in flight, so unexpected extra alerts show up too.
    for (const ReceivedMessage& message : drainMessages(connection_, 500ms, 2000ms)) {
      received_[message.message_id] = message.routing_key;
      bodies_[message.message_id] = message.body;
    }
    return received_;
  }

  const std::map<std::string, std::string>& bodies() const { return bodies_; }

 private:
  static std::atomic<int>& counter() {
    static std::atomic<int> value{0};
    return value;
  }

  AmqpConnection connection_;
  std::string queue_;
  std::map<std::string, std::string> received_;
  std::map<std::string, std::string> bodies_;
};

// Reads `path` with txguard's own readers, so tests know the ids (and
// hashed accounts) that `txguard replay` publishes for the same file.
inline std::vector<Transaction> readTransactions(const std::string& path, std::size_t limit,
                                                 const std::string& pan_hash_key) {
  ReaderOptions options;
  options.pan_hash_key = pan_hash_key;
  RejectList rejects;
  auto reader = openReader(path, options, rejects);
  std::vector<Transaction> transactions;
  Transaction transaction;
  while ((limit == 0 || transactions.size() < limit) && reader->next(transaction)) {
    transactions.push_back(transaction);
  }
  return transactions;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto env = test_support::loadStackEnv();
    if (!env) {
      GTEST_SKIP() << "TXGUARD_STACK_ENV is not set; run through ctest, whose local_stack "
                      "fixture starts Redis, RabbitMQ and S3";
    }
    stack_ = *env;
    stack_dir_ = test_support::requireStackValue(stack_, "TXGUARD_STACK_DIR");
    ASSERT_TRUE(std::filesystem::exists(txguardBinary()))
        << txguardBinary() << " is missing; build the txguard target";

    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    test_name_ = std::string(info->test_suite_name()) + "." + info->name();
    log_dir_ = std::filesystem::path(TXGUARD_BINARY_DIR) / "service-test-logs" /
               (std::string(info->test_suite_name()) + "-" + info->name());
    std::filesystem::remove_all(log_dir_);
    std::filesystem::create_directories(log_dir_);

    // Database 1-15 by test name (0 is left to people using the stack by
    // hand); FLUSHDB below makes a reused number harmless, as tests run
    // one at a time.
    redis_database_ = 1 + static_cast<int>(std::hash<std::string>{}(test_name_) % 15);
    // Fresh buckets per run, so an archive listing never sees an earlier run.
    const auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const std::string bucket_prefix = fmt::format("svc-{:x}-{:x}", redis_database_, stamp);
    bucket_reports_ = bucket_prefix + "-reports";
    bucket_archive_ = bucket_prefix + "-archive";
    bucket_models_ = bucket_prefix + "-models";

    amqp_ = parseAmqpUrl(stackValue("TXGUARD_AMQP_URL"), stackValue("TXGUARD_AMQP_PASSWORD"));
    amqp_.connection_name = "txguard-service-test";
    amqp_.connect_timeout = 3000ms;
    // The test's own connections sit idle while it waits for the service;
    // with heartbeats the broker would close them after a minute.
    amqp_.heartbeat = 0s;

    flushRedis();
    purgeQueues();
  }

  void TearDown() override {
    // Stop workers before the api, newest first; always, even on failure.
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) (*it)->stop(15s);
    if (HasFailure()) {
      for (const auto& child : children_) {
        const std::string log = child->log();
        const std::size_t keep = 4000;
        std::cerr << "---- last output of " << child->name() << " (pid " << child->pid()
                  << ", full log " << child->logPath() << ")\n"
                  << (log.size() > keep ? log.substr(log.size() - keep) : log) << "\n";
      }
    }
    children_.clear();
  }

  const std::string& stackValue(const std::string& name) const {
    return test_support::requireStackValue(stack_, name);
  }

  std::string redisUrl() const {
    return fmt::format("redis://127.0.0.1:{}/{}", stackValue("TXGUARD_STACK_REDIS_PORT"),
                       redis_database_);
  }

  // The environment of a service process: this process's variables minus
  // any TXGUARD_*, the stack's settings, this test's database and buckets,
  // then `extra`.
  Environment serviceEnvironment(const Environment& extra = {}) const {
    Environment environment;
    for (const auto& [name, value] : currentEnvironment()) {
      if (name.rfind("TXGUARD_", 0) != 0) environment[name] = value;
    }
    for (const auto& [name, value] : stack_) {
      if (name.rfind("TXGUARD_STACK_", 0) != 0) environment[name] = value;
    }
    environment["TXGUARD_REDIS_URL"] = redisUrl();
    environment["TXGUARD_S3_BUCKET_REPORTS"] = bucket_reports_;
    environment["TXGUARD_S3_BUCKET_ARCHIVE"] = bucket_archive_;
    environment["TXGUARD_S3_BUCKET_MODELS"] = bucket_models_;
    environment["TXGUARD_RULES_FILE"] = sourcePath("config/rules/default.yaml");
    environment["TXGUARD_MODEL_NAME"] = "paysim";
    environment["TXGUARD_SHUTDOWN_GRACE_SECONDS"] = "20";
    for (const auto& [name, value] : extra) environment[name] = value;
    return environment;
  }

  ChildProcess& spawn(const std::string& name, const std::vector<std::string>& args,
                      const Environment& environment) {
    std::vector<std::string> argv = {txguardBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    children_.push_back(std::make_unique<ChildProcess>(
        name, argv, environment,
        log_dir_ / (name + "-" + std::to_string(children_.size()) + ".log")));
    return *children_.back();
  }

  // Starts `txguard api` on a free port and waits until /healthz answers.
  ChildProcess& startApi(const Environment& extra = {}) {
    api_port_ = freePort();
    Environment environment = serviceEnvironment(extra);
    environment["TXGUARD_HTTP_PORT"] = std::to_string(api_port_);
    ChildProcess& api = spawn("api", {"api"}, environment);
    waitHealthy(api, api_port_);
    return api;
  }

  // Starts `txguard worker` with its health port free and waits until its
  // /healthz answers. The worker starts consuming right after.
  ChildProcess& startWorker(const Environment& extra = {}) {
    const int port = freePort();
    Environment environment = serviceEnvironment(extra);
    environment["TXGUARD_HTTP_PORT"] = std::to_string(port);
    ChildProcess& worker = spawn("worker", {"worker"}, environment);
    worker_ports_[worker.pid()] = port;
    waitHealthy(worker, port);
    return worker;
  }

  int workerPort(const ChildProcess& worker) const { return worker_ports_.at(worker.pid()); }

  void waitHealthy(ChildProcess& child, int port) {
    const bool healthy = waitUntil(
        [&] {
          if (!child.running()) throw std::runtime_error("exited");
          return httpGet(port, "/healthz").status == 200;
        },
        60s);
    if (!healthy) {
      FAIL() << child.name() << " did not answer /healthz on port " << port
             << (child.running() ? " within 60 s" : " and exited") << "; log:\n"
             << child.log();
    }
  }

  // Runs `txguard ARGS` to completion with the service environment and
  // returns its exit code; the output is in the log folder.
  int runTxguard(const std::string& name, const std::vector<std::string>& args,
                 std::chrono::seconds timeout = 120s) {
    ChildProcess& child = spawn(name, args, serviceEnvironment());
    const std::optional<int> status = child.waitExit(timeout);
    if (!status) {
      child.stop(5s);
      ADD_FAILURE() << name << " did not finish within " << timeout.count() << " s; log:\n"
                    << child.log();
      return -1;
    }
    if (*status != 0)
      ADD_FAILURE() << name << " exited with " << *status << "; log:\n" << child.log();
    return *status;
  }

  // Publishes the first `limit` rows of `file` to the queue with `txguard
  // replay --to queue`.
  void replayToQueue(const std::string& file, std::size_t limit) {
    ASSERT_EQ(runTxguard("replay", {"replay", file, "--to", "queue", "--limit",
                                    std::to_string(limit), "--batch", "500"}),
              0);
  }

  // Runs `scripts/local-stack.sh COMMAND DIR ARGUMENTS` on this test's
  // stack and asserts that it succeeded. `arguments` is passed to the shell
  // as written.
  void stackCommand(const std::string& command, const std::string& arguments = "") {
    const std::string line = sourcePath("scripts/local-stack.sh") + " " + command + " '" +
                             stack_dir_ + "' " + arguments + " >>'" +
                             (log_dir_ / "local-stack.log").string() + "' 2>&1";
    ASSERT_EQ(std::system(line.c_str()), 0) << line << " failed:\n"
                                            << readWholeFile(log_dir_ / "local-stack.log");
  }

  // ---- HTTP

  HttpReply httpRequest(int port, const std::string& method, const std::string& path,
                        const std::string& body = {}, const std::string& content_type = {}) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(30, 0);
    client.set_write_timeout(30, 0);
    httplib::Result result =
        method == "POST" ? client.Post(path, body, content_type) : client.Get(path);
    HttpReply reply;
    if (result) {
      reply.status = result->status;
      reply.body = result->body;
      reply.headers = result->headers;
    }
    return reply;
  }

  HttpReply httpGet(int port, const std::string& path) { return httpRequest(port, "GET", path); }

  HttpReply apiGet(const std::string& path) { return httpGet(api_port_, path); }

  HttpReply apiPost(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/json") {
    return httpRequest(api_port_, "POST", path, body, content_type);
  }

  std::string apiUrl() const { return fmt::format("http://127.0.0.1:{}", api_port_); }

  // ---- Redis

  RedisClient& redis() {
    if (!redis_) {
      RedisEndpoint endpoint = parseRedisUrl(redisUrl());
      endpoint.password = stackValue("TXGUARD_REDIS_PASSWORD");
      redis_ = std::make_unique<RedisClient>(endpoint);
    }
    return *redis_;
  }

  DecisionStore decisionStore() { return DecisionStore(redis(), std::chrono::seconds(604800)); }

  void flushRedis() {
    RedisReply reply = redis().command({"FLUSHDB"});
    ASSERT_TRUE(reply) << "FLUSHDB failed on " << redisUrl();
    ASSERT_EQ(reply->type, REDIS_REPLY_STATUS) << "FLUSHDB failed on " << redisUrl();
  }

  std::uint64_t decidedCount() { return decisionStore().decidedCount(); }

  std::uint64_t outboxLength() {
    DecisionStore store = decisionStore();
    return store.outboxLength(DecisionStore::kArchiveOutbox) +
           store.outboxLength(DecisionStore::kReportsOutbox);
  }

  // Returns the archive lines waiting in the outbox. Each entry contains the
  // lines of one commit, joined by newlines.
  std::uint64_t archiveLinesWaiting() {
    DecisionStore store = decisionStore();
    std::uint64_t lines = 0;
    const auto entries = store.peekOutbox(DecisionStore::kArchiveOutbox, 1'000'000);
    for (const std::string& entry : entries) {
      lines += 1 + static_cast<std::uint64_t>(std::count(entry.begin(), entry.end(), '\n'));
    }
    return lines;
  }

  // Returns the ids among `ids` that have no stored decision, with one
  // pipelined EXISTS per id.
  std::vector<std::string> missingDecisions(const std::vector<std::string>& ids) {
    std::vector<std::vector<std::string>> commands;
    for (const std::string& id : ids)
      commands.push_back({"EXISTS", DecisionStore::decisionKey(id)});
    std::vector<RedisReply> replies = redis().pipeline(commands);
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!replies[i] || replies[i]->type != REDIS_REPLY_INTEGER || replies[i]->integer != 1) {
        missing.push_back(ids[i]);
      }
    }
    return missing;
  }

  // Waits until txg:stats:decided reaches `count`; returns the last value.
  std::uint64_t waitDecided(std::uint64_t count, std::chrono::milliseconds timeout) {
    std::uint64_t last = 0;
    waitUntil(
        [&] {
          last = decidedCount();
          return last >= count;
        },
        timeout, 250ms);
    return last;
  }

  // ---- RabbitMQ

  // Empties txguard.transactions and its DLQ by deleting and declaring them
  // again, so a test never sees messages an earlier test left behind.
  void purgeQueues() {
    const QueueTopology topology;
    AmqpConnection connection(amqp_);
    declareTopology(connection, topology);
    connection.deleteQueue(topology.transactions_queue);
    connection.deleteQueue(topology.dead_letter_queue);
    declareTopology(connection, topology);
  }

  // ---- S3

  S3Store bucketStore(const std::string& bucket) {
    S3StoreOptions options;
    options.endpoint = stackValue("TXGUARD_S3_ENDPOINT");
    options.region = stackValue("TXGUARD_S3_REGION");
    options.bucket = bucket;
    options.credentials.access_key_id = stackValue("TXGUARD_S3_ACCESS_KEY_ID");
    options.credentials.secret_access_key = stackValue("TXGUARD_S3_SECRET_ACCESS_KEY");
    options.retry.max_attempts = 2;
    return S3Store(options);
  }

  // Every decision line of every archive object, by transaction id, and
  // the number of objects read.
  std::map<std::string, nlohmann::json> readArchive(std::size_t* objects = nullptr) {
    S3Store archive = bucketStore(bucket_archive_);
    std::map<std::string, nlohmann::json> decisions;
    const auto listing = archive.list("archive/");
    if (objects != nullptr) *objects = listing.size();
    for (const ObjectInfo& info : listing) {
      const std::optional<std::string> body = archive.get(info.key);
      if (!body) continue;
      const std::string text = gzipDecompress(*body);
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        nlohmann::json line =
            nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
        const std::string id = line.is_object() ? line.value("transaction_id", "") : "";
        if (!id.empty()) decisions[id] = std::move(line);
        start = end + 1;
      }
    }
    return decisions;
  }

  std::map<std::string, std::string> stack_;
  std::string stack_dir_;
  std::string test_name_;
  std::filesystem::path log_dir_;
  int redis_database_ = 1;
  std::string bucket_reports_;
  std::string bucket_archive_;
  std::string bucket_models_;
  AmqpConfig amqp_;
  int api_port_ = -1;
  std::map<pid_t, int> worker_ports_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
  std::unique_ptr<RedisClient> redis_;
};

}  // namespace txguard::service_test
