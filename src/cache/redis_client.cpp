#include "cache/redis_client.h"

#include <openssl/sha.h>

#include <charconv>
#include <random>
#include <thread>

#include <fmt/format.h>

namespace txguard {
namespace {

timeval toTimeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<long>(duration.count() / 1000);
  value.tv_usec = static_cast<long>(duration.count() % 1000 * 1000);
  return value;
}

// Backoff before attempt n (1-based): 50 ms doubling to a 2 s cap, with
// full jitter so that many workers restarting together do not reconnect in
// lockstep.
std::chrono::milliseconds backoffDelay(int attempt) {
  static thread_local std::mt19937 random(std::random_device{}());
  const std::int64_t cap = std::min<std::int64_t>(2000, 50LL << std::min(attempt, 10));
  std::uniform_int_distribution<std::int64_t> distribution(cap / 2, cap);
  return std::chrono::milliseconds(distribution(random));
}

}  // namespace

RedisEndpoint parseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    throw RedisError(fmt::format("invalid Redis URL '{}'; expected redis://host:port/db", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint endpoint;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    if (rest.substr(0, at).find(':') != std::string_view::npos) {
      throw RedisError(
          "Redis URL contains a password; put it in TXGUARD_REDIS_PASSWORD or "
          "TXGUARD_REDIS_PASSWORD_FILE instead");
    }
    rest = rest.substr(at + 1);
  }
  std::string_view host_port = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    host_port = rest.substr(0, slash);
    const std::string_view database = rest.substr(slash + 1);
    if (!database.empty()) {
      const auto [end, error] =
          std::from_chars(database.data(), database.data() + database.size(), endpoint.database);
      if (error != std::errc() || end != database.data() + database.size() ||
          endpoint.database < 0) {
        throw RedisError(fmt::format("invalid database '{}' in Redis URL '{}'", database, url));
      }
    }
  }
  if (const auto colon = host_port.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = host_port.substr(colon + 1);
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (error != std::errc() || end != port.data() + port.size() || endpoint.port <= 0 ||
        endpoint.port > 65535) {
      throw RedisError(fmt::format("invalid port '{}' in Redis URL '{}'", port, url));
    }
    host_port = host_port.substr(0, colon);
  }
  if (host_port.empty()) throw RedisError(fmt::format("missing host in Redis URL '{}'", url));
  endpoint.host = std::string(host_port);
  return endpoint;
}

std::string scriptSha1(std::string_view script) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  std::string hex;
  for (unsigned char byte : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
}

RedisClient::RedisClient(RedisEndpoint endpoint, RedisRetryCallback on_retry)
    : endpoint_(std::move(endpoint)), on_retry_(std::move(on_retry)) {}

RedisClient::~RedisClient() { disconnect(); }

void RedisClient::disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

void RedisClient::connect() {
  disconnect();
  const timeval connect_timeout = toTimeval(endpoint_.connect_timeout);
  context_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, connect_timeout);
  if (context_ == nullptr || context_->err != 0) {
    const std::string error = context_ != nullptr ? context_->errstr : "out of memory";
    disconnect();
    throw RedisError(fmt::format("cannot connect to Redis at {}:{}: {}", endpoint_.host,
                                 endpoint_.port, error));
  }
  const timeval command_timeout = toTimeval(endpoint_.command_timeout);
  redisSetTimeout(context_, command_timeout);
  redisEnableKeepAlive(context_);

  std::vector<std::vector<std::string>> handshake;
  if (!endpoint_.password.empty()) handshake.push_back({"AUTH", endpoint_.password});
  if (endpoint_.database != 0) handshake.push_back({"SELECT", std::to_string(endpoint_.database)});
  for (auto& reply : pipelineOnce(handshake)) {
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string error(reply->str, reply->len);
      disconnect();
      // AUTH's error text never holds the password, so it is safe to show.
      throw RedisError(fmt::format("Redis at {}:{} rejected the connection set-up: {}",
                                   endpoint_.host, endpoint_.port, error));
    }
  }
}

std::vector<RedisReply> RedisClient::pipelineOnce(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& command : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& argument : command) {
      argv.push_back(argument.data());
      lengths.push_back(argument.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      throw RedisError(fmt::format("Redis command buffer failed: {}", context_->errstr));
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
      throw RedisError(fmt::format("Redis connection to {}:{} failed: {}", endpoint_.host,
                                   endpoint_.port, context_->errstr));
    }
    replies.emplace_back(static_cast<redisReply*>(reply));
  }
  return replies;
}

std::vector<RedisReply> RedisClient::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (int attempt = 1;; ++attempt) {
    try {
      if (context_ == nullptr) connect();
      auto replies = pipelineOnce(commands);
      // LOADING: Redis is restarting and replaying its AOF; the data is not
      // there yet, so wait and retry as for a lost connection.
      for (const auto& reply : replies) {
        if (reply->type == REDIS_REPLY_ERROR &&
            std::string_view(reply->str, reply->len).starts_with("LOADING")) {
          throw RedisError("Redis is loading its data set");
        }
      }
      return replies;
    } catch (const RedisError& error) {
      disconnect();
      if (attempt >= max_attempts_) {
        throw RedisError(fmt::format("{} (gave up after {} attempts)", error.what(), attempt));
      }
      if (on_retry_) on_retry_(error.what(), attempt);
      std::this_thread::sleep_for(backoffDelay(attempt));
    }
  }
}

RedisReply RedisClient::command(const std::vector<std::string>& arguments) {
  return std::move(pipeline({arguments}).front());
}

RedisReply RedisClient::evalScript(const std::string& script, const std::string& sha,
                                   const std::vector<std::string>& keys,
                                   const std::vector<std::string>& arguments) {
  std::vector<std::string> command = {"EVALSHA", sha, std::to_string(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), arguments.begin(), arguments.end());
  RedisReply reply = this->command(command);
  if (reply->type == REDIS_REPLY_ERROR &&
      std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script;
    reply = this->command(command);
  }
  return reply;
}

bool RedisClient::ping() {
  const int saved = max_attempts_;
  max_attempts_ = 1;
  bool alive = false;
  try {
    alive = command({"PING"})->type == REDIS_REPLY_STATUS;
  } catch (const RedisError&) {
    alive = false;
  }
  max_attempts_ = saved;
  return alive;
}

}  // namespace txguard
