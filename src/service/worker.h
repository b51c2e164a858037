// `txguard worker`: consumes the transactions queue in batches, decides
// each transaction exactly once through Redis, and acks. The commit puts
// alerts, reports and archive lines in Redis's outbox, from which the
// AlertRelay and the OutboxUploader move them on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "config/service_config.h"
#include "queue/consumer.h"
#include "service/decision_service.h"
#include "telemetry/metrics.h"

namespace txguard {

struct WorkerOptions {
  std::size_t batch_size = 256;
  // A batch is processed when it is full, `batch_linger` after its first
  // message arrived, or `batch_wait` after the worker asked, whichever
  // comes first. Under load the prefetched messages fill batches at once;
  // at low rates the linger bounds what batching adds to the latency.
  std::chrono::milliseconds batch_wait{200};
  std::chrono::milliseconds batch_linger{5};
  std::uint32_t max_deliveries = 5;          // attempts before the dead-letter queue
  // When it returns true the worker stops taking messages (back-pressure,
  // e.g. while the outbox is full because S3 is down) and checks again
  // every 200 ms. Called on the worker's thread.
  std::function<bool()> paused;
};

class Worker {
 public:
  Worker(Consumer& consumer, DecisionService& decisions, Metrics& metrics, WorkerOptions options);

  // Runs until `stop` becomes true, then stops consuming and finishes the
  // deliveries already received (SIGTERM drain). Dependency outages are
  // retried in place: the batch stays unacknowledged, so nothing is lost.
  void run(const std::atomic<bool>& stop);

  // Processes one batch of deliveries; exposed for tests.
  void processBatch(std::vector<Delivery>& deliveries, const std::atomic<bool>& stop);

  std::uint64_t processed() const { return processed_; }

 private:
  void failBatch(std::vector<Delivery>& deliveries, const std::vector<std::size_t>& rows,
                 const std::string& reason);

  Consumer& consumer_;
  DecisionService& decisions_;
  Metrics& metrics_;
  WorkerOptions options_;
  std::uint64_t processed_ = 0;
};

}  // namespace txguard
