#include "service/worker.h"

#include <random>
#include <thread>

#include "cache/redis_client.h"
#include "queue/errors.h"
#include "queue/topology.h"
#include "service/transaction_codec.h"
#include "telemetry/log.h"

namespace txguard {
namespace {

// Pause between in-place retries of a batch whose dependency failed: the
// clients already retried with backoff, so this only keeps a long outage
// from spinning.
void pauseBeforeRetry(int attempt, const std::atomic<bool>& stop) {
  static thread_local std::mt19937 random(std::random_device{}());
  const int cap_ms = std::min(5000, 200 << std::min(attempt, 5));
  std::uniform_int_distribution<int> jitter(cap_ms / 2, cap_ms);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(jitter(random));
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Worker::Worker(Consumer& consumer, DecisionService& decisions, Metrics& metrics,
               WorkerOptions options)
    : consumer_(consumer),
      decisions_(decisions),
      metrics_(metrics),
      options_(options) {}

void Worker::run(const std::atomic<bool>& stop) {
  log::info("worker consuming", {{"batch_size", std::to_string(options_.batch_size)}});
  while (!stop) {
    if (options_.paused && options_.paused()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const auto received_from = std::chrono::steady_clock::now();
    std::vector<Delivery> deliveries =
        consumer_.receiveBatch(options_.batch_size, options_.batch_wait, options_.batch_linger);
    if (deliveries.empty()) continue;
    metrics_.stageSeconds("receive").Increment(secondsSince(received_from));
    try {
      processBatch(deliveries, stop);
    } catch (const QueueError& error) {
      // The broker failed mid-batch (a confirm timed out, the connection
      // dropped). The unacknowledged deliveries return to the queue when the
      // connection closes, and the consumer reconnects on the next receive.
      metrics_.errors("rabbitmq").Increment();
      if (stop) {
        log::error("stopping with an unfinished batch", {{"error", error.what()}});
        return;
      }
      log::limited(log::Level::kError, "batch interrupted by the broker; it will be redelivered",
                   {{"error", error.what()}});
    }
  }

  // Drain: no new deliveries, finish what the broker already sent us.
  consumer_.cancel();
  const std::atomic<bool> never_stop{false};
  for (;;) {
    std::vector<Delivery> deliveries =
        consumer_.receiveBatch(options_.batch_size, std::chrono::milliseconds(0));
    if (deliveries.empty()) break;
    processBatch(deliveries, never_stop);
  }
  log::info("worker drained", {{"processed", std::to_string(processed_)}});
}

void Worker::failBatch(std::vector<Delivery>& deliveries, const std::vector<std::size_t>& rows,
                       const std::string& reason) {
  for (std::size_t row : rows) {
    Delivery& delivery = deliveries[row];
    if (delivery.deliveryAttempt() >= static_cast<std::int64_t>(options_.max_deliveries)) {
      consumer_.deadLetter(delivery, reason);
      metrics_.deadLettered("failed_repeatedly").Increment();
      log::limited(log::Level::kError, "transaction dead-lettered after repeated failures",
                   {{"transaction_id", delivery.message_id}, {"error", reason}});
    } else {
      consumer_.nack(delivery, /*requeue=*/true);
    }
  }
}

void Worker::processBatch(std::vector<Delivery>& deliveries, const std::atomic<bool>& stop) {
  metrics_.batchSize().Observe(static_cast<double>(deliveries.size()));

  std::vector<Transaction> transactions;
  std::vector<std::int64_t> ingested_at;
  std::vector<std::size_t> rows;  // delivery index of each transaction
  transactions.reserve(deliveries.size());
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    Transaction transaction;
    std::int64_t ingested_at_ms = 0;
    try {
      parseTransactionMessage(deliveries[i].body, transaction, ingested_at_ms);
    } catch (const MessageError& error) {
      // A message that does not parse never will: straight to the DLQ.
      consumer_.deadLetter(deliveries[i], error.what());
      metrics_.deadLettered("invalid_message").Increment();
      log::limited(log::Level::kWarn, "invalid message dead-lettered",
                   {{"message_id", deliveries[i].message_id}, {"error", error.what()}});
      continue;
    }
    transactions.push_back(std::move(transaction));
    ingested_at.push_back(ingested_at_ms);
    rows.push_back(i);
  }
  if (transactions.empty()) return;

  std::vector<ScoredTransaction> scored;
  for (int attempt = 1;; ++attempt) {
    try {
      decisions_.score(transactions, ingested_at, scored);
      break;
    } catch (const RedisError& error) {
      metrics_.errors("redis").Increment();
      log::limited(log::Level::kError, "redis unavailable; retrying the batch",
                   {{"error", error.what()}, {"attempt", std::to_string(attempt)}});
      if (stop) {
        // Shutting down during an outage: hand the batch back to the queue.
        for (std::size_t row : rows) consumer_.nack(deliveries[row], /*requeue=*/true);
        return;
      }
      pauseBeforeRetry(attempt, stop);
    } catch (const ConflictError& error) {
      metrics_.errors("conflict").Increment();
      log::limited(log::Level::kWarn, "account conflicts; requeueing the batch",
                   {{"error", error.what()}});
      failBatch(deliveries, rows, error.what());
      return;
    } catch (const std::exception& error) {
      metrics_.errors("worker").Increment();
      if (rows.size() > 1) {
        // One bad transaction must not take its batch with it: score them
        // one by one, so only the one that fails is retried and, in the
        // end, dead-lettered.
        log::limited(log::Level::kWarn, "batch failed; scoring its transactions one by one",
                     {{"error", error.what()}});
        for (std::size_t row : rows) {
          std::vector<Delivery> single{deliveries[row]};
          processBatch(single, stop);
        }
        return;
      }
      log::limited(log::Level::kError, "transaction failed",
                   {{"transaction_id", transactions.front().id}, {"error", error.what()}});
      failBatch(deliveries, rows, error.what());
      return;
    }
  }

  // Every delivery in the batch is now decided or dead-lettered. The
  // dead-lettered ones are acked already, and acking a tag twice makes the
  // broker close the channel (406 unknown delivery tag), which would
  // redeliver the whole batch. So one ack with multiple=true on the last
  // decided delivery covers the rest.
  const auto stage_start = std::chrono::steady_clock::now();
  consumer_.ack(deliveries[rows.back()], /*multiple=*/true);
  metrics_.stageSeconds("ack").Increment(secondsSince(stage_start));
  processed_ += transactions.size();
}

}  // namespace txguard
