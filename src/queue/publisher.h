// Persistent publishing with publisher confirms, for the API. A batch is
// written at once and then the confirms are awaited, so a batch costs one
// round trip to the broker's disk rather than one per message.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "queue/amqp_config.h"
#include "queue/backoff.h"
#include "queue/errors.h"
#include "queue/message.h"
#include "queue/topology.h"

namespace txguard {

class AmqpConnection;

enum class PublishOutcome {
  kConfirmed,    // the broker has the message (on disk for quorum queues)
  kNacked,       // the broker could not take it (basic.nack): publish again
  kUnroutable,   // mandatory and no queue bound for its routing key
  kUnconfirmed,  // no confirm before the timeout; it may or may not be stored
};

struct PublishResult {
  std::vector<PublishOutcome> outcomes;  // one per message, in input order

  std::size_t confirmedCount() const;
  bool allConfirmed() const { return confirmedCount() == outcomes.size(); }
};

// Confirms did not all arrive within the confirm timeout. result() reports
// which messages were confirmed. The others may be stored too, so a retry
// can duplicate them, and consumers deduplicate by message id.
class ConfirmTimeout : public BrokerBusy {
 public:
  ConfirmTimeout(const std::string& message, PublishResult result)
      : BrokerBusy(message), result_(std::move(result)) {}

  const PublishResult& result() const { return result_; }

 private:
  PublishResult result_;
};

struct PublisherOptions {
  std::chrono::milliseconds confirm_timeout{5000};

  // Declares the topology after each connect; harmless when the broker
  // definitions already created it.
  bool declare_topology = true;
};

class Publisher {
 public:
  // Does not connect: the first publishBatch() or connect() does.
  Publisher(AmqpConfig config, QueueTopology topology = {}, PublisherOptions options = {});
  ~Publisher();

  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void setRetryCallback(RetryCallback callback) { on_retry_ = std::move(callback); }

  // Connects now when not connected. Throws ConnectionLost when the broker
  // cannot be reached, or at once, without trying, while the backoff delay
  // after the previous failure has not passed. Throws TopologyError when
  // the declaration is refused.
  void connect();
  bool connected() const;

  // Publishes `messages` and waits for all their confirms. Returns the
  // outcome of each message when every confirm arrived. Throws BrokerBusy,
  // before publishing anything, when the broker has blocked the connection.
  // Throws ConfirmTimeout when confirms are still missing after the confirm
  // timeout. Throws ConnectionLost when the connection fails: nothing in the
  // batch counts as confirmed then, and the next call reconnects.
  PublishResult publishBatch(std::span<const OutgoingMessage> messages);

  const QueueTopology& topology() const { return topology_; }

 private:
  void dropConnection(const std::string& error);
  void drainEvents();

  AmqpConfig config_;
  QueueTopology topology_;
  PublisherOptions options_;
  RetryCallback on_retry_;
  std::unique_ptr<AmqpConnection> connection_;
  int failed_attempts_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::mt19937_64 random_;
};

}  // namespace txguard
