// A synchronous Redis connection (hiredis) with pipelining and reconnects.
// Not thread-safe: each thread that talks to Redis owns one.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace txguard {

// Raised when Redis cannot be reached after the retries, or replies with
// an error. The message names the command and never the password.
class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int database = 0;
  std::string password;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
};

// Parses redis://[user@]host[:port][/db]. A password in the URL is an
// error: it belongs in TXGUARD_REDIS_PASSWORD so it stays out of logs.
RedisEndpoint parseRedisUrl(std::string_view url);

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// Called before each reconnect attempt with the error and the attempt number.
using RedisRetryCallback = std::function<void(const std::string& error, int attempt)>;

class RedisClient {
 public:
  explicit RedisClient(RedisEndpoint endpoint, RedisRetryCallback on_retry = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends all commands in one write and reads all replies (one round trip).
  // On a connection error it reconnects with capped, jittered backoff and
  // sends the whole pipeline again, up to `max_attempts` times; only use it
  // for commands that are safe to repeat. Error replies are returned, not
  // raised: the caller decides per command.
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands);

  RedisReply command(const std::vector<std::string>& arguments);

  // Runs a Lua script by SHA, loading it on NOSCRIPT (after a Redis restart
  // the script cache is empty).
  RedisReply evalScript(const std::string& script, const std::string& sha,
                        const std::vector<std::string>& keys,
                        const std::vector<std::string>& arguments);

  bool ping();
  int maxAttempts() const { return max_attempts_; }
  void setMaxAttempts(int attempts) { max_attempts_ = attempts; }

 private:
  void connect();
  void disconnect();
  std::vector<RedisReply> pipelineOnce(const std::vector<std::vector<std::string>>& commands);

  RedisEndpoint endpoint_;
  RedisRetryCallback on_retry_;
  redisContext* context_ = nullptr;
  int max_attempts_ = 8;
};

// Hex SHA-1 of a script, as Redis names it for EVALSHA.
std::string scriptSha1(std::string_view script);

}  // namespace txguard
