// Publishes the alerts the commit put in Redis's alerts outbox
// (txg:outbox:alerts) to the alerts exchange, with publisher confirms, and
// removes them from the outbox once confirmed. One process at a time holds
// the relay's lease and publishes, which keeps alerts in commit order; the
// others stand by.
//
// The worker acks a transaction once its decision and alert are committed
// in Redis, without waiting for the broker to confirm the alert. An outage
// of RabbitMQ, or a crash between publishing and removing, can publish an
// alert twice but does not lose it. Consumers deduplicate on message_id,
// which is the transaction id.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "cache/decision_store.h"
#include "queue/publisher.h"
#include "telemetry/metrics.h"

namespace txguard {

struct AlertRelayOptions {
  std::string holder;            // lease holder id, unique per process
  std::size_t batch = 500;       // alerts per publish
  std::chrono::milliseconds lease{15000};
};

class AlertRelay {
 public:
  AlertRelay(DecisionStore& store, Publisher& publisher, Metrics& metrics,
             AlertRelayOptions options);

  // Publishes up to one batch of the oldest alerts and removes them from
  // the outbox, if this process holds the lease. Returns the number
  // published. Throws QueueError, with nothing removed, or RedisError.
  std::size_t runOnce();

  // Gives up the lease (at shutdown).
  void release() { store_.releaseLeadership("alerts", options_.holder); }

  std::uint64_t backlog() { return store_.outboxLength(DecisionStore::kAlertsOutbox); }

 private:
  DecisionStore& store_;
  Publisher& publisher_;
  Metrics& metrics_;
  AlertRelayOptions options_;
};

// Returns the transaction id of a decision JSON document, or "" when it has
// none.
std::string transactionIdOfDecisionJson(std::string_view decision_json);

}  // namespace txguard
