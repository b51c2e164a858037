// AWS Signature Version 4 for S3, as pure functions: no clock, no network,
// so every step can be checked against AWS's published examples.
//
// This is the S3 variant of SigV4: the path is URI-encoded once and is not
// normalized ("/a/../b" is signed as written). Other AWS services encode the
// path twice; this signer does not implement that.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txguard::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string, the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// S3 rejects presigned URLs that live longer than 7 days.
inline constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};

// Name and value pairs; repeated names are allowed.
using Parameters = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Empty for long-term keys; sent as X-Amz-Security-Token otherwise.
  std::string session_token;
};

// Region, service and time that a signature is bound to.
struct SigningScope {
  std::string region;     // e.g. "us-east-1"
  std::string service;    // "s3"
  std::string timestamp;  // UTC in ISO 8601 basic format: "20130524T000000Z"
};

// One HTTP request as it is signed. Every header in `headers` is signed, so
// the caller adds host, x-amz-date and x-amz-content-sha256 itself.
struct RequestToSign {
  std::string method;        // "GET", "PUT", ...
  std::string path;          // not yet encoded, starting with '/': "/bucket/a b.txt"
  Parameters query;          // not yet encoded
  Parameters headers;        // any case; values are trimmed when signed
  std::string payload_hash;  // lowercase hex SHA-256 of the body, or kUnsignedPayload
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // complete Authorization header value
};

// Lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// Raw (binary) HMAC-SHA256 of `data` under `key`.
std::string hmacSha256(std::string_view key, std::string_view data);

std::string hexEncode(std::string_view bytes);

// Percent-encodes every byte except the unreserved characters A-Z a-z 0-9
// '-' '.' '_' '~', with uppercase hex digits. '/' is kept when
// `encode_slash` is false (paths) and encoded otherwise (query parts).
std::string uriEncode(std::string_view text, bool encode_slash = true);

// Encodes each '/'-separated segment of `path`, keeping the slashes. An empty
// path becomes "/".
std::string canonicalUri(std::string_view path);

// Encodes names and values and sorts by encoded name, then encoded value.
// A parameter without a value is written as "name=".
std::string canonicalQueryString(const Parameters& query);

// Formats a UTC time as "YYYYMMDDTHHMMSSZ".
std::string formatTimestamp(std::chrono::system_clock::time_point time);

// Derives the key that signs strings for one day, region and service.
// `date` is "YYYYMMDD".
std::string deriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service);

// Builds the canonical request, string to sign, signature and Authorization
// header. Throws ObjectStoreError when the timestamp is malformed.
Signature signRequest(const RequestToSign& request, const Credentials& credentials,
                      const SigningScope& scope);

// Returns the query string of a presigned URL (without the leading '?'):
// `request.query` plus the X-Amz-* parameters and X-Amz-Signature. The
// payload is UNSIGNED-PAYLOAD and `request.headers` must contain host.
// Throws ObjectStoreError unless 1 s <= expiry <= 7 days.
std::string presignQuery(RequestToSign request, const Credentials& credentials,
                         const SigningScope& scope, std::chrono::seconds expiry);

}  // namespace txguard::sigv4
