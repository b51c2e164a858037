// Connection settings for RabbitMQ, parsed from TXGUARD_AMQP_URL and
// TXGUARD_AMQP_PASSWORD (see docs/configuration.md and docs/messaging.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "queue/backoff.h"

namespace txguard {

inline constexpr int kAmqpDefaultPort = 5672;

struct AmqpConfig {
  std::string host = "127.0.0.1";
  int port = kAmqpDefaultPort;
  std::string vhost = "/";  // decoded, e.g. "/" for the URL path "/%2F"
  std::string user = "guest";
  std::string password;  // secret: never logged; displayUrl() masks it

  // Heartbeat interval proposed to the broker; 0 disables heartbeats. The
  // broker drops a connection that is silent for two intervals, so the
  // caller must come back into the library (receive, publish, ack) within
  // that time.
  std::chrono::seconds heartbeat{30};

  // Bound on TCP connect plus the AMQP login handshake.
  std::chrono::milliseconds connect_timeout{5000};

  // Bound on each synchronous AMQP method (declare, qos, consume, cancel).
  std::chrono::milliseconds rpc_timeout{10000};

  // Channels the client may open; the adapter uses one per connection.
  int channel_max = 8;

  // Shown by `rabbitmqctl list_connections client_properties` and the
  // management UI, e.g. "txguard-worker".
  std::string connection_name = "txguard";

  // Delays between reconnection attempts.
  BackoffPolicy reconnect;

  // Returns the URL with the password replaced by "****" (or no password
  // part when there is none), for logs and error messages.
  std::string displayUrl() const;
};

// Parses `amqp://[user[:password]@]host[:port][/vhost][?query]`.
// User, password and vhost are percent-decoded ("%2F" is "/"); no path means
// the vhost "/". Query keys `heartbeat` (seconds), `connection_timeout`
// (milliseconds) and `channel_max` override the defaults, as in RabbitMQ's
// URI specification. `password`, when not empty, replaces a password given in
// the URL. Throws AmqpConfigError naming the problem; the error text shows
// the URL with its password masked.
AmqpConfig parseAmqpUrl(std::string_view url, std::string_view password = {});

// Returns `url` with any password between "user:" and "@" replaced by
// "****". Use it on raw URL strings before they reach a log or an error.
std::string maskAmqpUrl(std::string_view url);

}  // namespace txguard
