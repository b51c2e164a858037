#include "common/pan.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>

namespace txguard {
namespace {

constexpr std::size_t kAccountKeyHexDigits = 32;
constexpr std::string_view kAccountKeyPrefix = "card:";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string openSslError(std::string_view function) {
  std::string message = "HMAC-SHA256 failed in OpenSSL (";
  message += function;
  message += "): ";
  const unsigned long code = ERR_get_error();
  if (code == 0) {
    message += "no error detail";
  } else {
    std::array<char, 256> detail{};
    ERR_error_string_n(code, detail.data(), detail.size());
    message += detail.data();
  }
  message += "; check that the OpenSSL default provider is available";
  return message;
}

void appendHex(const unsigned char* bytes, std::size_t hex_digits, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < hex_digits; ++i) {
    const unsigned char byte = bytes[i / 2];
    out.push_back(kHex[(i % 2 == 0) ? (byte >> 4) : (byte & 0x0f)]);
  }
}

}  // namespace

bool passesLuhn(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool doubled = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!isDigit(*it)) return false;
    int digit = *it - '0';
    if (doubled) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

void maskPan(std::string_view pan, std::string& out) {
  const std::size_t shown_last = pan.size() >= 4 ? 4 : 0;
  const std::size_t shown_first = pan.size() >= 13 ? 6 : 0;
  out.assign(pan.size(), '*');
  for (std::size_t i = 0; i < pan.size(); ++i) {
    const bool shown = i < shown_first || i + shown_last >= pan.size();
    if (shown && isDigit(pan[i])) out[i] = pan[i];
  }
}

std::string maskPan(std::string_view pan) {
  std::string masked;
  maskPan(pan, masked);
  return masked;
}

struct PanHasher::Context {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~Context() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

PanHasher::PanHasher(std::string_view key) : context_(std::make_unique<Context>()) {
  context_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (context_->mac == nullptr) throw PanError(openSslError("EVP_MAC_fetch"));
  context_->ctx = EVP_MAC_CTX_new(context_->mac);
  if (context_->ctx == nullptr) throw PanError(openSslError("EVP_MAC_CTX_new"));

  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // An empty key is valid HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const auto* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(context_->ctx, key_bytes, key.size(), params) != 1) {
    throw PanError(openSslError("EVP_MAC_init"));
  }
}

PanHasher::~PanHasher() = default;

void PanHasher::accountKey(std::string_view pan, std::string& out) {
  if (auto found = cache_.find(pan); found != cache_.end()) {
    out.assign(found->second);
    return;
  }

  // A null key re-initialises with the key given to the constructor.
  if (EVP_MAC_init(context_->ctx, nullptr, 0, nullptr) != 1) {
    throw PanError(openSslError("EVP_MAC_init"));
  }
  if (EVP_MAC_update(context_->ctx, reinterpret_cast<const unsigned char*>(pan.data()),
                     pan.size()) != 1) {
    throw PanError(openSslError("EVP_MAC_update"));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  std::size_t digest_size = 0;
  if (EVP_MAC_final(context_->ctx, digest.data(), &digest_size, digest.size()) != 1 ||
      digest_size * 2 < kAccountKeyHexDigits) {
    throw PanError(openSslError("EVP_MAC_final"));
  }

  out.assign(kAccountKeyPrefix);
  appendHex(digest.data(), kAccountKeyHexDigits, out);
  if (cache_.size() >= kMaxCachedPans) cache_.clear();
  cache_.emplace(std::string(pan), out);
}

std::string accountKeyForPan(std::string_view pan, std::string_view key) {
  PanHasher hasher(key);
  std::string out;
  hasher.accountKey(pan, out);
  return out;
}

std::string maskPansInText(std::string_view text, std::size_t min_digits) {
  std::string result;
  result.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!isDigit(text[i])) {
      result.push_back(text[i]);
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && isDigit(text[end])) ++end;
    const std::string_view run = text.substr(i, end - i);
    if (run.size() >= min_digits && run.size() <= kMaxPanDigits && passesLuhn(run)) {
      result += maskPan(run);
    } else {
      result += run;
    }
    i = end;
  }
  return result;
}

}  // namespace txguard
