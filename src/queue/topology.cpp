#include "queue/topology.h"

#include "queue/amqp_connection.h"
#include "queue/errors.h"

namespace txguard {
namespace {

// AMQP reply codes for a declaration the broker will not accept as is.
constexpr std::uint16_t kAccessRefused = 403;
constexpr std::uint16_t kPreconditionFailed = 406;

template <typename Declare>
void declareOrExplain(Declare declare) {
  try {
    declare();
  } catch (const BrokerClosed& error) {
    if (error.replyCode() == kPreconditionFailed) {
      throw TopologyError(std::string(error.what()) +
                          "; the broker already has this entity with other arguments: make the "
                          "broker definitions match docs/messaging.md, or delete the entity");
    }
    if (error.replyCode() == kAccessRefused) {
      throw TopologyError(std::string(error.what()) +
                          "; grant the user configure permission on txguard.* in this vhost");
    }
    throw;
  }
}

}  // namespace

QueueTopology QueueTopology::withSuffix(std::string_view suffix) {
  QueueTopology topology;
  for (std::string* name :
       {&topology.ingest_exchange, &topology.transactions_queue, &topology.dead_letter_exchange,
        &topology.dead_letter_queue, &topology.alerts_exchange}) {
    *name += suffix;
  }
  return topology;
}

void declareTopology(AmqpConnection& connection, const QueueTopology& topology) {
  declareOrExplain([&] {
    connection.declareExchange(topology.ingest_exchange, "direct");
    connection.declareExchange(topology.dead_letter_exchange, "fanout");
    connection.declareExchange(topology.alerts_exchange, "topic");

    connection.declareQueue(topology.dead_letter_queue, {{"x-queue-type", std::string("quorum")}});

    // at-least-once dead-lettering keeps a message in the source queue until
    // the DLQ confirms it; RabbitMQ requires overflow reject-publish for it.
    // Without a length limit the overflow setting has no other effect.
    connection.declareQueue(topology.transactions_queue,
                            {{"x-queue-type", std::string("quorum")},
                             {"x-dead-letter-exchange", topology.dead_letter_exchange},
                             {"x-dead-letter-strategy", std::string("at-least-once")},
                             {"x-overflow", std::string("reject-publish")},
                             {"x-delivery-limit", topology.delivery_limit}});

    connection.bindQueue(topology.transactions_queue, topology.ingest_exchange,
                         topology.transactions_routing_key);
    connection.bindQueue(topology.dead_letter_queue, topology.dead_letter_exchange, "");
  });
}

void deleteTopology(AmqpConnection& connection, const QueueTopology& topology) {
  connection.deleteQueue(topology.transactions_queue);
  connection.deleteQueue(topology.dead_letter_queue);
  connection.deleteExchange(topology.ingest_exchange);
  connection.deleteExchange(topology.dead_letter_exchange);
  connection.deleteExchange(topology.alerts_exchange);
}

OutgoingMessage transactionMessage(const QueueTopology& topology, std::string transaction_id,
                                   std::string body) {
  OutgoingMessage message;
  message.exchange = topology.ingest_exchange;
  message.routing_key = topology.transactions_routing_key;
  message.message_id = std::move(transaction_id);
  message.body = std::move(body);
  return message;
}

OutgoingMessage alertMessage(const QueueTopology& topology, std::string_view action,
                             std::string transaction_id, std::string body) {
  OutgoingMessage message;
  message.exchange = topology.alerts_exchange;
  message.routing_key = "alert." + std::string(action);
  message.message_id = std::move(transaction_id);
  message.body = std::move(body);
  message.mandatory = false;
  return message;
}

}  // namespace txguard
