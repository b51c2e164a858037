// Exchanges, queues and bindings txguard uses on RabbitMQ, and their
// idempotent declaration. docs/messaging.md lists the same names and
// arguments for the broker definitions the Helm chart loads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "queue/message.h"

namespace txguard {

class AmqpConnection;

struct QueueTopology {
  std::string ingest_exchange = "txguard.ingest";           // direct
  std::string transactions_queue = "txguard.transactions";  // quorum
  std::string transactions_routing_key = "transaction";
  std::string dead_letter_exchange = "txguard.dlx";            // fanout
  std::string dead_letter_queue = "txguard.transactions.dlq";  // quorum
  std::string alerts_exchange = "txguard.alerts";              // topic, keys alert.<action>

  // Quorum queue `x-delivery-limit`: after this many returned deliveries the
  // broker itself dead-letters the message. It is a backstop above the
  // worker's own limit (TXGUARD_WORKER_MAX_DELIVERIES, default 5), which
  // dead-letters with a reason first. Changing it requires changing the
  // broker definitions too, or declaration fails.
  std::int64_t delivery_limit = 20;

  // Returns the standard names with `suffix` appended to each exchange and
  // queue name, so tests and benchmarks can share a broker and vhost with a
  // running system without touching its queues.
  static QueueTopology withSuffix(std::string_view suffix);
};

// Declares the exchanges, queues and bindings of `topology`, all durable.
// Declaring what already exists with the same arguments changes nothing.
// Throws TopologyError when an entity exists with other arguments (the
// broker's message names the argument, e.g. 'x-delivery-limit') or the user
// may not configure it; the connection is unusable afterwards. Throws
// ConnectionLost on transport errors.
void declareTopology(AmqpConnection& connection, const QueueTopology& topology);

// Deletes the exchanges and queues of `topology`, messages included. For
// tests and benchmarks that declared a suffixed topology.
void deleteTopology(AmqpConnection& connection, const QueueTopology& topology);

// Builds a persistent transaction message for the ingest exchange.
OutgoingMessage transactionMessage(const QueueTopology& topology, std::string transaction_id,
                                   std::string body);

// Builds an alert for the alerts exchange with routing key "alert.<action>".
// Not mandatory: with no alert consumer bound, the broker drops it.
OutgoingMessage alertMessage(const QueueTopology& topology, std::string_view action,
                             std::string transaction_id, std::string body);

}  // namespace txguard
