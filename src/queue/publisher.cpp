#include "queue/publisher.h"

#include <algorithm>
#include <string>

#include "queue/amqp_connection.h"

namespace txguard {

std::size_t PublishResult::confirmedCount() const {
  return static_cast<std::size_t>(
      std::count(outcomes.begin(), outcomes.end(), PublishOutcome::kConfirmed));
}

Publisher::Publisher(AmqpConfig config, QueueTopology topology, PublisherOptions options)
    : config_(std::move(config)),
      topology_(std::move(topology)),
      options_(options),
      random_(std::random_device{}()) {}

Publisher::~Publisher() = default;

bool Publisher::connected() const { return connection_ != nullptr && connection_->isOpen(); }

void Publisher::connect() {
  if (connected()) {
    return;
  }
  connection_.reset();

  // The API calls this per request: while the broker is down, failing fast
  // keeps request threads free instead of each one waiting a connect timeout.
  auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
    throw ConnectionLost("RabbitMQ at " + config_.displayUrl() + " is unreachable after " +
                         std::to_string(failed_attempts_) + " attempts; next attempt in " +
                         std::to_string(wait.count()) + " ms");
  }

  try {
    auto connection = std::make_unique<AmqpConnection>(config_);
    if (options_.declare_topology) {
      declareTopology(*connection, topology_);
    }
    connection->enableConfirms();
    connection_ = std::move(connection);
    failed_attempts_ = 0;
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
    throw;
  }
}

void Publisher::dropConnection(const std::string& error) {
  connection_.reset();
  ++failed_attempts_;
  std::chrono::milliseconds delay = backoffDelay(config_.reconnect, failed_attempts_, random_);
  next_attempt_ = std::chrono::steady_clock::now() + delay;
  if (on_retry_) {
    on_retry_(error, failed_attempts_, delay);
  }
}

void Publisher::drainEvents() {
  // Confirms and returns left over from an earlier batch that timed out
  // have sequence numbers below this batch, so they are dropped here. The
  // loop also reads a pending connection.blocked.
  while (connection_->nextEvent(std::chrono::milliseconds(0))) {
  }
}

PublishResult Publisher::publishBatch(std::span<const OutgoingMessage> messages) {
  PublishResult result;
  result.outcomes.assign(messages.size(), PublishOutcome::kUnconfirmed);
  if (messages.empty()) {
    return result;
  }
  connect();

  try {
    drainEvents();
    if (connection_->isBlocked()) {
      throw BrokerBusy("RabbitMQ at " + config_.displayUrl() + " blocked publishing (" +
                       connection_->blockedReason() +
                       "); nothing was published, retry after the broker's resource alarm clears");
    }

    const std::size_t count = messages.size();
    std::uint64_t first = 0;
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t sequence = connection_->publish(messages[i]);
      if (i == 0) {
        first = sequence;
      }
    }
    const std::uint64_t last = first + count - 1;

    std::vector<bool> settled(count, false);
    std::vector<bool> returned(count, false);
    std::size_t unsettled = count;
    std::size_t cursor = 0;  // every index below it is settled
    auto settle = [&](std::size_t index, bool acked) {
      if (settled[index]) {
        return;
      }
      settled[index] = true;
      --unsettled;
      if (returned[index]) {
        result.outcomes[index] = PublishOutcome::kUnroutable;
      } else {
        result.outcomes[index] = acked ? PublishOutcome::kConfirmed : PublishOutcome::kNacked;
      }
    };

    auto deadline = std::chrono::steady_clock::now() + options_.confirm_timeout;
    while (unsettled > 0) {
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) {
        break;
      }
      std::optional<BrokerEvent> event = connection_->nextEvent(remaining);
      if (!event) {
        break;
      }

      if (const auto* confirm = std::get_if<PublishConfirm>(&*event)) {
        if (confirm->sequence < first) {
          continue;
        }
        std::uint64_t upper = std::min(confirm->sequence, last);
        if (confirm->multiple) {
          for (std::size_t index = cursor; first + index <= upper; ++index) {
            settle(index, confirm->acked);
          }
          cursor = std::max<std::size_t>(cursor, upper - first + 1);
        } else if (confirm->sequence <= last) {
          settle(confirm->sequence - first, confirm->acked);
        }
      } else if (const auto* bounce = std::get_if<ReturnedMessage>(&*event)) {
        // basic.return carries no sequence number; the message id finds the
        // message. NOTE: with duplicate ids in one batch, the first
        // unsettled one is marked.
        for (std::size_t index = 0; index < count; ++index) {
          if (!settled[index] && !returned[index] &&
              messages[index].message_id == bounce->message_id) {
            returned[index] = true;
            break;
          }
        }
      }
    }

    if (unsettled > 0) {
      std::string reason = connection_->isBlocked() ? "the broker blocked the connection (" +
                                                          connection_->blockedReason() + ")"
                                                    : "the broker is slow or overloaded";
      throw ConfirmTimeout(
          std::to_string(unsettled) + " of " + std::to_string(count) +
              " messages were not confirmed by RabbitMQ at " + config_.displayUrl() + " within " +
              std::to_string(options_.confirm_timeout.count()) + " ms: " + reason + "; retry later",
          std::move(result));
    }
    return result;
  } catch (const ConnectionLost& error) {
    dropConnection(error.what());
    throw;
  }
}

}  // namespace txguard
