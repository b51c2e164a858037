// Exceptions raised by the RabbitMQ adapter. Messages never contain the
// password: where they name the broker, they show its URL masked.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace txguard {

class QueueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Invalid AMQP URL or option; raised before any connection is attempted.
class AmqpConfigError : public QueueError {
 public:
  using QueueError::QueueError;
};

// The connection or its channel is gone: a socket error, a missed heartbeat,
// or the broker closed it. Messages received on it can no longer be acked and
// will be redelivered; a new connection may succeed.
class ConnectionLost : public QueueError {
 public:
  using QueueError::QueueError;
};

// The broker closed the channel or connection with an AMQP reply code
// (e.g. 406 PRECONDITION_FAILED, 404 NOT_FOUND, 320 CONNECTION_FORCED).
class BrokerClosed : public ConnectionLost {
 public:
  BrokerClosed(std::uint16_t reply_code, const std::string& message)
      : ConnectionLost(message), reply_code_(reply_code) {}

  std::uint16_t replyCode() const { return reply_code_; }

 private:
  std::uint16_t reply_code_;
};

// The broker declined a declaration because the exchange or queue already
// exists with other arguments, or the user lacks the permission. Retrying
// does not help: the broker definitions or the user's permissions must change.
class TopologyError : public QueueError {
 public:
  using QueueError::QueueError;
};

// The broker is applying back-pressure: it blocked the connection (memory or
// disk alarm) or publisher confirms did not arrive in time. The API responds
// with 429 and the client retries later.
class BrokerBusy : public QueueError {
 public:
  using QueueError::QueueError;
};

}  // namespace txguard
