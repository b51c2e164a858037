#include "queue/amqp_connection.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "queue/amqp_table.h"
#include "queue/errors.h"

namespace txguard {
namespace {

constexpr amqp_channel_t kChannel = 1;

timeval toTimeval(std::chrono::milliseconds duration) {
  if (duration.count() < 0) {
    duration = std::chrono::milliseconds(0);
  }
  timeval tv;
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// Returns rabbitmq-c's text for `status`, with the OS error for socket
// failures, whose library text ("a socket error occurred") alone does not
// tell a refused connection from an unknown host.
std::string statusText(int status) {
  std::string text = amqp_error_string2(status);
  if (status == AMQP_STATUS_SOCKET_ERROR && errno != 0) {
    text += " (";
    text += std::strerror(errno);
    text += ")";
  }
  return text;
}

// Status codes that mean the frame was never written, so the connection is
// still in a known state.
bool isEncodingError(int status) {
  return status == AMQP_STATUS_TABLE_TOO_BIG || status == AMQP_STATUS_BAD_AMQP_DATA ||
         status == AMQP_STATUS_INVALID_PARAMETER;
}

}  // namespace

AmqpConnection::AmqpConnection(const AmqpConfig& config) : display_url_(config.displayUrl()) {
  state_ = amqp_new_connection();
  if (state_ == nullptr) {
    throw QueueError("cannot allocate an AMQP connection for " + display_url_);
  }

  try {
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    if (socket == nullptr) {
      throw QueueError("cannot allocate a TCP socket for " + display_url_);
    }
    timeval connect_timeout = toTimeval(config.connect_timeout);
    int status =
        amqp_socket_open_noblock(socket, config.host.c_str(), config.port, &connect_timeout);
    if (status != AMQP_STATUS_OK) {
      throw ConnectionLost("cannot connect to RabbitMQ at " + display_url_ + ": " +
                           statusText(status) +
                           "; check TXGUARD_AMQP_URL and that the broker is running");
    }
    amqp_set_handshake_timeout(state_, &connect_timeout);
    timeval rpc_timeout = toTimeval(config.rpc_timeout);
    amqp_set_rpc_timeout(state_, &rpc_timeout);

    // rabbitmq-c merges these capabilities with its defaults. The broker
    // sends connection.blocked and basic.cancel only to clients that
    // announce them.
    amqp_table_entry_t capabilities[] = {
        {amqp_cstring_bytes("connection.blocked"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
        {amqp_cstring_bytes("consumer_cancel_notify"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
        {amqp_cstring_bytes("basic.nack"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
        {amqp_cstring_bytes("publisher_confirms"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
    };
    amqp_table_entry_t properties[2];
    properties[0].key = amqp_cstring_bytes("connection_name");
    properties[0].value.kind = AMQP_FIELD_KIND_UTF8;
    properties[0].value.value.bytes = toBytes(config.connection_name);
    properties[1].key = amqp_cstring_bytes("capabilities");
    properties[1].value.kind = AMQP_FIELD_KIND_TABLE;
    properties[1].value.value.table.num_entries = std::size(capabilities);
    properties[1].value.value.table.entries = capabilities;
    amqp_table_t client_properties{2, properties};

    open_ = true;
    amqp_rpc_reply_t reply = amqp_login_with_properties(
        state_, config.vhost.c_str(), config.channel_max, AMQP_DEFAULT_FRAME_SIZE,
        static_cast<int>(config.heartbeat.count()), &client_properties, AMQP_SASL_METHOD_PLAIN,
        config.user.c_str(), config.password.c_str());
    checkReply(reply, "login", "user '" + config.user + "' on vhost '" + config.vhost + "'");

    amqp_channel_open(state_, kChannel);
    checkReply(amqp_get_rpc_reply(state_), "channel.open", "channel 1");
    channel_open_ = true;
  } catch (...) {
    amqp_destroy_connection(state_);
    state_ = nullptr;
    open_ = false;
    throw;
  }
}

AmqpConnection::~AmqpConnection() {
  if (state_ == nullptr) {
    return;
  }
  // Close errors are ignored: the broker drops the connection either way
  // and requeues what was not acked.
  if (open_) {
    if (channel_open_) {
      amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
    }
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(state_);
}

void AmqpConnection::requireOpen() const {
  if (!open_ || !channel_open_) {
    throw ConnectionLost("the connection to " + display_url_ + " is closed; reconnect");
  }
}

void AmqpConnection::checkReply(const amqp_rpc_reply_t& reply, const char* operation,
                                const std::string& subject) {
  std::string context = std::string(operation) + " of " + subject + " on " + display_url_;
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;

    case AMQP_RESPONSE_NONE:
      open_ = false;
      throw ConnectionLost(context + " failed: no reply from the library");

    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      open_ = false;
      throw ConnectionLost(context + " failed: " + statusText(reply.library_error));

    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }

  if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
    std::uint16_t code = close->reply_code;
    std::string text = toString(close->reply_text);
    amqp_connection_close_ok_t close_ok{};
    amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
    open_ = false;
    throw BrokerClosed(code, context + " failed: the broker closed the connection: " +
                                 std::to_string(code) + " " + text);
  }
  if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
    std::uint16_t code = close->reply_code;
    std::string text = toString(close->reply_text);
    amqp_channel_close_ok_t close_ok{};
    amqp_send_method(state_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    channel_open_ = false;
    throw BrokerClosed(code, context + " failed: the broker closed the channel: " +
                                 std::to_string(code) + " " + text);
  }
  open_ = false;
  throw ConnectionLost(context + " failed: unexpected broker method " +
                       std::to_string(reply.reply.id));
}

void AmqpConnection::failWithStatus(int status, const char* operation) {
  open_ = false;
  throw ConnectionLost(std::string(operation) + " on " + display_url_ +
                       " failed: " + statusText(status));
}

void AmqpConnection::declareExchange(const std::string& name, const std::string& type) {
  requireOpen();
  amqp_exchange_declare(state_, kChannel, toBytes(name), toBytes(type), /*passive=*/0,
                        /*durable=*/1, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  checkReply(amqp_get_rpc_reply(state_), "exchange.declare", "exchange '" + name + "'");
}

void AmqpConnection::declareQueue(const std::string& name, const Headers& arguments) {
  requireOpen();
  EncodedTable table(arguments);
  amqp_queue_declare(state_, kChannel, toBytes(name), /*passive=*/0, /*durable=*/1,
                     /*exclusive=*/0, /*auto_delete=*/0, table.table());
  checkReply(amqp_get_rpc_reply(state_), "queue.declare", "queue '" + name + "'");
}

std::uint32_t AmqpConnection::readyMessages(const std::string& name) {
  requireOpen();
  const amqp_queue_declare_ok_t* reply =
      amqp_queue_declare(state_, kChannel, toBytes(name), /*passive=*/1, /*durable=*/0,
                         /*exclusive=*/0, /*auto_delete=*/0, amqp_empty_table);
  checkReply(amqp_get_rpc_reply(state_), "queue.declare (passive)", "queue '" + name + "'");
  return reply != nullptr ? reply->message_count : 0;
}

void AmqpConnection::bindQueue(const std::string& queue, const std::string& exchange,
                               const std::string& routing_key) {
  requireOpen();
  amqp_queue_bind(state_, kChannel, toBytes(queue), toBytes(exchange), toBytes(routing_key),
                  amqp_empty_table);
  checkReply(amqp_get_rpc_reply(state_), "queue.bind",
             "queue '" + queue + "' to exchange '" + exchange + "'");
}

void AmqpConnection::deleteQueue(const std::string& name) {
  requireOpen();
  amqp_queue_delete(state_, kChannel, toBytes(name), /*if_unused=*/0, /*if_empty=*/0);
  checkReply(amqp_get_rpc_reply(state_), "queue.delete", "queue '" + name + "'");
}

void AmqpConnection::deleteExchange(const std::string& name) {
  requireOpen();
  amqp_exchange_delete(state_, kChannel, toBytes(name), /*if_unused=*/0);
  checkReply(amqp_get_rpc_reply(state_), "exchange.delete", "exchange '" + name + "'");
}

void AmqpConnection::enableConfirms() {
  requireOpen();
  amqp_confirm_select(state_, kChannel);
  checkReply(amqp_get_rpc_reply(state_), "confirm.select", "channel 1");
  next_sequence_ = 1;
}

std::uint64_t AmqpConnection::publish(const OutgoingMessage& message) {
  requireOpen();

  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  properties.timestamp = static_cast<std::uint64_t>(
      message.timestamp_s != 0 ? message.timestamp_s
                               : std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  if (!message.content_type.empty()) {
    properties._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    properties.content_type = toBytes(message.content_type);
  }
  if (!message.message_id.empty()) {
    properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    properties.message_id = toBytes(message.message_id);
  }
  EncodedTable headers(message.headers);
  if (!message.headers.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = headers.table();
  }

  int status = amqp_basic_publish(state_, kChannel, toBytes(message.exchange),
                                  toBytes(message.routing_key), message.mandatory ? 1 : 0,
                                  /*immediate=*/0, &properties, toBytes(message.body));
  if (status != AMQP_STATUS_OK) {
    if (isEncodingError(status)) {
      throw QueueError("cannot encode message '" + message.message_id + "' for exchange '" +
                       message.exchange + "': " + statusText(status));
    }
    failWithStatus(status, "basic.publish");
  }
  return next_sequence_ == 0 ? 0 : next_sequence_++;
}

void AmqpConnection::setPrefetch(std::uint16_t prefetch_count) {
  requireOpen();
  amqp_basic_qos(state_, kChannel, /*prefetch_size=*/0, prefetch_count, /*global=*/0);
  checkReply(amqp_get_rpc_reply(state_), "basic.qos", "prefetch " + std::to_string(prefetch_count));
}

std::string AmqpConnection::consume(const std::string& queue) {
  requireOpen();
  amqp_basic_consume_ok_t* ok =
      amqp_basic_consume(state_, kChannel, toBytes(queue), amqp_empty_bytes, /*no_local=*/0,
                         /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
  checkReply(amqp_get_rpc_reply(state_), "basic.consume", "queue '" + queue + "'");
  return toString(ok->consumer_tag);
}

void AmqpConnection::cancelConsumer(const std::string& consumer_tag) {
  requireOpen();
  amqp_basic_cancel(state_, kChannel, toBytes(consumer_tag));
  checkReply(amqp_get_rpc_reply(state_), "basic.cancel", "consumer '" + consumer_tag + "'");
}

void AmqpConnection::ack(std::uint64_t delivery_tag, bool multiple) {
  requireOpen();
  int status = amqp_basic_ack(state_, kChannel, delivery_tag, multiple ? 1 : 0);
  if (status != AMQP_STATUS_OK) {
    failWithStatus(status, "basic.ack");
  }
}

void AmqpConnection::nack(std::uint64_t delivery_tag, bool multiple, bool requeue) {
  requireOpen();
  int status = amqp_basic_nack(state_, kChannel, delivery_tag, multiple ? 1 : 0, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) {
    failWithStatus(status, "basic.nack");
  }
}

std::optional<BrokerEvent> AmqpConnection::nextEvent(std::chrono::milliseconds timeout) {
  requireOpen();
  auto deadline = std::chrono::steady_clock::now() + timeout;

  while (true) {
    // Frees the memory of frames already copied out. It does nothing while
    // the library still keeps queued frames.
    amqp_maybe_release_buffers(state_);

    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    timeval wait = toTimeval(std::max(remaining, std::chrono::milliseconds(0)));
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(state_, &frame, &wait);
    if (status == AMQP_STATUS_TIMEOUT) {
      return std::nullopt;
    }
    if (status != AMQP_STATUS_OK) {
      failWithStatus(status, "waiting for broker frames");
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) {
      continue;
    }

    const void* decoded = frame.payload.method.decoded;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_DELIVER_METHOD:
        return readDelivery(decoded);

      case AMQP_BASIC_ACK_METHOD: {
        const auto* ack = static_cast<const amqp_basic_ack_t*>(decoded);
        return PublishConfirm{ack->delivery_tag, ack->multiple != 0, true};
      }

      case AMQP_BASIC_NACK_METHOD: {
        const auto* nack = static_cast<const amqp_basic_nack_t*>(decoded);
        return PublishConfirm{nack->delivery_tag, nack->multiple != 0, false};
      }

      case AMQP_BASIC_RETURN_METHOD:
        return readReturn(decoded);

      case AMQP_BASIC_CANCEL_METHOD: {
        const auto* cancel = static_cast<const amqp_basic_cancel_t*>(decoded);
        return ConsumerCancelled{toString(cancel->consumer_tag)};
      }

      case AMQP_CONNECTION_BLOCKED_METHOD:
        blocked_ = true;
        blocked_reason_ = toString(static_cast<const amqp_connection_blocked_t*>(decoded)->reason);
        continue;

      case AMQP_CONNECTION_UNBLOCKED_METHOD:
        blocked_ = false;
        blocked_reason_.clear();
        continue;

      case AMQP_CONNECTION_CLOSE_METHOD:
      case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_rpc_reply_t reply{};
        reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
        reply.reply = frame.payload.method;
        checkReply(reply, "consuming", "channel 1");
        continue;  // not reached: checkReply throws for both methods
      }

      default:
        continue;
    }
  }
}

Delivery AmqpConnection::readDelivery(const void* deliver_method) {
  const auto* deliver = static_cast<const amqp_basic_deliver_t*>(deliver_method);
  Delivery delivery;
  delivery.delivery_tag = deliver->delivery_tag;
  delivery.redelivered = deliver->redelivered != 0;
  delivery.exchange = toString(deliver->exchange);
  delivery.routing_key = toString(deliver->routing_key);

  amqp_message_t message;
  amqp_rpc_reply_t reply = amqp_read_message(state_, kChannel, &message, 0);
  checkReply(reply, "reading the content", "delivery " + std::to_string(delivery.delivery_tag));

  delivery.body = toString(message.body);
  const amqp_basic_properties_t& properties = message.properties;
  if (properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
    delivery.message_id = toString(properties.message_id);
  }
  if (properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) {
    delivery.content_type = toString(properties.content_type);
  }
  if (properties._flags & AMQP_BASIC_TIMESTAMP_FLAG) {
    delivery.timestamp_s = static_cast<std::int64_t>(properties.timestamp);
  }
  if (properties._flags & AMQP_BASIC_HEADERS_FLAG) {
    delivery.headers = decodeTable(properties.headers);
  }
  amqp_destroy_message(&message);
  return delivery;
}

ReturnedMessage AmqpConnection::readReturn(const void* return_method) {
  const auto* returned = static_cast<const amqp_basic_return_t*>(return_method);
  ReturnedMessage result;
  result.reply_code = returned->reply_code;
  result.reply_text = toString(returned->reply_text);

  amqp_message_t message;
  amqp_rpc_reply_t reply = amqp_read_message(state_, kChannel, &message, 0);
  checkReply(reply, "reading the content", "a returned message");
  if (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
    result.message_id = toString(message.properties.message_id);
  }
  amqp_destroy_message(&message);
  return result;
}

}  // namespace txguard
