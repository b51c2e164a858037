// The HTTP transport under S3Store: libcurl easy handles, pooled.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txguard::s3http {

struct Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // must outlive perform()
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
};

struct Timeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds total{30000};
};

// A request that got no HTTP response: refused connection, DNS failure,
// timeout, reset. `retryable` is false for errors that repeat on every
// attempt, such as a malformed URL.
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, bool retryable)
      : std::runtime_error(message), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// Keeps idle curl easy handles so connections are reused across requests.
// Any thread may acquire a handle; a handle is used by one thread at a time.
class HandlePool {
 public:
  explicit HandlePool(std::size_t max_idle = 8);
  ~HandlePool();
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // Sends `request` on a pooled handle. Throws TransportError when no HTTP
  // response arrives; any HTTP status, including 5xx, is returned.
  Response perform(const Request& request, const Timeouts& timeouts);

 private:
  void* acquire();
  void release(void* handle);

  std::mutex mutex_;
  std::vector<void*> idle_;
  std::size_t max_idle_;
};

}  // namespace txguard::s3http
