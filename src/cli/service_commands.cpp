// The service subcommands: `api`, `worker`, `replay`, `selftest` and
// `publish-model`. This file only wires the modules together from the
// configuration; the behaviour lives in src/service and src/http.
#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "cache/decision_store.h"
#include "cache/redis_client.h"
#include "cli/commands.h"
#include "cli/defaults.h"
#include "config/service_config.h"
#include "http/api_server.h"
#include "http/pool.h"
#include "ingest/reader.h"
#include "queue/amqp_connection.h"
#include "queue/consumer.h"
#include "queue/publisher.h"
#include "queue/topology.h"
#include "service/alert_relay.h"
#include "service/decision_service.h"
#include "service/gzip.h"
#include "service/outbox_uploader.h"
#include "service/scoring_setup.h"
#include "service/transaction_codec.h"
#include "service/worker.h"
#include "store/s3_store.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace txguard {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void onStopSignal(int) { stop_requested = true; }

void installStopSignals() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "txguard";
  return name;
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void logConfig(const ServiceConfig& config) {
  // Every setting at debug level, secrets shown only as "(set)" or "(empty)".
  for (const auto& [key, value] : describeConfig(config)) {
    log::debug("setting", {{"name", key}, {"value", value}});
  }
  log::info("configuration loaded", {{"redis_url", config.redis_url},
                                     {"amqp_url", maskAmqpUrl(config.amqp_url)},
                                     {"s3_endpoint", config.s3_endpoint},
                                     {"model_name", config.model_name},
                                     {"rules_file", config.rules_file},
                                     {"reports_from", config.reports_from},
                                     {"upload_concurrency",
                                      std::to_string(config.upload_concurrency)}});
}

// Everything the api and worker processes share, built from the config.
struct ServiceRuntime {
  explicit ServiceRuntime(const ServiceConfig& service_config) : config(service_config) {
    auto s3_options = [&](const std::string& bucket) {
      S3StoreOptions options;
      options.endpoint = config.s3_endpoint;
      options.public_endpoint = config.s3_public_endpoint;
      options.region = config.s3_region;
      options.bucket = bucket;
      options.credentials.access_key_id = config.s3_access_key_id;
      options.credentials.secret_access_key = config.s3_secret_access_key;
      // The report uploads keep their connections, and the API's requests
      // share the pool with them.
      options.idle_connections = std::size_t{8} + config.upload_concurrency;
      options.on_retry = [this](const S3RetryEvent& event) {
        metrics.retries("s3").Increment();
        log::limited(log::Level::kWarn, "s3 request retried",
                     {{"operation", event.operation},
                      {"bucket", event.bucket},
                      {"attempt", std::to_string(event.failed_attempt)},
                      {"error", event.reason}});
      };
      return options;
    };
    reports = std::make_unique<S3Store>(s3_options(config.bucket_reports));
    archive = std::make_unique<S3Store>(s3_options(config.bucket_archive));
    models = std::make_unique<S3Store>(s3_options(config.bucket_models));
    for (S3Store* store : {reports.get(), archive.get(), models.get()}) {
      try {
        store->createBucket();
      } catch (const ObjectStoreError& error) {
        // Buckets are normally made by the deployment (the chart's Job);
        // start anyway and let readiness report the problem.
        log::warn("could not create bucket", {{"error", error.what()}});
      }
    }

    try {
      setups =
          std::make_unique<ScoringSetupSource>(config.rules_file, config.model_name, models.get());
    } catch (const RuleError& error) {
      throw ConfigError(
          fmt::format("TXGUARD_RULES_FILE={}: {}; point it at a rules file such "
                      "as config/rules/default.yaml",
                      config.rules_file, error.what()));
    }
    updateModelInfo();

    redis_endpoint = parseRedisUrl(config.redis_url);
    redis_endpoint.password = config.redis_password;
    redis_pool = std::make_unique<Pool<RedisClient>>([this] { return newRedisClient(); });
  }

  std::unique_ptr<RedisClient> newRedisClient() {
    return std::make_unique<RedisClient>(
        redis_endpoint, [this](const std::string& error, int attempt) {
          metrics.retries("redis").Increment();
          log::limited(log::Level::kWarn, "redis reconnecting",
                       {{"error", error}, {"attempt", std::to_string(attempt)}});
        });
  }

  AmqpConfig amqpConfig(const std::string& name) const {
    AmqpConfig amqp = parseAmqpUrl(config.amqp_url, config.amqp_password);
    amqp.connection_name = name;
    return amqp;
  }

  RetryCallback amqpRetryCallback() {
    return [this](const std::string& error, int attempt, std::chrono::milliseconds delay) {
      metrics.retries("rabbitmq").Increment();
      log::limited(log::Level::kWarn, "rabbitmq reconnecting",
                   {{"error", error},
                    {"attempt", std::to_string(attempt)},
                    {"delay_ms", std::to_string(delay.count())}});
    };
  }

  void updateModelInfo() {
    const auto setup = setups->current();
    metrics.setModelInfo(setup->model ? setup->model->metadata().version : "none",
                         setup->rules.version());
  }

  const ServiceConfig& config;
  Metrics metrics;
  std::unique_ptr<S3Store> reports;
  std::unique_ptr<S3Store> archive;
  std::unique_ptr<S3Store> models;
  std::unique_ptr<ScoringSetupSource> setups;
  RedisEndpoint redis_endpoint;
  std::unique_ptr<Pool<RedisClient>> redis_pool;
};

// Calls `pass` until `stop` is set. A pass returns how many items it moved.
// After a pass that moved nothing the loop sleeps `idle`, and after a
// failure it sleeps longer, doubling up to 10 s. Failures are logged and
// counted in txguard_errors_total{component}. `after`, when given, runs
// after every pass, failed or not.
void runPasses(const std::atomic<bool>& stop, Metrics& metrics, std::string_view component,
               std::string_view failure_message, std::chrono::milliseconds idle,
               const std::function<std::size_t()>& pass,
               const std::function<void()>& after = {}) {
  using std::chrono::milliseconds;
  int failures = 0;
  while (!stop) {
    std::size_t moved = 0;
    try {
      moved = pass();
      failures = 0;
    } catch (const std::exception& error) {
      ++failures;
      metrics.errors(component).Increment();
      log::limited(log::Level::kError, failure_message,
                   {{"error", error.what()}, {"attempt", std::to_string(failures)}});
    }
    if (after) {
      try {
        after();
      } catch (const std::exception& error) {
        log::limited(log::Level::kWarn, "measuring the outbox failed; back-pressure keeps its last state",
                     {{"error", error.what()}});
      }
    }
    if (moved > 0 || stop) continue;
    const milliseconds pause =
        failures == 0 ? idle
                      : std::min(milliseconds(10000),
                                 std::max(idle, milliseconds(200)) * (1 << std::min(failures, 5)));
    const auto until = std::chrono::steady_clock::now() + pause;
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min(idle, milliseconds(100)));
    }
  }
}

// Waits for SIGTERM/SIGINT, refreshing the model-info metric meanwhile.
void waitForStop(ServiceRuntime& runtime) {
  while (!stop_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    static int ticks = 0;
    if (++ticks % 25 == 0) runtime.updateModelInfo();
  }
}

// Ends the process if shutdown overruns the grace period, so that
// Kubernetes gets an exit instead of a hang. Unacknowledged messages are
// redelivered to another worker.
void armShutdownDeadline(std::chrono::seconds grace) {
  std::thread([grace] {
    std::this_thread::sleep_for(grace);
    log::error("shutdown exceeded TXGUARD_SHUTDOWN_GRACE_SECONDS; exiting",
               {{"grace_seconds", std::to_string(grace.count())}});
    std::_Exit(1);
  }).detach();
}

int runApi() {
  const ServiceConfig config = loadServiceConfig(ServiceRole::kApi, processEnvironment());
  log::initialize(config.log_level, "api");
  logConfig(config);
  installStopSignals();

  ServiceRuntime runtime(config);
  runtime.setups->startWatching(std::chrono::seconds(10));
  Pool<Publisher> publishers([&runtime] {
    auto publisher = std::make_unique<Publisher>(runtime.amqpConfig("txguard-api-" + hostName()));
    publisher->setRetryCallback(runtime.amqpRetryCallback());
    return publisher;
  });

  AccountCache account_cache(config.account_cache);
  ApiServer server(ApiContext{config,
                              runtime.metrics,
                              *runtime.setups,
                              *runtime.redis_pool,
                              &publishers,
                              runtime.reports.get(),
                              {},
                              &account_cache},
                   /*with_api=*/true);
  server.start(config.http_port, 16);
  log::info("api listening", {{"port", std::to_string(server.port())}});

  waitForStop(runtime);
  log::info("api stopping: finishing in-flight requests");
  armShutdownDeadline(config.shutdown_grace);
  server.stop();
  runtime.setups->stop();
  log::info("api stopped");
  return 0;
}

int runWorker() {
  const ServiceConfig config = loadServiceConfig(ServiceRole::kWorker, processEnvironment());
  log::initialize(config.log_level, "worker");
  logConfig(config);
  installStopSignals();

  ServiceRuntime runtime(config);
  runtime.setups->startWatching(std::chrono::seconds(10));
  const std::string holder = fmt::format("{}-{}", hostName(), getpid());

  ApiServer health(ApiContext{config,
                              runtime.metrics,
                              *runtime.setups,
                              *runtime.redis_pool,
                              nullptr,
                              runtime.reports.get(),
                              {}},
                   /*with_api=*/false);
  health.start(config.http_port, 4);
  log::info("worker health endpoint listening", {{"port", std::to_string(health.port())}});

  // The outbox uploader runs on its own thread with its own connection. The
  // thread also measures the whole outbox (archive, reports and alerts)
  // after every pass, and the worker stops consuming while the outbox is
  // over kMaxOutboxBytes, which happens when S3 or RabbitMQ is down.
  // NOTE: keep the chart's redis.maxmemory well above this, or Redis
  // rejects commits before the pause starts.
  constexpr std::uint64_t kMaxOutboxBytes = 64ULL << 20;
  std::atomic<bool> outbox_full{false};
  std::atomic<bool> outbox_stop{false};
  OutboxOptions outbox_options{holder};
  outbox_options.upload_concurrency = config.upload_concurrency;
  std::thread outbox_thread([&] {
    std::unique_ptr<RedisClient> redis = runtime.newRedisClient();
    DecisionStore store(*redis, config.decision_ttl);
    OutboxUploader uploader(store, *runtime.reports, *runtime.archive, runtime.metrics,
                            outbox_options);
    const auto measure = [&] {
      const std::uint64_t archive_bytes = store.outboxBytes(DecisionStore::kArchiveOutbox) +
                                          store.outboxBytes(DecisionStore::kReportsOutbox);
      const std::uint64_t alerts = store.outboxLength(DecisionStore::kAlertsOutbox);
      const std::uint64_t total = archive_bytes + store.outboxBytes(DecisionStore::kAlertsOutbox);
      runtime.metrics.archivePendingBytes().Set(static_cast<double>(archive_bytes));
      runtime.metrics.alertsPending().Set(static_cast<double>(alerts));
      const bool full = total > kMaxOutboxBytes;
      if (full != outbox_full) {
        log::warn(full ? "outbox full: pausing consumption until S3 and RabbitMQ catch up"
                       : "outbox drained: resuming consumption",
                  {{"outbox_bytes", std::to_string(total)}});
      }
      outbox_full = full;
    };
    runPasses(outbox_stop, runtime.metrics, "outbox", "report upload failed; reports stay in redis",
              std::chrono::milliseconds(500), [&] { return uploader.runReportsOnce(); }, measure);
  });
  // Archive objects go on a thread and connection of their own, under a
  // lease of their own, so that building and compressing one does not hold
  // up the reports.
  std::thread archive_thread([&] {
    std::unique_ptr<RedisClient> redis = runtime.newRedisClient();
    DecisionStore store(*redis, config.decision_ttl);
    OutboxUploader uploader(store, *runtime.reports, *runtime.archive, runtime.metrics,
                            outbox_options);
    runPasses(outbox_stop, runtime.metrics, "outbox",
              "archive upload failed; archive lines stay in redis", std::chrono::milliseconds(500),
              [&] { return uploader.runArchiveOnce(); });
    // At shutdown the last lines go out now instead of waiting for the next
    // lease holder, which may be hours away when workers scale to zero. At
    // most 10 passes, because other workers keep adding lines.
    try {
      for (int pass = 0; pass < 10 && uploader.runArchiveOnce(/*flush=*/true) > 0; ++pass) {
      }
    } catch (const std::exception& error) {
      log::warn("archive lines left in redis for another worker to upload",
                {{"error", error.what()}});
    }
  });

  // The alert relay publishes committed alerts from Redis to RabbitMQ on
  // its own thread and connections. Worker::processBatch acks after the
  // commit and does not wait for the broker's confirms of its alerts.
  std::thread alert_thread([&] {
    std::unique_ptr<RedisClient> redis = runtime.newRedisClient();
    DecisionStore store(*redis, config.decision_ttl);
    Publisher publisher(runtime.amqpConfig("txguard-worker-alerts-" + holder));
    publisher.setRetryCallback(runtime.amqpRetryCallback());
    AlertRelay relay(store, publisher, runtime.metrics, AlertRelayOptions{holder});
    runPasses(outbox_stop, runtime.metrics, "alerts", "alert publish failed; alerts stay in redis",
              std::chrono::milliseconds(50), [&] { return relay.runOnce(); });
    try {
      // Publishes at most the alerts committed before the stop, because under
      // traffic other workers keep adding, and the next lease holder takes
      // those.
      const std::uint64_t left = relay.backlog();
      for (std::uint64_t published = 0; published < left;) {
        const std::size_t moved = relay.runOnce();
        if (moved == 0) break;
        published += moved;
      }
    } catch (const std::exception& error) {
      log::warn("alerts left in redis for another worker to publish", {{"error", error.what()}});
    }
    try {
      relay.release();
    } catch (const std::exception& error) {
      log::warn("could not release the alert relay lease", {{"error", error.what()}});
    }
  });

  // Queue depth for txguard_queue_lag_messages, on a connection of its
  // own because the consumer's connection is busy with deliveries.
  std::thread lag_thread([&] {
    std::unique_ptr<AmqpConnection> connection;
    while (!outbox_stop) {
      try {
        if (!connection) {
          connection =
              std::make_unique<AmqpConnection>(runtime.amqpConfig("txguard-worker-lag-" + holder));
        }
        runtime.metrics.queueLag().Set(
            connection->readyMessages(QueueTopology{}.transactions_queue));
      } catch (const std::exception& error) {
        connection.reset();
        log::limited(log::Level::kWarn, "could not read the queue depth",
                     {{"error", error.what()}});
      }
      for (int waited = 0; waited < 5000 && !outbox_stop; waited += 100) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });

  {
    std::unique_ptr<RedisClient> redis = runtime.newRedisClient();
    DecisionStore store(*redis, config.decision_ttl);
    AccountCache account_cache(config.account_cache);
    DecisionService decisions(store, *runtime.setups, runtime.metrics, &account_cache,
                              reportsFromAction(config.reports_from));
    ConsumerOptions consumer_options;
    consumer_options.prefetch = static_cast<std::uint16_t>(config.worker_prefetch);
    Consumer consumer(runtime.amqpConfig("txguard-worker-" + holder), QueueTopology{},
                      consumer_options);
    consumer.setRetryCallback(runtime.amqpRetryCallback());

    WorkerOptions options;
    options.batch_size = config.worker_batch;
    options.max_deliveries = config.worker_max_deliveries;
    options.batch_linger = std::chrono::milliseconds(config.worker_linger_ms);
    options.paused = [&outbox_full] { return outbox_full.load(); };
    Worker worker(consumer, decisions, runtime.metrics, options);

    std::thread stop_watch([&] {
      while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      log::info("worker stopping: draining in-flight deliveries");
      armShutdownDeadline(config.shutdown_grace);
    });
    worker.run(stop_requested);
    stop_watch.join();
  }

  // The uploaders finish their current passes, then the leases are given
  // up, so another worker takes over the outbox at once.
  outbox_stop = true;
  outbox_thread.join();
  archive_thread.join();
  try {
    std::unique_ptr<RedisClient> redis = runtime.newRedisClient();
    DecisionStore store(*redis, config.decision_ttl);
    store.releaseLeadership(OutboxUploader::kReportsLease, holder);
    store.releaseLeadership(OutboxUploader::kArchiveLease, holder);
  } catch (const std::exception& error) {
    log::warn("could not release the outbox leases", {{"error", error.what()}});
  }
  alert_thread.join();
  lag_thread.join();
  health.stop();
  runtime.setups->stop();
  log::info("worker stopped");
  return 0;
}

// A file removed when the object goes out of scope.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {}
  TemporaryFile(TemporaryFile&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TemporaryFile(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes the transactions of an archive object as canonical JSON Lines to a
// temporary file. Lines without a "transaction" object (archives written
// before it was added) are a CliError naming the line.
TemporaryFile extractArchiveTransactions(const std::filesystem::path& archive) {
  std::ifstream in(archive, std::ios::binary);
  if (!in) throw CliError(fmt::format("cannot read archive object '{}'", archive.string()));
  std::stringstream compressed;
  compressed << in.rdbuf();
  std::string lines;
  try {
    lines = gzipDecompress(compressed.str());
  } catch (const std::exception& error) {
    throw CliError(
        fmt::format("'{}' is not a gzip archive object: {}", archive.string(), error.what()));
  }

  std::string pattern = (std::filesystem::temp_directory_path() / "txguard-replay-XXXXXX").string();
  const int fd = mkstemp(pattern.data());
  if (fd < 0) throw CliError("cannot create a temporary file for the archive's transactions");
  close(fd);
  TemporaryFile output{std::filesystem::path(pattern)};
  std::ofstream out(output.path(), std::ios::binary);
  std::istringstream stream(lines);
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(stream, line)) {
    ++number;
    if (line.empty()) continue;
    const auto decision = nlohmann::json::parse(line, nullptr, false);
    if (decision.is_discarded() || !decision.contains("transaction")) {
      throw CliError(
          fmt::format("{}:{}: archive line has no \"transaction\" object, so it "
                      "cannot be replayed",
                      archive.string(), number));
    }
    out << decision["transaction"].dump() << '\n';
  }
  return output;
}

struct ReplayOptions {
  std::string input;
  std::string format = "auto";
  std::string to = "queue";
  std::string url = "http://127.0.0.1:8080";
  double rate = 0;
  std::size_t batch = 200;
  std::uint64_t limit = 0;
  std::string pan_key;
  std::string id_prefix;
};

int runReplay(const ReplayOptions& options) {
  const ServiceConfig config = loadServiceConfig(ServiceRole::kReplay, processEnvironment());
  ReaderOptions reader_options;
  if (options.format != "auto") {
    const auto format = parseFormatName(options.format);
    if (!format) throw CliError(fmt::format("unknown --format '{}'", options.format));
    reader_options.format = *format;
  }
  bool is_demo_key = false;
  reader_options.pan_hash_key = resolvePanHashKey(
      options.pan_key.empty() ? config.pan_hash_key : options.pan_key, is_demo_key);
  // An archive object (archive/…/<digest>.jsonl.gz) contains decision lines
  // with the transaction inside, and replay sends those transactions again.
  std::filesystem::path input = options.input;
  std::optional<TemporaryFile> extracted;
  if (input.string().ends_with(".jsonl.gz")) {
    extracted.emplace(extractArchiveTransactions(input));
    input = extracted->path();
    reader_options.format = InputFormat::kCanonicalJsonl;
  }
  RejectList rejects;
  auto reader = openReader(input, reader_options, rejects);
  warnAboutDemoKey(is_demo_key, reader->format());
  installStopSignals();

  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<httplib::Client> client;
  if (options.to == "queue") {
    publisher = std::make_unique<Publisher>([&] {
      AmqpConfig amqp = parseAmqpUrl(config.amqp_url, config.amqp_password);
      amqp.connection_name = "txguard-replay";
      return amqp;
    }());
  } else {
    client = std::make_unique<httplib::Client>(options.url);
    client->set_read_timeout(30, 0);
    // The request body is a separate write after the headers; without this
    // it waits for the server's delayed ACK (about 40 ms) on every batch.
    client->set_tcp_nodelay(true);
  }

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  std::uint64_t retries = 0;
  Transaction transaction;
  bool more = true;
  while (more && !stop_requested) {
    std::vector<OutgoingMessage> messages;
    std::string body;
    std::size_t count = 0;
    while (count < options.batch && (options.limit == 0 || sent + count < options.limit) &&
           (more = reader->next(transaction))) {
      if (!options.id_prefix.empty()) transaction.id.insert(0, options.id_prefix);
      if (publisher) {
        std::string message;
        appendTransactionMessage(message, transaction, nowMs());
        messages.push_back(transactionMessage(publisher->topology(), transaction.id, message));
      } else {
        appendCanonicalJson(body, transaction);
        body.push_back('\n');
      }
      ++count;
    }
    if (options.limit != 0 && sent + count >= options.limit) more = false;
    if (count == 0) break;

    for (int attempt = 1;; ++attempt) {
      bool delivered = false;
      std::string problem;
      if (publisher) {
        try {
          delivered = publisher->publishBatch(messages).allConfirmed();
          if (!delivered) problem = "not every message was confirmed";
        } catch (const QueueError& error) {
          problem = error.what();
        }
      } else {
        auto response = client->Post("/v1/transactions", body, "application/x-ndjson");
        if (response && response->status == 202) {
          delivered = true;
        } else if (response && response->status == 400) {
          throw CliError(fmt::format("the API rejected a batch: {}", response->body));
        } else {
          problem = response ? fmt::format("HTTP {}", response->status)
                             : httplib::to_string(response.error());
        }
      }
      if (delivered) break;
      ++retries;
      if (attempt >= 20 || stop_requested) {
        throw CliError(fmt::format("giving up after {} attempts: {}", attempt, problem));
      }
      fmt::print(stderr, "txguard replay: retrying a batch ({})\n", problem);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 100 << attempt)));
    }
    sent += count;

    if (options.rate > 0) {
      const auto due = start + std::chrono::duration<double>(sent / options.rate);
      std::this_thread::sleep_until(
          std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& rejected = rejects.rows();
  for (std::size_t i = 0; i < rejected.size() && i < 5; ++i) {
    fmt::print(stderr, "txguard replay: rejected line {}: {}\n", rejected[i].line,
               rejected[i].reason);
  }
  if (rejected.size() > 5) {
    fmt::print(stderr, "txguard replay: … and {} more rejected rows\n", rejected.size() - 5);
  }
  fmt::print(
      "replayed {} transactions to {} in {:.2f} s ({:.0f}/s), {} rejected rows, {} "
      "retried batches\n",
      sent, options.to == "queue" ? "the queue" : options.url, seconds,
      seconds > 0 ? sent / seconds : 0.0, rejects.rows().size(), retries);
  return 0;
}

int runSelftest(const std::string& url, int timeout_seconds) {
  httplib::Client client(url);
  client.set_connection_timeout(timeout_seconds, 0);
  client.set_read_timeout(timeout_seconds, 0);
  std::mt19937_64 random(std::random_device{}());
  const std::string id = fmt::format("selftest-{}-{:x}", nowMs(), random() & 0xffffff);
  const std::string body = fmt::format(
      R"({{"id":"{}","account":"selftest","timestamp":"{}","amount":1.0,"location":"ZZ"}})", id,
      [] {
        std::string text;
        text.reserve(32);
        const auto now = std::chrono::system_clock::now();
        const auto seconds = std::chrono::system_clock::to_time_t(now);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char buffer[32];
        std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
        return std::string(buffer);
      }());

  auto scored = client.Post("/v1/score", body, "application/json");
  if (!scored || scored->status != 200) {
    fmt::print(stderr, "selftest: POST {}/v1/score failed: {}\n", url,
               scored ? fmt::format("HTTP {} {}", scored->status, scored->body)
                      : httplib::to_string(scored.error()));
    return 1;
  }
  const auto decision = nlohmann::json::parse(scored->body, nullptr, false);
  if (decision.is_discarded() || !decision.contains("action")) {
    fmt::print(stderr, "selftest: /v1/score returned no decision: {}\n", scored->body);
    return 1;
  }
  auto stored = client.Get(("/v1/transactions/" + id).c_str());
  if (!stored || stored->status != 200 || stored->body.find(id) == std::string::npos) {
    fmt::print(
        stderr, "selftest: GET /v1/transactions/{} failed: {}\n", id,
        stored ? fmt::format("HTTP {}", stored->status) : httplib::to_string(stored.error()));
    return 1;
  }
  fmt::print("selftest passed: transaction {} decided '{}' (model {}, rules {})\n", id,
             decision["action"].get<std::string>(), decision.value("model_version", ""),
             decision.value("rules_version", ""));
  return 0;
}

int runPublishModel(const std::string& model_dir) {
  const ServiceConfig config = loadServiceConfig(ServiceRole::kObjectTool, processEnvironment());
  S3StoreOptions options;
  options.endpoint = config.s3_endpoint;
  options.region = config.s3_region;
  options.bucket = config.bucket_models;
  options.credentials.access_key_id = config.s3_access_key_id;
  options.credentials.secret_access_key = config.s3_secret_access_key;
  S3Store store(options);
  store.createBucket();
  publishModel(store, model_dir);
  const Model model = Model::load(model_dir);
  fmt::print("published {} to s3://{}/{}; running services switch to it within about 10 s\n",
             model.metadata().version, config.bucket_models,
             ScoringSetupSource::pointerKey(model.metadata().name));
  return 0;
}

}  // namespace

void addServiceCommands(CLI::App& app, int& exit_code) {
  app.add_subcommand("api",
                     "Run the HTTP API (settings from TXGUARD_* environment variables, "
                     "see docs/configuration.md)")
      ->callback([&exit_code] { exit_code = runApi(); });
  app.add_subcommand("worker",
                     "Run a queue worker (settings from TXGUARD_* environment "
                     "variables, see docs/configuration.md)")
      ->callback([&exit_code] { exit_code = runWorker(); });

  auto replay = std::make_shared<ReplayOptions>();
  CLI::App* replay_command = app.add_subcommand(
      "replay", "Publish a file of transactions to the queue or the API at a chosen rate");
  replay_command
      ->add_option("file", replay->input,
                   "Input file (any format `score` reads), or an archive object "
                   "(*.jsonl.gz) whose transactions are sent again")
      ->required();
  replay_command->add_option("--format", replay->format, "Input format, as for `score`")
      ->capture_default_str();
  replay_command
      ->add_option("--to", replay->to,
                   "queue (publish to RabbitMQ, TXGUARD_AMQP_* settings) or api "
                   "(POST /v1/transactions to --url)")
      ->check(CLI::IsMember({"queue", "api"}))
      ->capture_default_str();
  replay_command->add_option("--url", replay->url, "API base URL for --to api")
      ->capture_default_str();
  replay_command
      ->add_option("--rate", replay->rate,
                   "Transactions per second; 0 sends as fast as confirms allow")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  replay_command
      ->add_option("--batch", replay->batch, "Transactions per publish or request (1-10000)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  replay_command->add_option("--limit", replay->limit, "Stop after this many transactions (0: all)")
      ->capture_default_str();
  replay_command->add_option("--id-prefix", replay->id_prefix,
                             "Text put before every transaction id, e.g. the file's name: "
                             "PaySim ids are paysim-<line>, so a second PaySim file would "
                             "otherwise repeat the first one's ids and be taken as duplicates");
  replay_command->add_option("--pan-key", replay->pan_key,
                             "HMAC key for card numbers (default: TXGUARD_PAN_HASH_KEY)");
  replay_command->callback([replay, &exit_code] { exit_code = runReplay(*replay); });

  auto selftest_url = std::make_shared<std::string>("http://127.0.0.1:8080");
  auto selftest_timeout = std::make_shared<int>(10);
  CLI::App* selftest = app.add_subcommand(
      "selftest", "Score one test transaction through a running API and read its decision back");
  selftest->add_option("--url", *selftest_url, "API base URL")->capture_default_str();
  selftest->add_option("--timeout", *selftest_timeout, "Seconds to wait for each request")
      ->capture_default_str();
  selftest->callback([selftest_url, selftest_timeout, &exit_code] {
    exit_code = runSelftest(*selftest_url, *selftest_timeout);
  });

  auto model_dir = std::make_shared<std::string>();
  CLI::App* publish = app.add_subcommand(
      "publish-model",
      "Upload a model folder to object storage and make it the current version (TXGUARD_S3_*)");
  publish->add_option("dir", *model_dir, "Model folder with model.json and metadata.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  publish->callback([model_dir, &exit_code] { exit_code = runPublishModel(*model_dir); });
}

}  // namespace txguard
