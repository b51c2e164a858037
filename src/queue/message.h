// Messages as the adapter publishes and receives them, independent of the
// rabbitmq-c types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace txguard {

// One AMQP header value. Integer kinds of any width decode to int64, float
// kinds to double, timestamps to int64 seconds. Nested tables, arrays,
// decimals and voids (e.g. RabbitMQ's own `x-death`) are not represented
// and are dropped on receipt.
using HeaderValue = std::variant<bool, std::int64_t, double, std::string>;
using Headers = std::map<std::string, HeaderValue, std::less<>>;

struct OutgoingMessage {
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string message_id;  // the transaction id, so consumers and the DLQ can name it
  std::string content_type = "application/json";
  Headers headers;

  // AMQP timestamp in seconds since the Unix epoch; 0 means "now".
  std::int64_t timestamp_s = 0;

  // With `mandatory`, a message no queue is bound for is returned by the
  // broker and reported as unroutable instead of being dropped silently.
  bool mandatory = true;
};

struct Delivery {
  std::string body;

  // Tag the broker gave this delivery; valid only on the connection it
  // arrived on, which `generation` identifies.
  std::uint64_t delivery_tag = 0;
  std::uint64_t generation = 0;

  // Set by the broker when the message was delivered before and not acked
  // (a nack with requeue, or a consumer whose connection dropped).
  bool redelivered = false;

  std::string exchange;
  std::string routing_key;
  std::string message_id;
  std::string content_type;
  std::int64_t timestamp_s = 0;  // 0 when the publisher set none
  Headers headers;

  // Returns the quorum queue's `x-delivery-count` header: how many earlier
  // deliveries of this message were returned to the queue. Absent on a
  // first delivery and on classic queues.
  std::optional<std::int64_t> deliveryCount() const;

  // Returns the 1-based number of this delivery attempt: x-delivery-count
  // plus one when the header is present. Without the header it returns 2
  // when `redelivered` is set, which is a lower bound, and 1 otherwise.
  std::int64_t deliveryAttempt() const;
};

// Returns the header's value when present and of type T.
template <typename T>
std::optional<T> headerAs(const Headers& headers, std::string_view name) {
  auto it = headers.find(name);
  if (it == headers.end()) {
    return std::nullopt;
  }
  if (const T* value = std::get_if<T>(&it->second)) {
    return *value;
  }
  return std::nullopt;
}

}  // namespace txguard
