// One AMQP connection with one channel, over rabbitmq-c. It turns the
// library's frames and status codes into C++ values and exceptions; the
// Publisher and Consumer build delivery guarantees on top of it.
//
// Threading: rabbitmq-c connection state is not thread-safe, so an
// AmqpConnection (and a Publisher or Consumer, which owns one) must be used
// by one thread at a time. The service gives each thread its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "queue/amqp_config.h"
#include "queue/message.h"

struct amqp_connection_state_t_;
struct amqp_rpc_reply_t_;

namespace txguard {

// basic.ack or basic.nack for published messages on a confirm channel.
// With `multiple`, it covers every sequence number up to `sequence`.
struct PublishConfirm {
  std::uint64_t sequence = 0;
  bool multiple = false;
  bool acked = true;
};

// basic.return: a mandatory message no queue was bound for. The broker sends
// the confirm for it afterwards.
struct ReturnedMessage {
  std::string message_id;
  std::uint16_t reply_code = 0;
  std::string reply_text;
};

// basic.cancel from the broker, e.g. because the queue was deleted.
struct ConsumerCancelled {
  std::string consumer_tag;
};

using BrokerEvent = std::variant<Delivery, PublishConfirm, ReturnedMessage, ConsumerCancelled>;

class AmqpConnection {
 public:
  // Connects, logs in and opens the channel within config.connect_timeout.
  // Throws ConnectionLost (BrokerClosed when the broker refused the login or
  // the vhost) with the masked URL in the message.
  explicit AmqpConnection(const AmqpConfig& config);

  // Closes the channel and the connection politely when they are still
  // open; unacked deliveries go back to their queue.
  ~AmqpConnection();

  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // False after any transport error or broker close; every other call then
  // throws ConnectionLost.
  bool isOpen() const { return open_ && channel_open_; }

  // True between connection.blocked and connection.unblocked: the broker
  // has a resource alarm and reads nothing this connection publishes.
  bool isBlocked() const { return blocked_; }
  const std::string& blockedReason() const { return blocked_reason_; }

  const std::string& displayUrl() const { return display_url_; }

  void declareExchange(const std::string& name, const std::string& type);
  void declareQueue(const std::string& name, const Headers& arguments);
  // Messages ready for delivery in an existing queue (a passive declare).
  // Use a connection that does not consume: deliveries arriving during the
  // call would be mixed into the reply.
  std::uint32_t readyMessages(const std::string& name);
  void bindQueue(const std::string& queue, const std::string& exchange,
                 const std::string& routing_key);
  void deleteQueue(const std::string& name);
  void deleteExchange(const std::string& name);

  // Puts the channel in confirm mode; publish() then returns sequence
  // numbers starting at 1.
  void enableConfirms();

  // Publishes persistently (delivery mode 2). Returns the message's confirm
  // sequence number, or 0 when confirms are off. The call only writes to
  // the socket: the broker's confirm arrives later through nextEvent().
  std::uint64_t publish(const OutgoingMessage& message);

  void setPrefetch(std::uint16_t prefetch_count);

  // Starts a manual-ack consumer and returns the broker-assigned tag.
  std::string consume(const std::string& queue);

  // Sends basic.cancel and waits for cancel-ok. Deliveries that arrive in
  // between stay queued and are returned by later nextEvent() calls.
  void cancelConsumer(const std::string& consumer_tag);

  // Acknowledgements have no broker reply: success means written.
  void ack(std::uint64_t delivery_tag, bool multiple);
  void nack(std::uint64_t delivery_tag, bool multiple, bool requeue);

  // Waits up to `timeout` for the next delivery, confirm, return or cancel;
  // returns nullopt when none arrived. Connection-level frames (blocked,
  // unblocked, heartbeats) are handled on the way. Throws ConnectionLost
  // when the socket fails, a heartbeat is missed or the broker closes the
  // connection or the channel.
  std::optional<BrokerEvent> nextEvent(std::chrono::milliseconds timeout);

 private:
  void requireOpen() const;
  // Returns when `reply` is normal. Otherwise marks the connection or
  // channel closed, sends close-ok for a close from the broker, and throws.
  void checkReply(const amqp_rpc_reply_t_& reply, const char* operation,
                  const std::string& subject);
  [[noreturn]] void failWithStatus(int status, const char* operation);
  Delivery readDelivery(const void* deliver_method);
  ReturnedMessage readReturn(const void* return_method);

  amqp_connection_state_t_* state_ = nullptr;
  std::string display_url_;
  bool open_ = false;
  bool channel_open_ = false;
  bool blocked_ = false;
  std::string blocked_reason_;
  std::uint64_t next_sequence_ = 0;  // 0 while confirms are off
};

}  // namespace txguard
