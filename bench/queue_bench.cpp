// Raw RabbitMQ throughput through the queue adapter on one connection each
// way: publish with confirms in batches, then consume with manual acks
// (multiple=true once per batch). Not a Google Benchmark program, because
// it measures a live broker: start the local stack and source its env
// (TXGUARD_AMQP_URL, TXGUARD_AMQP_PASSWORD) first.
//
//   queue_bench [--messages N] [--batch N] [--size BYTES] [--prefetch N]
//
// It declares its own suffixed topology and deletes it afterwards.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "queue/amqp_connection.h"
#include "queue/consumer.h"
#include "queue/publisher.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int messages = 50000;
  int batch = 256;
  int size = 200;
  int prefetch = 512;
};

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    int value = std::atoi(argv[i + 1]);
    if (value <= 0) {
      std::fprintf(stderr, "queue_bench: %s needs a positive integer\n", argv[i]);
      std::exit(2);
    }
    if (std::strcmp(argv[i], "--messages") == 0) {
      options.messages = value;
    } else if (std::strcmp(argv[i], "--batch") == 0) {
      options.batch = value;
    } else if (std::strcmp(argv[i], "--size") == 0) {
      options.size = value;
    } else if (std::strcmp(argv[i], "--prefetch") == 0) {
      options.prefetch = std::min(value, 65535);
    } else {
      std::fprintf(stderr, "queue_bench: unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  return options;
}

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parseOptions(argc, argv);
  const char* url = std::getenv("TXGUARD_AMQP_URL");
  if (url == nullptr) {
    std::fprintf(stderr, "queue_bench: TXGUARD_AMQP_URL is not set; source the stack's env\n");
    return 2;
  }
  const char* password = std::getenv("TXGUARD_AMQP_PASSWORD");

  try {
    txguard::AmqpConfig config = txguard::parseAmqpUrl(url, password ? password : "");
    config.connection_name = "txguard-queue-bench";
    txguard::QueueTopology topology =
        txguard::QueueTopology::withSuffix(".bench-" + std::to_string(::getpid()));

    std::vector<txguard::OutgoingMessage> messages;
    for (int i = 0; i < options.messages; ++i) {
      std::string id = "bench-" + std::to_string(i);
      std::string body = R"({"id":")" + id + R"(","payload":")";
      body.resize(std::max<std::size_t>(body.size(), options.size - 2), 'x');
      body += "\"}";
      messages.push_back(txguard::transactionMessage(topology, id, body));
    }

    std::printf("queue_bench: %d messages of %d bytes, batch %d, prefetch %d, broker %s\n",
                options.messages, options.size, options.batch, options.prefetch,
                config.displayUrl().c_str());

    txguard::Publisher publisher(config, topology);
    publisher.connect();
    std::vector<double> batch_ms;
    auto start = Clock::now();
    for (int offset = 0; offset < options.messages; offset += options.batch) {
      int count = std::min(options.batch, options.messages - offset);
      auto batch_start = Clock::now();
      txguard::PublishResult result =
          publisher.publishBatch(std::span(messages).subspan(offset, count));
      batch_ms.push_back(secondsSince(batch_start) * 1000);
      if (!result.allConfirmed()) {
        std::fprintf(stderr,
                     "queue_bench: a batch was nacked or unroutable; check the broker log\n");
        return 1;
      }
    }
    double publish_seconds = secondsSince(start);
    std::printf("publish (confirmed): %.0f messages/s, batch latency p50 %.2f ms, p99 %.2f ms\n",
                options.messages / publish_seconds, percentile(batch_ms, 0.5),
                percentile(batch_ms, 0.99));

    txguard::ConsumerOptions consumer_options;
    consumer_options.prefetch = static_cast<std::uint16_t>(options.prefetch);
    txguard::Consumer consumer(config, topology, consumer_options);
    int received = 0;
    start = Clock::now();
    while (received < options.messages) {
      auto batch = consumer.receiveBatch(options.batch, std::chrono::milliseconds(2000));
      if (batch.empty()) {
        std::fprintf(stderr, "queue_bench: no delivery for 2 s after %d messages\n", received);
        return 1;
      }
      consumer.ack(batch.back(), /*multiple=*/true);
      received += static_cast<int>(batch.size());
    }
    double consume_seconds = secondsSince(start);
    std::printf("consume (acked): %.0f messages/s\n", options.messages / consume_seconds);

    txguard::AmqpConnection cleanup(config);
    txguard::deleteTopology(cleanup, topology);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "queue_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
