#include "queue/consumer.h"

#include <ctime>
#include <thread>

#include "queue/amqp_connection.h"
#include "queue/errors.h"

namespace txguard {
namespace {

// Formats `time` as RFC 3339 in UTC with milliseconds, e.g.
// "2024-03-01T12:34:56.789Z".
std::string formatUtc(std::chrono::system_clock::time_point time) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  int millis = static_cast<int>(since_epoch.count() % 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text;
}

std::chrono::milliseconds until(std::chrono::steady_clock::time_point deadline) {
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(remaining, std::chrono::milliseconds(0));
}

}  // namespace

Consumer::Consumer(AmqpConfig config, QueueTopology topology, ConsumerOptions options)
    : config_(std::move(config)),
      topology_(std::move(topology)),
      options_(options),
      random_(std::random_device{}()) {}

Consumer::~Consumer() = default;

bool Consumer::connected() const { return connection_ != nullptr && connection_->isOpen(); }

bool Consumer::isCurrent(const Delivery& delivery) const {
  return connected() && delivery.generation == generation_;
}

void Consumer::connect() {
  auto connection = std::make_unique<AmqpConnection>(config_);
  if (options_.declare_topology) {
    declareTopology(*connection, topology_);
  }
  connection->enableConfirms();
  connection->setPrefetch(options_.prefetch);
  consumer_tag_ = connection->consume(topology_.transactions_queue);

  connection_ = std::move(connection);
  ++generation_;
  failed_attempts_ = 0;
  cancelled_by_broker_ = false;
}

void Consumer::dropConnection(const std::string& error) {
  connection_.reset();
  consumer_tag_.clear();
  pending_.clear();
  ++failed_attempts_;
  std::chrono::milliseconds delay = backoffDelay(config_.reconnect, failed_attempts_, random_);
  next_attempt_ = std::chrono::steady_clock::now() + delay;
  if (on_retry_) {
    on_retry_(error, failed_attempts_, delay);
  }
}

std::vector<Delivery> Consumer::receiveBatch(std::size_t max_messages,
                                             std::chrono::milliseconds max_wait,
                                             std::optional<std::chrono::milliseconds> linger) {
  std::vector<Delivery> batch;
  auto deadline = std::chrono::steady_clock::now() + max_wait;

  while (batch.size() < max_messages) {
    while (!pending_.empty() && batch.size() < max_messages) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
      if (linger && batch.size() == 1) {
        deadline = std::min(deadline, std::chrono::steady_clock::now() + *linger);
      }
    }
    if (batch.size() >= max_messages) {
      break;
    }

    if (cancelled_by_broker_ && !cancelled_) {
      dropConnection("RabbitMQ cancelled the consumer on queue '" + topology_.transactions_queue +
                     "' (queue deleted or moved); re-consuming");
      batch.clear();
    }

    if (!connected()) {
      if (cancelled_) {
        break;
      }
      auto now = std::chrono::steady_clock::now();
      if (now < next_attempt_) {
        std::this_thread::sleep_until(std::min(next_attempt_, deadline));
        if (std::chrono::steady_clock::now() >= deadline) {
          break;
        }
        continue;
      }
      try {
        connect();
      } catch (const ConnectionLost& error) {
        dropConnection(error.what());
      }
      continue;
    }

    try {
      // At the deadline this still polls once without blocking, so
      // deliveries already buffered are returned rather than left waiting.
      std::optional<BrokerEvent> event = connection_->nextEvent(until(deadline));
      if (!event) {
        break;
      }
      if (auto* delivery = std::get_if<Delivery>(&*event)) {
        delivery->generation = generation_;
        batch.push_back(std::move(*delivery));
        if (linger && batch.size() == 1) {
          deadline = std::min(deadline, std::chrono::steady_clock::now() + *linger);
        }
      } else if (std::holds_alternative<ConsumerCancelled>(*event)) {
        if (!cancelled_) {
          cancelled_by_broker_ = true;
        }
      }
      // Confirms and returns seen here belong to a deadLetter() call that
      // already timed out, so nothing waits for them any more.
    } catch (const ConnectionLost& error) {
      // Deliveries collected so far died with the connection.
      dropConnection(error.what());
      batch.clear();
    }
  }
  return batch;
}

bool Consumer::ack(const Delivery& delivery, bool multiple) {
  if (!isCurrent(delivery)) {
    return false;
  }
  try {
    connection_->ack(delivery.delivery_tag, multiple);
    return true;
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
    return false;
  }
}

bool Consumer::nack(const Delivery& delivery, bool requeue, bool multiple) {
  if (!isCurrent(delivery)) {
    return false;
  }
  try {
    connection_->nack(delivery.delivery_tag, multiple, requeue);
    return true;
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
    return false;
  }
}

bool Consumer::deadLetter(const Delivery& delivery, std::string_view reason) {
  if (!isCurrent(delivery)) {
    return false;
  }

  OutgoingMessage copy;
  copy.exchange = topology_.dead_letter_exchange;
  copy.routing_key = delivery.routing_key;
  copy.body = delivery.body;
  copy.message_id = delivery.message_id;
  copy.content_type = delivery.content_type;
  copy.timestamp_s = delivery.timestamp_s;
  copy.headers = delivery.headers;
  copy.headers.insert_or_assign(std::string(kReasonHeader), std::string(reason));
  copy.headers.insert_or_assign(std::string(kFailedAtHeader),
                                formatUtc(std::chrono::system_clock::now()));
  copy.headers.insert_or_assign(std::string(kDeliveryCountHeader), delivery.deliveryAttempt());
  copy.mandatory = true;

  std::string subject = "dead-letter copy of message '" + delivery.message_id + "'";
  try {
    std::uint64_t sequence = connection_->publish(copy);
    bool returned = false;
    auto deadline = std::chrono::steady_clock::now() + options_.confirm_timeout;
    while (true) {
      std::optional<BrokerEvent> event = connection_->nextEvent(until(deadline));
      if (!event) {
        throw BrokerBusy(subject + " was not confirmed by RabbitMQ at " + config_.displayUrl() +
                         " within " + std::to_string(options_.confirm_timeout.count()) +
                         " ms; the original stays unacked");
      }

      if (auto* other = std::get_if<Delivery>(&*event)) {
        other->generation = generation_;
        pending_.push_back(std::move(*other));
      } else if (const auto* bounce = std::get_if<ReturnedMessage>(&*event)) {
        if (bounce->message_id == delivery.message_id) {
          returned = true;
        }
      } else if (std::holds_alternative<ConsumerCancelled>(*event)) {
        cancelled_by_broker_ = !cancelled_;
      } else if (const auto* confirm = std::get_if<PublishConfirm>(&*event)) {
        bool covers =
            confirm->multiple ? confirm->sequence >= sequence : confirm->sequence == sequence;
        if (!covers) {
          continue;
        }
        if (!confirm->acked) {
          throw QueueError("RabbitMQ nacked the " + subject + "; the original stays unacked");
        }
        if (returned) {
          throw QueueError("the " + subject + " was unroutable: bind queue '" +
                           topology_.dead_letter_queue + "' to exchange '" +
                           topology_.dead_letter_exchange + "'; the original stays unacked");
        }
        break;
      }
    }

    connection_->ack(delivery.delivery_tag, false);
    return true;
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
    return false;
  }
}

void Consumer::cancel() {
  if (cancelled_) {
    return;
  }
  cancelled_ = true;
  if (!connected() || consumer_tag_.empty()) {
    return;
  }
  try {
    connection_->cancelConsumer(consumer_tag_);
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
  }
}

}  // namespace txguard
