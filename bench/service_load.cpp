// Load tools for scripts/bench/service-load.sh, run against the local stack
// and a running `txguard api` (source the stack's env first). Not a Google
// Benchmark program: each mode measures live servers.
//
//   service_load broker FILE [--seconds S] [--batch N] [--prefetch N] [--rate R]
//     Raw RabbitMQ rate with real txguard transaction messages (built from
//     FILE as `txguard replay --to queue` builds them): one thread publishes
//     batches with confirms while another consumes with manual acks
//     (multiple=true once per batch), both at full speed, on a suffixed
//     topology that is deleted afterwards. With --rate, batches are
//     published at R messages/s instead, and the consumer takes each
//     message as soon as it arrives. It then reports the p50 and p99
//     latency from the start of a batch's publish to each delivery: the
//     broker's share of txguard's ingest-to-decision latency.
//
//   service_load score URL [--rate R] [--seconds S] [--warmup S]
//                          [--connections C] [--accounts A] [--id-prefix P]
//     Open-loop POST /v1/score load: request k is due at start + k / R, and
//     its latency counts from that due time, so a stalled server shows up
//     as latency instead of as a lower request rate (no coordinated
//     omission). C threads with one keep-alive connection each share the
//     schedule round-robin.
//
//   service_load wait-decided --target N [--seconds TIMEOUT]
//     Polls txg:stats:decided in Redis every 10 ms until it reaches N, then
//     prints the seconds waited. One small process instead of a scrape per
//     poll, so that measuring takes next to no CPU from what is measured.
//
//   service_load s3-put [--seconds S] [--connections C] [--bytes B]
//     Raw PutObject rate of the stack's S3 endpoint (TXGUARD_S3_*). For S
//     seconds, C threads PUT objects of B bytes (default 1500, the size of
//     a fraud report) under bench/ in the reports bucket, with txguard's own
//     S3 client. The worker writes one such object per reviewed or blocked
//     transaction, so this rate bounds the reports per second.
//
//   service_load redis-memory [--pattern P]
//     MEMORY USAGE of every key matching P (default txg:acct:*), through
//     TXGUARD_REDIS_URL and TXGUARD_REDIS_PASSWORD: count, mean, p50, p99
//     and max bytes.
//
// Results go to stdout as `key=value` lines that the script parses.
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cache/redis_client.h"
#include "ingest/reader.h"
#include "queue/amqp_connection.h"
#include "queue/consumer.h"
#include "queue/publisher.h"
#include "service/transaction_codec.h"
#include "store/s3_store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string target;  // FILE for broker, URL for score
  double seconds = 30;
  double warmup = 5;
  double rate = 2000;
  int batch = 256;
  int prefetch = 512;
  int connections = 8;
  int accounts = 10000;
  std::string id_prefix = "score";
  std::string pattern = "txg:acct:*";
  long long target_count = 0;
  int bytes = 1500;
  bool rate_given = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "service_load: %s\n"
               "usage: service_load broker FILE [--seconds S] [--batch N] [--prefetch N] "
               "[--rate R]\n"
               "       service_load score URL [--rate R] [--seconds S] [--warmup S] "
               "[--connections C] [--accounts A] [--id-prefix P]\n"
               "       service_load wait-decided --target N [--seconds TIMEOUT]\n"
               "       service_load s3-put [--seconds S] [--connections C] [--bytes B]\n"
               "       service_load redis-memory [--pattern P]\n",
               problem.c_str());
  std::exit(2);
}

double positiveNumber(const char* name, const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0)) {
    usage(fmt::format("{} needs a positive number, got '{}'", name, text));
  }
  return value;
}

Options parseOptions(int argc, char** argv) {
  if (argc < 2) usage("missing mode");
  Options options;
  options.mode = argv[1];
  int i = 2;
  if (options.mode != "redis-memory" && options.mode != "wait-decided" &&
      options.mode != "s3-put") {
    if (argc < 3) usage("missing " + std::string(options.mode == "broker" ? "FILE" : "URL"));
    options.target = argv[2];
    i = 3;
  }
  for (; i < argc; i += 2) {
    const std::string name = argv[i];
    if (i + 1 >= argc) usage(name + " needs a value");
    const char* value = argv[i + 1];
    if (name == "--seconds") {
      options.seconds = positiveNumber(argv[i], value);
    } else if (name == "--warmup") {
      options.warmup = std::atof(value);
    } else if (name == "--rate") {
      options.rate = positiveNumber(argv[i], value);
      options.rate_given = true;
    } else if (name == "--batch") {
      options.batch = static_cast<int>(positiveNumber(argv[i], value));
    } else if (name == "--prefetch") {
      options.prefetch = std::min(65535, static_cast<int>(positiveNumber(argv[i], value)));
    } else if (name == "--connections") {
      options.connections = static_cast<int>(positiveNumber(argv[i], value));
    } else if (name == "--accounts") {
      options.accounts = static_cast<int>(positiveNumber(argv[i], value));
    } else if (name == "--id-prefix") {
      options.id_prefix = value;
    } else if (name == "--bytes") {
      options.bytes = static_cast<int>(positiveNumber(argv[i], value));
    } else if (name == "--pattern") {
      options.pattern = value;
    } else if (name == "--target") {
      options.target_count = static_cast<long long>(positiveNumber(argv[i], value));
    } else {
      usage("unknown option " + name);
    }
  }
  return options;
}

std::string requiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(fmt::format("{} is not set; source the local stack's env", name));
  }
  return value;
}

txguard::RedisClient stackRedis() {
  txguard::RedisEndpoint endpoint = txguard::parseRedisUrl(requiredEnv("TXGUARD_REDIS_URL"));
  endpoint.password = requiredEnv("TXGUARD_REDIS_PASSWORD");
  return txguard::RedisClient(endpoint);
}


// Nearest-rank percentile of sorted values.
template <typename T>
T percentile(const std::vector<T>& sorted, double fraction) {
  if (sorted.empty()) return T{};
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

int runBroker(const Options& options) {
  txguard::AmqpConfig config =
      txguard::parseAmqpUrl(requiredEnv("TXGUARD_AMQP_URL"), requiredEnv("TXGUARD_AMQP_PASSWORD"));
  config.connection_name = "txguard-service-load";
  const txguard::QueueTopology topology =
      txguard::QueueTopology::withSuffix(".load-" + std::to_string(::getpid()));

  // Up to 100,000 distinct messages, published round-robin: enough that
  // the publisher never waits on building them.
  txguard::ReaderOptions reader_options;
  reader_options.pan_hash_key = requiredEnv("TXGUARD_PAN_HASH_KEY");
  txguard::RejectList rejects;
  auto reader = txguard::openReader(options.target, reader_options, rejects);
  std::vector<txguard::OutgoingMessage> messages;
  std::size_t body_bytes = 0;
  txguard::Transaction transaction;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  while (messages.size() < 100000 && reader->next(transaction)) {
    std::string body;
    txguard::appendTransactionMessage(body, transaction, now_ms);
    body_bytes += body.size();
    messages.push_back(txguard::transactionMessage(topology, transaction.id, std::move(body)));
  }
  if (messages.size() < static_cast<std::size_t>(options.batch)) {
    throw std::runtime_error(
        fmt::format("{} holds fewer than --batch {} transactions", options.target, options.batch));
  }

  txguard::Publisher publisher(config, topology);
  publisher.connect();  // declares the topology before the consumer binds to it
  txguard::ConsumerOptions consumer_options;
  consumer_options.prefetch = static_cast<std::uint16_t>(options.prefetch);
  txguard::Consumer consumer(config, topology, consumer_options);

  std::atomic<bool> publishing{true};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> consumed{0};
  std::string failure;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(options.seconds);

  // --rate: when each batch started publishing, by batch number. One
  // consumer on a quorum queue receives in publish order, so message n
  // belongs to batch n / batch.
  const bool paced = options.rate_given;
  const std::size_t max_batches =
      paced ? static_cast<std::size_t>(options.rate * options.seconds / options.batch) + 16 : 0;
  std::vector<Clock::time_point> batch_started(max_batches);
  std::vector<double> latency_ms;

  std::thread consumer_thread([&] {
    try {
      for (;;) {
        auto batch = paced ? consumer.receiveBatch(options.batch, std::chrono::milliseconds(500),
                                                   std::chrono::milliseconds(0))
                           : consumer.receiveBatch(options.batch, std::chrono::milliseconds(500));
        if (batch.empty()) {
          if (!publishing && consumed >= published) return;
          continue;
        }
        if (paced) {
          const auto now = Clock::now();
          for (std::size_t k = 0; k < batch.size(); ++k) {
            const std::size_t number = (consumed + k) / static_cast<std::size_t>(options.batch);
            latency_ms.push_back(
                std::chrono::duration<double, std::milli>(now - batch_started[number]).count());
          }
        }
        consumer.ack(batch.back(), /*multiple=*/true);
        consumed += batch.size();
      }
    } catch (const std::exception& error) {
      failure = error.what();
    }
  });

  std::size_t offset = 0;
  double publish_seconds = 0;
  try {
    for (std::size_t number = 0; Clock::now() < until; ++number) {
      if (paced) {
        if (number >= max_batches) break;
        std::this_thread::sleep_until(
            start + std::chrono::duration<double>(static_cast<double>(number) * options.batch /
                                                  options.rate));
        batch_started[number] = Clock::now();
      }
      if (offset + options.batch > messages.size()) offset = 0;
      const auto result = publisher.publishBatch(
          std::span(messages).subspan(offset, static_cast<std::size_t>(options.batch)));
      if (!result.allConfirmed()) throw std::runtime_error("a batch was nacked or unroutable");
      offset += options.batch;
      published += options.batch;
    }
    publish_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } catch (...) {
    publishing = false;
    consumer_thread.join();
    throw;
  }
  publishing = false;
  consumer_thread.join();
  if (!failure.empty()) throw std::runtime_error("consumer failed: " + failure);
  const double total_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  txguard::AmqpConnection cleanup(config);
  txguard::deleteTopology(cleanup, topology);

  fmt::print("message_bytes={:.0f}\n", static_cast<double>(body_bytes) / messages.size());
  fmt::print("published={}\nconsumed={}\n", published.load(), consumed.load());
  fmt::print("publish_per_second={:.0f}\n", published / publish_seconds);
  fmt::print("end_to_end_per_second={:.0f}\n", consumed / total_seconds);
  if (paced) {
    std::sort(latency_ms.begin(), latency_ms.end());
    fmt::print("latency_p50_ms={:.3f}\nlatency_p99_ms={:.3f}\n", percentile(latency_ms, 0.5),
               percentile(latency_ms, 0.99));
  }
  return 0;
}

std::string utcNow() {
  const std::time_t seconds = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

struct ThreadResult {
  std::vector<double> latency_ms;         // from the due time
  std::vector<double> service_ms;         // from the actual send
  std::map<int, std::uint64_t> statuses;  // 0: no response
  std::uint64_t sent = 0;
};

int runScore(const Options& options) {
  const double total_seconds = options.warmup + options.seconds;
  const auto total_requests = static_cast<std::uint64_t>(options.rate * total_seconds);
  const auto warmup_requests = static_cast<std::uint64_t>(options.rate * options.warmup);
  std::vector<ThreadResult> results(options.connections);
  std::vector<std::thread> threads;
  const auto start = Clock::now() + std::chrono::milliseconds(200);

  for (int t = 0; t < options.connections; ++t) {
    threads.emplace_back([&, t] {
      ThreadResult& result = results[t];
      httplib::Client client(options.target);
      client.set_keep_alive(true);
      // Without it, Nagle's algorithm holds the body behind the headers
      // until the server's delayed ACK (about 40 ms on Linux).
      client.set_tcp_nodelay(true);
      client.set_read_timeout(10, 0);
      for (std::uint64_t k = t; k < total_requests; k += options.connections) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(k / options.rate));
        std::this_thread::sleep_until(due);
        // Canonical JSON with the PaySim-style fields the paysim model reads:
        // a payment to a merchant that leaves the balance consistent.
        const double amount = 10 + static_cast<double>(k % 90000) / 100;
        const std::string body = fmt::format(
            R"({{"id":"{}-{}","account":"C{}","timestamp":"{}","amount":{:.2f},"location":"SP",)"
            R"("category":"PAYMENT","counterparty":"M{}","balance_before":50000,)"
            R"("balance_after":{:.2f},"counterparty_balance_before":0,)"
            R"("counterparty_balance_after":0}})",
            options.id_prefix, k, 70000000 + k % options.accounts, utcNow(), amount, k % 5000,
            50000 - amount);
        const auto sent_at = Clock::now();
        auto response = client.Post("/v1/score", body, "application/json");
        const auto done = Clock::now();
        ++result.sent;
        ++result.statuses[response ? response->status : 0];
        if (k < warmup_requests) continue;
        result.latency_ms.push_back(std::chrono::duration<double, std::milli>(done - due).count());
        result.service_ms.push_back(
            std::chrono::duration<double, std::milli>(done - sent_at).count());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  ThreadResult all;
  for (ThreadResult& result : results) {
    all.sent += result.sent;
    for (auto [status, count] : result.statuses) all.statuses[status] += count;
    all.latency_ms.insert(all.latency_ms.end(), result.latency_ms.begin(), result.latency_ms.end());
    all.service_ms.insert(all.service_ms.end(), result.service_ms.begin(), result.service_ms.end());
  }
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  std::sort(all.service_ms.begin(), all.service_ms.end());

  fmt::print("sent={}\nachieved_per_second={:.0f}\nmeasured={}\n", all.sent, all.sent / elapsed,
             all.latency_ms.size());
  for (auto [status, count] : all.statuses) fmt::print("status_{}={}\n", status, count);
  const std::pair<const char*, double> kPercentiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
  for (const auto& [name, fraction] : kPercentiles) {
    fmt::print("latency_{}_ms={:.3f}\n", name, percentile(all.latency_ms, fraction));
    fmt::print("service_{}_ms={:.3f}\n", name, percentile(all.service_ms, fraction));
  }
  fmt::print("latency_max_ms={:.3f}\n", all.latency_ms.empty() ? 0.0 : all.latency_ms.back());
  return all.statuses.size() == 1 && all.statuses.contains(200) ? 0 : 1;
}

int runRedisMemory(const Options& options) {
  txguard::RedisClient redis = stackRedis();

  std::vector<long long> sizes;
  std::string cursor = "0";
  do {
    txguard::RedisReply page =
        redis.command({"SCAN", cursor, "MATCH", options.pattern, "COUNT", "1000"});
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2) {
      throw std::runtime_error("SCAN returned an unexpected reply");
    }
    cursor.assign(page->element[0]->str, page->element[0]->len);
    const redisReply& keys = *page->element[1];
    std::vector<std::vector<std::string>> commands;
    for (std::size_t i = 0; i < keys.elements; ++i) {
      commands.push_back(
          {"MEMORY", "USAGE", std::string(keys.element[i]->str, keys.element[i]->len)});
    }
    if (commands.empty()) continue;
    for (const auto& reply : redis.pipeline(commands)) {
      if (reply->type == REDIS_REPLY_INTEGER) sizes.push_back(reply->integer);
    }
  } while (cursor != "0");

  std::sort(sizes.begin(), sizes.end());
  double sum = 0;
  for (long long size : sizes) sum += static_cast<double>(size);
  fmt::print("keys={}\n", sizes.size());
  fmt::print("mean_bytes={:.1f}\n", sizes.empty() ? 0.0 : sum / sizes.size());
  fmt::print("p50_bytes={}\np99_bytes={}\nmax_bytes={}\n", percentile(sizes, 0.5),
             percentile(sizes, 0.99), sizes.empty() ? 0 : sizes.back());
  return 0;
}

int runS3Put(const Options& options) {
  txguard::S3StoreOptions s3;
  s3.endpoint = requiredEnv("TXGUARD_S3_ENDPOINT");
  s3.region = requiredEnv("TXGUARD_S3_REGION");
  s3.bucket = requiredEnv("TXGUARD_S3_BUCKET_REPORTS");
  s3.credentials.access_key_id = requiredEnv("TXGUARD_S3_ACCESS_KEY_ID");
  s3.credentials.secret_access_key = requiredEnv("TXGUARD_S3_SECRET_ACCESS_KEY");
  s3.idle_connections = static_cast<std::size_t>(options.connections);
  std::atomic<long long> retries{0};
  s3.on_retry = [&retries](const txguard::S3RetryEvent&) { ++retries; };
  txguard::S3Store store(s3);

  const std::string body(static_cast<std::size_t>(options.bytes), 'r');
  std::atomic<long long> puts{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(options.seconds);

  std::vector<std::thread> threads;
  for (int t = 0; t < options.connections; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (long long n = 0; Clock::now() < end && !failed; ++n) {
          store.put(fmt::format("bench/{}/{}.txt", t, n), body, "text/plain; charset=utf-8");
          ++puts;
        }
      } catch (const std::exception& error) {
        std::fprintf(stderr, "service_load s3-put: %s\n", error.what());
        failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (failed) return 1;

  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("object_bytes={}\nconnections={}\nputs={}\nretries={}\nputs_per_second={:.0f}\n",
             options.bytes, options.connections, puts.load(), retries.load(),
             static_cast<double>(puts.load()) / elapsed);
  return 0;
}

int runWaitDecided(const Options& options) {
  if (options.target_count <= 0) usage("wait-decided needs --target N");
  txguard::RedisClient redis = stackRedis();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.seconds);
  long long decided = 0;
  for (;;) {
    txguard::RedisReply reply = redis.command({"GET", "txg:stats:decided"});
    decided = reply->type == REDIS_REPLY_STRING ? std::atoll(reply->str) : 0;
    if (decided >= options.target_count) break;
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "service_load wait-decided: %lld of %lld decided after %.0f s\n",
                   decided, options.target_count, options.seconds);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fmt::print("decided={}\nseconds={:.3f}\n", decided,
             std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parseOptions(argc, argv);
  try {
    if (options.mode == "broker") return runBroker(options);
    if (options.mode == "score") return runScore(options);
    if (options.mode == "redis-memory") return runRedisMemory(options);
    if (options.mode == "wait-decided") return runWaitDecided(options);
    if (options.mode == "s3-put") return runS3Put(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "service_load %s: %s\n", options.mode.c_str(), error.what());
    return 1;
  }
  usage("unknown mode '" + options.mode + "'");
}
