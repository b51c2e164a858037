#include "store/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <string>

#include "store/object_store.h"

namespace txguard::sigv4 {
namespace {

bool isUnreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Strips leading and trailing blanks and folds each run of inner blanks into
// one space, as the canonical header format requires.
std::string trimHeaderValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

void validateTimestamp(const std::string& timestamp) {
  bool valid = timestamp.size() == 16 && timestamp[8] == 'T' && timestamp[15] == 'Z';
  for (std::size_t i = 0; valid && i < 15; ++i) {
    if (i != 8 && std::isdigit(static_cast<unsigned char>(timestamp[i])) == 0) {
      valid = false;
    }
  }
  if (!valid) {
    throw ObjectStoreError("invalid SigV4 timestamp '" + timestamp +
                           "': expected UTC in the form YYYYMMDDTHHMMSSZ");
  }
}

std::string credentialScope(const SigningScope& scope) {
  return scope.timestamp.substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" lines
  std::string signed_names;  // "a;b;c"
};

CanonicalHeaders canonicalizeHeaders(const Parameters& headers) {
  // Repeated header names are joined with commas in the order given.
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    std::string key = lowercase(trimHeaderValue(name));
    std::string trimmed = trimHeaderValue(value);
    auto [it, inserted] = merged.emplace(key, trimmed);
    if (!inserted) {
      it->second += "," + trimmed;
    }
  }

  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_names.empty()) {
      out.signed_names += ';';
    }
    out.signed_names += name;
  }
  return out;
}

}  // namespace

std::string hexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw ObjectStoreError("SHA-256 failed in OpenSSL EVP_Digest");
  }
  return hexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  if (result == nullptr) {
    throw ObjectStoreError("HMAC-SHA256 failed in OpenSSL HMAC");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string uriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (isUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string canonicalUri(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  return uriEncode(path, /*encode_slash=*/false);
}

std::string canonicalQueryString(const Parameters& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uriEncode(name), uriEncode(value));
  }
  std::sort(encoded.begin(), encoded.end());

  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out += '&';
    }
    out += name + "=" + value;
  }
  return out;
}

std::string formatTimestamp(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[20];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

std::string deriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string date_key = hmacSha256("AWS4" + std::string(secret_access_key), date);
  std::string region_key = hmacSha256(date_key, region);
  std::string service_key = hmacSha256(region_key, service);
  return hmacSha256(service_key, "aws4_request");
}

Signature signRequest(const RequestToSign& request, const Credentials& credentials,
                      const SigningScope& scope) {
  validateTimestamp(scope.timestamp);
  CanonicalHeaders headers = canonicalizeHeaders(request.headers);

  Signature out;
  out.signed_headers = headers.signed_names;
  out.canonical_request = request.method + "\n" + canonicalUri(request.path) + "\n" +
                          canonicalQueryString(request.query) + "\n" + headers.block + "\n" +
                          headers.signed_names + "\n" + request.payload_hash;

  std::string scope_text = credentialScope(scope);
  out.string_to_sign = std::string(kAlgorithm) + "\n" + scope.timestamp + "\n" + scope_text + "\n" +
                       sha256Hex(out.canonical_request);

  std::string signing_key = deriveSigningKey(
      credentials.secret_access_key, scope.timestamp.substr(0, 8), scope.region, scope.service);
  out.signature = hexEncode(hmacSha256(signing_key, out.string_to_sign));
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      scope_text + ",SignedHeaders=" + out.signed_headers +
                      ",Signature=" + out.signature;
  return out;
}

std::string presignQuery(RequestToSign request, const Credentials& credentials,
                         const SigningScope& scope, std::chrono::seconds expiry) {
  if (expiry < std::chrono::seconds(1) || expiry > kMaxPresignExpiry) {
    throw ObjectStoreError("invalid presigned URL expiry " + std::to_string(expiry.count()) +
                           " s: use 1 to " + std::to_string(kMaxPresignExpiry.count()) +
                           " s (7 days)");
  }
  validateTimestamp(scope.timestamp);

  // Signed headers must be known before signing, because the list is itself
  // a signed query parameter.
  CanonicalHeaders headers = canonicalizeHeaders(request.headers);
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + credentialScope(scope));
  request.query.emplace_back("X-Amz-Date", scope.timestamp);
  request.query.emplace_back("X-Amz-Expires", std::to_string(expiry.count()));
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.query.emplace_back("X-Amz-SignedHeaders", headers.signed_names);
  request.payload_hash = std::string(kUnsignedPayload);

  Signature signature = signRequest(request, credentials, scope);
  return canonicalQueryString(request.query) + "&X-Amz-Signature=" + signature.signature;
}

}  // namespace txguard::sigv4
