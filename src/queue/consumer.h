// Manual-ack consumption of the transactions queue, for the workers.
//
// Delivery is at least once: a message is removed from the queue only by
// ack(). When the connection drops, the broker requeues every unacked
// message and delivers it again (redelivered flag set, x-delivery-count
// raised). A delivery tag is valid only on the connection that produced it,
// so each Delivery carries the connection's generation. ack() of a delivery
// from an older generation does nothing and returns false. The message then
// arrives again, and the caller's idempotency check skips the work already
// done.
//
// Threading: one thread owns a Consumer; see amqp_connection.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "queue/amqp_config.h"
#include "queue/backoff.h"
#include "queue/message.h"
#include "queue/topology.h"

namespace txguard {

class AmqpConnection;

struct ConsumerOptions {
  // Unacked deliveries the broker sends ahead (basic.qos); RabbitMQ caps
  // prefetch_count at 65535. See TXGUARD_WORKER_PREFETCH.
  std::uint16_t prefetch = 512;

  // Bound on the publisher confirm deadLetter() waits for.
  std::chrono::milliseconds confirm_timeout{5000};

  bool declare_topology = true;
};

// Headers deadLetter() adds to the copy it puts in the dead-letter queue.
inline constexpr std::string_view kReasonHeader = "x-txguard-reason";
inline constexpr std::string_view kFailedAtHeader = "x-txguard-failed-at";
inline constexpr std::string_view kDeliveryCountHeader = "x-txguard-delivery-count";

class Consumer {
 public:
  // Does not connect: the first receiveBatch() does.
  Consumer(AmqpConfig config, QueueTopology topology = {}, ConsumerOptions options = {});
  ~Consumer();

  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void setRetryCallback(RetryCallback callback) { on_retry_ = std::move(callback); }

  // Returns up to `max_messages` deliveries. It returns when that many are
  // collected or `max_wait` has passed, whichever comes first, and an empty
  // vector means none arrived. When the connection is down it reconnects
  // with backoff, declaring the topology, prefetch and consumer again. It
  // never waits past `max_wait` plus one connect timeout, because the next
  // call continues the backoff schedule. After cancel() it returns only
  // what was already in flight. With `linger`, it returns at the latest
  // `linger` after the first delivery of the batch arrived, so a batch that
  // does not fill quickly is not held back for the whole `max_wait`.
  // Throws TopologyError, which retrying cannot fix.
  std::vector<Delivery> receiveBatch(std::size_t max_messages, std::chrono::milliseconds max_wait,
                                     std::optional<std::chrono::milliseconds> linger = {});

  // Acks `delivery` (and with `multiple`, every earlier unacked delivery of
  // the same connection). Returns false without sending anything when the
  // delivery came from an earlier connection or the connection is down:
  // the broker will redeliver the message.
  bool ack(const Delivery& delivery, bool multiple = false);

  // Rejects `delivery` (basic.nack); with `requeue` the broker delivers it
  // again (to any consumer), otherwise it dead-letters it through the
  // queue's x-dead-letter-exchange without the reason headers. Returns false
  // as ack() does.
  bool nack(const Delivery& delivery, bool requeue, bool multiple = false);

  // Moves `delivery` to the dead-letter queue. It publishes a copy to the
  // dead-letter exchange with the headers x-txguard-reason (`reason`),
  // x-txguard-failed-at (UTC, RFC 3339) and x-txguard-delivery-count
  // (Delivery::deliveryAttempt()). It waits for the copy's publisher confirm
  // and only then acks the original, so the message is never in neither
  // queue. Returns true when both steps succeeded. Returns false when the
  // delivery is stale or the connection dropped: the original will be
  // redelivered, and may then be dead-lettered twice. Throws QueueError when
  // the broker nacks or cannot route the copy, and BrokerBusy when the
  // confirm times out. The original then stays unacked on this connection.
  bool deadLetter(const Delivery& delivery, std::string_view reason);

  // Stops new deliveries (basic.cancel) for a graceful shutdown. Deliveries
  // already sent by the broker are still returned by receiveBatch() and can
  // still be acked. No reconnect happens afterwards.
  void cancel();
  bool cancelled() const { return cancelled_; }

  // Connection generation: 0 before the first connect, +1 per connect.
  std::uint64_t generation() const { return generation_; }
  bool connected() const;

  const QueueTopology& topology() const { return topology_; }

 private:
  void connect();
  void dropConnection(const std::string& error);
  bool isCurrent(const Delivery& delivery) const;

  AmqpConfig config_;
  QueueTopology topology_;
  ConsumerOptions options_;
  RetryCallback on_retry_;
  std::unique_ptr<AmqpConnection> connection_;
  std::string consumer_tag_;
  std::uint64_t generation_ = 0;

  // Deliveries read while deadLetter() waited for its confirm, returned
  // first by the next receiveBatch(). Cleared on reconnect: their tags died
  // with their connection.
  std::deque<Delivery> pending_;

  bool cancelled_ = false;
  bool cancelled_by_broker_ = false;  // basic.cancel seen inside deadLetter()
  int failed_attempts_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::mt19937_64 random_;
};

}  // namespace txguard
