#include "store/s3_store.h"

#include <charconv>
#include <random>
#include <thread>

#include "store/s3_http.h"
#include "store/s3_xml.h"

namespace txguard {
namespace {

constexpr std::uint64_t kMinPartSize = 5ULL << 20;
constexpr std::uint64_t kMaxPartSize = 5ULL << 30;
constexpr std::uint64_t kMaxParts = 10000;

std::string describeResponse(const s3http::Response& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  s3xml::ErrorBody error = s3xml::parseError(response.body);
  if (!error.code.empty()) {
    text += " " + error.code;
  }
  if (!error.message.empty()) {
    text += ": " + error.message;
  }
  return text;
}

bool isRetryableStatus(long status) { return status >= 500 || status == 429; }

}  // namespace

struct S3Store::Call {
  std::string operation;  // S3 API name, for messages and retry events
  std::string key;        // empty for bucket-level calls
  std::string method;
  std::string path;  // not yet encoded
  sigv4::Parameters query;
  sigv4::Parameters unsigned_headers;  // sent but not signed, e.g. Content-Type
  std::string_view body;
  // CompleteMultipartUpload can fail after S3 has sent "200 OK", in which
  // case the error is in the body.
  bool error_may_follow_ok = false;
};

struct S3Store::HttpResult {
  s3http::Response response;
  int attempts = 0;
  std::string transport_error;  // set when no HTTP response arrived
};

S3Store::Endpoint S3Store::parseEndpoint(const std::string& url, const char* option_name) {
  auto reject = [&](const std::string& reason) {
    throw ObjectStoreError(std::string("invalid S3 ") + option_name + " '" + url + "': " + reason +
                           "; expected http://host:port or https://host");
  };

  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    reject("no scheme");
  }
  Endpoint endpoint;
  endpoint.scheme = url.substr(0, scheme_end);
  if (endpoint.scheme != "http" && endpoint.scheme != "https") {
    reject("the scheme must be http or https");
  }

  std::string rest = url.substr(scheme_end + 3);
  std::size_t slash = rest.find('/');
  endpoint.authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    endpoint.base_path = rest.substr(slash);
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') {
      endpoint.base_path.pop_back();
    }
  }

  if (endpoint.authority.empty()) {
    reject("no host");
  }
  if (endpoint.authority.find_first_of("?#@") != std::string::npos) {
    reject("query, fragment and user info are not allowed");
  }

  // libcurl leaves a default port out of the Host header, and the signed
  // host must match that header byte for byte.
  const std::string default_port = endpoint.scheme == "http" ? ":80" : ":443";
  if (endpoint.authority.size() > default_port.size() &&
      endpoint.authority.compare(endpoint.authority.size() - default_port.size(),
                                 default_port.size(), default_port) == 0) {
    endpoint.authority.resize(endpoint.authority.size() - default_port.size());
  }
  return endpoint;
}

S3Store::S3Store(S3StoreOptions options) : options_(std::move(options)) {
  endpoint_ = parseEndpoint(options_.endpoint, "endpoint");
  public_endpoint_ = options_.public_endpoint.empty()
                         ? endpoint_
                         : parseEndpoint(options_.public_endpoint, "public endpoint");

  const std::string& bucket = options_.bucket;
  if (bucket.size() < 3 || bucket.size() > 63 ||
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    throw ObjectStoreError("invalid S3 bucket name '" + bucket +
                           "': use 3 to 63 lowercase letters, digits, '.' and '-'");
  }
  if (options_.credentials.access_key_id.empty() ||
      options_.credentials.secret_access_key.empty()) {
    throw ObjectStoreError("missing S3 credentials for bucket '" + bucket +
                           "': set TXGUARD_S3_ACCESS_KEY_ID and TXGUARD_S3_SECRET_ACCESS_KEY");
  }
  if (options_.region.empty()) {
    throw ObjectStoreError("missing S3 region for bucket '" + bucket +
                           "': set TXGUARD_S3_REGION (us-east-1 for MinIO and s3rver)");
  }
  if (options_.part_size_bytes < kMinPartSize || options_.part_size_bytes > kMaxPartSize) {
    throw ObjectStoreError("invalid S3 multipart part size " +
                           std::to_string(options_.part_size_bytes) +
                           " bytes: S3 accepts 5 MiB (5242880) to 5 GiB");
  }
  if (options_.list_page_size < 1 || options_.list_page_size > 1000) {
    throw ObjectStoreError("invalid S3 list page size " + std::to_string(options_.list_page_size) +
                           ": use 1 to 1000");
  }
  if (options_.retry.max_attempts < 1) {
    throw ObjectStoreError("invalid S3 retry max_attempts " +
                           std::to_string(options_.retry.max_attempts) + ": use 1 or more");
  }
  pool_ = std::make_unique<s3http::HandlePool>(options_.idle_connections);
}

S3Store::~S3Store() = default;

std::string S3Store::objectPath(const std::string& key) const {
  if (key.empty()) {
    throw ObjectStoreError("invalid S3 object key for bucket '" + options_.bucket +
                           "': the key is empty");
  }
  return endpoint_.base_path + "/" + options_.bucket + "/" + key;
}

S3Store::HttpResult S3Store::execute(const Call& call) {
  // One generator per thread: no lock, and threads do not share a sequence.
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::string payload_hash = sigv4::sha256Hex(call.body);
  const std::string query = sigv4::canonicalQueryString(call.query);
  const std::string url = endpoint_.scheme + "://" + endpoint_.authority +
                          sigv4::canonicalUri(call.path) + (query.empty() ? "" : "?" + query);
  const int max_attempts = options_.retry.max_attempts;

  HttpResult result;
  for (int attempt = 1;; ++attempt) {
    result = HttpResult{};
    result.attempts = attempt;

    // Each attempt is signed anew: S3 rejects a signature older than 15 min,
    // and backoff plus timeouts can add up to that.
    const std::string timestamp = sigv4::formatTimestamp(std::chrono::system_clock::now());
    sigv4::RequestToSign to_sign{call.method, call.path, call.query, {}, payload_hash};
    to_sign.headers = {{"host", endpoint_.authority},
                       {"x-amz-content-sha256", payload_hash},
                       {"x-amz-date", timestamp}};
    if (!options_.credentials.session_token.empty()) {
      to_sign.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
    }
    sigv4::SigningScope scope{options_.region, "s3", timestamp};
    sigv4::Signature signature = sigv4::signRequest(to_sign, options_.credentials, scope);

    s3http::Request request{call.method, url, to_sign.headers, call.body};
    request.headers.emplace_back("Authorization", signature.authorization);
    for (const auto& header : call.unsigned_headers) {
      request.headers.push_back(header);
    }

    std::string reason;
    try {
      result.response =
          pool_->perform(request, {options_.connect_timeout, options_.request_timeout});
      bool failed_in_body = call.error_may_follow_ok && result.response.status == 200 &&
                            s3xml::hasRoot(result.response.body, "Error");
      if (!isRetryableStatus(result.response.status) && !failed_in_body) {
        return result;
      }
      reason = describeResponse(result.response);
    } catch (const s3http::TransportError& error) {
      result.transport_error = error.what();
      if (!error.retryable()) {
        fail(call, result);
      }
      reason = error.what();
    }

    if (attempt >= max_attempts) {
      fail(call, result);
    }
    std::chrono::milliseconds delay = backoffDelay(options_.retry, attempt, random);
    if (options_.on_retry) {
      options_.on_retry(S3RetryEvent{call.operation, options_.bucket, call.key, attempt,
                                     max_attempts, delay, reason});
    }
    std::this_thread::sleep_for(delay);
  }
}

void S3Store::fail(const Call& call, const HttpResult& result) const {
  std::string target = "s3://" + options_.bucket + (call.key.empty() ? "" : "/" + call.key);
  std::string message = "S3 " + call.operation + " " + target + " failed after " +
                        std::to_string(result.attempts) +
                        (result.attempts == 1 ? " attempt: " : " attempts: ");
  if (!result.transport_error.empty()) {
    message += result.transport_error + "; check that the S3 endpoint " + options_.endpoint +
               " is reachable";
  } else {
    message += describeResponse(result.response);
  }
  throw ObjectStoreError(message);
}

void S3Store::put(const std::string& key, std::string_view body, const std::string& content_type) {
  if (body.size() > options_.part_size_bytes) {
    putMultipart(key, body, content_type);
  } else {
    putSingle(key, body, content_type);
  }
}

void S3Store::putSingle(const std::string& key, std::string_view body,
                        const std::string& content_type) {
  Call call{"PutObject", key, "PUT", objectPath(key), {}, {}, body};
  if (!content_type.empty()) {
    call.unsigned_headers.emplace_back("Content-Type", content_type);
  }
  HttpResult result = execute(call);
  if (result.response.status != 200) {
    fail(call, result);
  }
}

void S3Store::putMultipart(const std::string& key, std::string_view body,
                           const std::string& content_type) {
  const std::uint64_t part_size = options_.part_size_bytes;
  const std::uint64_t part_count = (body.size() + part_size - 1) / part_size;
  if (part_count > kMaxParts) {
    throw ObjectStoreError("S3 PutObject s3://" + options_.bucket + "/" + key + ": " +
                           std::to_string(body.size()) + " bytes need " +
                           std::to_string(part_count) +
                           " parts, above S3's limit of 10000; raise part_size_bytes");
  }

  Call create{"CreateMultipartUpload", key, "POST", objectPath(key), {{"uploads", ""}}, {}, {}};
  if (!content_type.empty()) {
    create.unsigned_headers.emplace_back("Content-Type", content_type);
  }
  HttpResult created = execute(create);
  std::optional<std::string> upload_id;
  if (created.response.status == 200) {
    upload_id = s3xml::elementText(created.response.body, "UploadId");
  }
  if (!upload_id || upload_id->empty()) {
    fail(create, created);
  }

  try {
    std::string complete_body = "<CompleteMultipartUpload>";
    for (std::uint64_t index = 0; index < part_count; ++index) {
      const std::string part_number = std::to_string(index + 1);
      std::string_view part = body.substr(index * part_size, part_size);
      Call upload{"UploadPart",
                  key,
                  "PUT",
                  objectPath(key),
                  {{"partNumber", part_number}, {"uploadId", *upload_id}},
                  {},
                  part};
      HttpResult uploaded = execute(upload);
      auto etag = uploaded.response.headers.find("etag");
      if (uploaded.response.status != 200 || etag == uploaded.response.headers.end()) {
        fail(upload, uploaded);
      }
      complete_body += "<Part><PartNumber>" + part_number + "</PartNumber><ETag>" +
                       s3xml::escape(etag->second) + "</ETag></Part>";
    }
    complete_body += "</CompleteMultipartUpload>";

    Call complete{"CompleteMultipartUpload",
                  key,
                  "POST",
                  objectPath(key),
                  {{"uploadId", *upload_id}},
                  {{"Content-Type", "application/xml"}},
                  complete_body};
    complete.error_may_follow_ok = true;
    HttpResult completed = execute(complete);
    if (completed.response.status != 200 || s3xml::hasRoot(completed.response.body, "Error")) {
      fail(complete, completed);
    }
  } catch (const ObjectStoreError&) {
    abortMultipart(key, *upload_id);
    throw;
  }
}

void S3Store::abortMultipart(const std::string& key, const std::string& upload_id) noexcept {
  // Best effort: the caller is already handling the original failure, and a
  // bucket lifecycle rule can clean up uploads left behind.
  try {
    Call abort{"AbortMultipartUpload",    key, "DELETE", objectPath(key),
               {{"uploadId", upload_id}}, {},  {}};
    execute(abort);
  } catch (const ObjectStoreError&) {
  }
}

std::optional<std::string> S3Store::get(const std::string& key) {
  Call call{"GetObject", key, "GET", objectPath(key), {}, {}, {}};
  HttpResult result = execute(call);
  if (result.response.status == 200) {
    return std::move(result.response.body);
  }
  if (result.response.status == 404 &&
      s3xml::parseError(result.response.body).code != "NoSuchBucket") {
    return std::nullopt;
  }
  fail(call, result);
}

std::optional<ObjectInfo> S3Store::head(const std::string& key) {
  Call call{"HeadObject", key, "HEAD", objectPath(key), {}, {}, {}};
  HttpResult result = execute(call);
  if (result.response.status == 404) {
    // NOTE: HEAD responses have no body, so a missing bucket also reads as a
    // missing object here; get() and list() do tell the two apart.
    return std::nullopt;
  }
  if (result.response.status != 200) {
    fail(call, result);
  }
  ObjectInfo info{key, 0};
  auto length = result.response.headers.find("content-length");
  if (length != result.response.headers.end()) {
    const std::string& text = length->second;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), info.size_bytes);
    if (error != std::errc() || end != text.data() + text.size()) {
      throw ObjectStoreError("S3 HeadObject s3://" + options_.bucket + "/" + key +
                             ": invalid Content-Length '" + text + "'");
    }
  }
  return info;
}

bool S3Store::exists(const std::string& key) { return head(key).has_value(); }

void S3Store::remove(const std::string& key) {
  Call call{"DeleteObject", key, "DELETE", objectPath(key), {}, {}, {}};
  HttpResult result = execute(call);
  if (result.response.status != 204 && result.response.status != 200 &&
      result.response.status != 404) {
    fail(call, result);
  }
}

void S3Store::createBucket() {
  Call call{"CreateBucket", "", "PUT", endpoint_.base_path + "/" + options_.bucket, {}, {}, {}};
  // Outside us-east-1, AWS requires the region in the body.
  std::string configuration;
  if (options_.region != "us-east-1") {
    configuration = "<CreateBucketConfiguration><LocationConstraint>" +
                    s3xml::escape(options_.region) +
                    "</LocationConstraint></CreateBucketConfiguration>";
    call.body = configuration;
    call.unsigned_headers.emplace_back("Content-Type", "application/xml");
  }
  HttpResult result = execute(call);
  // NOTE: 409 also covers AWS's BucketAlreadyExists, meaning another account
  // owns the name, and later calls then fail with 403 AccessDenied. s3rver
  // returns BucketAlreadyExists for its own buckets too, so both count here.
  if (result.response.status != 200 && result.response.status != 409) {
    fail(call, result);
  }
}

std::vector<ObjectInfo> S3Store::list(const std::string& prefix) {
  std::vector<ObjectInfo> objects;
  std::string token;
  while (true) {
    Call call{"ListObjectsV2",
              prefix,
              "GET",
              endpoint_.base_path + "/" + options_.bucket,
              {{"list-type", "2"}, {"max-keys", std::to_string(options_.list_page_size)}},
              {},
              {}};
    if (!prefix.empty()) {
      call.query.emplace_back("prefix", prefix);
    }
    if (!token.empty()) {
      call.query.emplace_back("continuation-token", token);
    }

    HttpResult result = execute(call);
    if (result.response.status != 200) {
      fail(call, result);
    }
    s3xml::ListPage page = s3xml::parseListObjectsV2(result.response.body);
    for (ObjectInfo& object : page.objects) {
      objects.push_back(std::move(object));
    }
    if (!page.truncated) {
      return objects;
    }
    if (page.next_continuation_token.empty() || page.next_continuation_token == token) {
      throw ObjectStoreError("S3 ListObjectsV2 s3://" + options_.bucket + "/" + prefix +
                             ": the server marked the page truncated but sent no new "
                             "NextContinuationToken; the listing would not end");
    }
    token = std::move(page.next_continuation_token);
  }
}

std::string S3Store::downloadLink(const std::string& key, std::chrono::seconds expiry) {
  const std::string path = public_endpoint_.base_path + "/" + options_.bucket + "/" + key;
  if (key.empty()) {
    throw ObjectStoreError("invalid S3 object key for a download link: the key is empty");
  }
  sigv4::RequestToSign request{"GET", path, {}, {{"host", public_endpoint_.authority}}, ""};
  sigv4::SigningScope scope{options_.region, "s3",
                            sigv4::formatTimestamp(std::chrono::system_clock::now())};
  std::string query = sigv4::presignQuery(request, options_.credentials, scope, expiry);
  return public_endpoint_.scheme + "://" + public_endpoint_.authority + sigv4::canonicalUri(path) +
         "?" + query;
}

}  // namespace txguard
