// Where fraud reports, audit archives and models are kept. The scoring core
// and the CLI see only this interface; backends are a local folder and
// S3-compatible storage (MinIO, AWS S3).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace txguard {

// Raised when the backend fails after its own retries; the message names the
// key and the backend's error.
class ObjectStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size_bytes = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `body` under `key` (a '/'-separated path such as
  // "reports/2024/03/01/tx-1.txt"), replacing any earlier object.
  virtual void put(const std::string& key, std::string_view body,
                   const std::string& content_type) = 0;

  // Returns the object's bytes, or nullopt when no object has that key.
  virtual std::optional<std::string> get(const std::string& key) = 0;

  virtual bool exists(const std::string& key) = 0;

  // Lists objects whose key starts with `prefix`, in key order.
  virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;

  // Returns a link a person can open to download the object: a presigned
  // URL valid for `expiry` on S3, a file:// URL for the local folder.
  virtual std::string downloadLink(const std::string& key, std::chrono::seconds expiry) = 0;
};

}  // namespace txguard
