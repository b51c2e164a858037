// ObjectStore on S3-compatible storage (AWS S3, MinIO, s3rver) over libcurl,
// with path-style URLs: <endpoint>/<bucket>/<key>.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/object_store.h"
#include "store/retry_policy.h"
#include "store/sigv4.h"

namespace txguard {

namespace s3http {
class HandlePool;
}

// One failed attempt that S3Store is about to retry.
struct S3RetryEvent {
  std::string operation;  // "PutObject", "GetObject", ...
  std::string bucket;
  std::string key;         // empty for bucket-level calls
  int failed_attempt = 0;  // 1 for the first attempt
  int max_attempts = 0;
  std::chrono::milliseconds delay{};  // wait before the next attempt
  std::string reason;                 // "HTTP 503 SlowDown: ..." or the curl error
};

struct S3StoreOptions {
  std::string endpoint = "http://127.0.0.1:9000";  // scheme://host[:port][/base path]
  // Endpoint written into presigned links; empty means `endpoint`. Set it when
  // people reach the storage through another address than the service does.
  std::string public_endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  sigv4::Credentials credentials;

  std::chrono::milliseconds connect_timeout{2000};
  // Limit on one whole HTTP exchange, per attempt; size it for the largest
  // part or object at the slowest expected bandwidth.
  std::chrono::milliseconds request_timeout{60000};
  RetryPolicy retry;
  // Called from the calling thread before each retry sleep, for logs and
  // metrics. It must not throw.
  std::function<void(const S3RetryEvent&)> on_retry;

  // Bodies larger than this are sent as a multipart upload in parts of this
  // size (the last part may be smaller). S3 requires 5 MiB to 5 GiB.
  std::uint64_t part_size_bytes = 8ULL << 20;
  // Keys per ListObjectsV2 page, 1 to 1000.
  int list_page_size = 1000;
  // Idle connections kept for reuse. Requests in flight beyond this number
  // open a new connection each time.
  std::size_t idle_connections = 8;
};

// Thread safety: all methods may be called concurrently. Requests share a
// pool of curl easy handles (one handle per in-flight request, at most 8
// kept idle), so connections are reused between calls.
//
// Retries: connection errors, timeouts, HTTP 5xx and 429 are retried with
// backoff up to retry.max_attempts in total; other 4xx responses fail at once.
// Every failure is an ObjectStoreError that names the operation, bucket, key,
// HTTP status, S3 error code and message, and the number of attempts.
class S3Store final : public ObjectStore {
 public:
  // Throws ObjectStoreError when the endpoint, bucket, credentials, part size
  // or page size is invalid. Makes no request.
  explicit S3Store(S3StoreOptions options);
  ~S3Store() override;
  S3Store(const S3Store&) = delete;
  S3Store& operator=(const S3Store&) = delete;

  // Uses a single PUT up to part_size_bytes and a multipart upload above it;
  // a failed multipart upload is aborted so its parts are not billed.
  void put(const std::string& key, std::string_view body, const std::string& content_type) override;
  // Returns nullopt on 404 NoSuchKey; a missing bucket is an error.
  std::optional<std::string> get(const std::string& key) override;
  bool exists(const std::string& key) override;
  // Follows continuation tokens until the listing is complete.
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  // Presigned GET on public_endpoint; expiry from 1 s to 7 days, otherwise
  // ObjectStoreError. Makes no request.
  std::string downloadLink(const std::string& key, std::chrono::seconds expiry) override;

  // HeadObject: the object's size, or nullopt when it does not exist.
  std::optional<ObjectInfo> head(const std::string& key);
  // DeleteObject; succeeds when the key does not exist, as S3 does.
  void remove(const std::string& key);
  // CreateBucket. Succeeds when the bucket already exists (HTTP 409).
  void createBucket();

  const S3StoreOptions& options() const { return options_; }

 private:
  struct Endpoint {
    std::string scheme;     // "http" or "https"
    std::string authority;  // host[:port], default port dropped, as in the Host header
    std::string base_path;  // "" or "/prefix" without a trailing slash
  };
  struct Call;

  static Endpoint parseEndpoint(const std::string& url, const char* option_name);
  std::string objectPath(const std::string& key) const;

  // Signs and sends one request with retries. Returns the first response
  // that is not retryable, or throws ObjectStoreError when attempts run out.
  struct HttpResult;
  HttpResult execute(const Call& call);
  [[noreturn]] void fail(const Call& call, const HttpResult& result) const;

  void putSingle(const std::string& key, std::string_view body, const std::string& content_type);
  void putMultipart(const std::string& key, std::string_view body, const std::string& content_type);
  void abortMultipart(const std::string& key, const std::string& upload_id) noexcept;

  S3StoreOptions options_;
  Endpoint endpoint_;
  Endpoint public_endpoint_;
  std::unique_ptr<s3http::HandlePool> pool_;
};

}  // namespace txguard
