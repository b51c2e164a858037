#include "model/sha256.h"

#include <openssl/evp.h>

#include <array>

#include "model/model_error.h"

namespace txguard {

struct Sha256::Context {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {

std::string toHex(const unsigned char* digest, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  context_->ctx = EVP_MD_CTX_new();
  if (context_->ctx == nullptr || EVP_DigestInit_ex(context_->ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(context_->ctx);
    throw ModelError("SHA-256: OpenSSL failed to initialise a digest context");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_->ctx); }

void Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(context_->ctx, data, size) != 1) {
    throw ModelError("SHA-256: OpenSSL EVP_DigestUpdate failed");
  }
}

std::string Sha256::finishHex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context_->ctx, digest.data(), &size) != 1) {
    throw ModelError("SHA-256: OpenSSL EVP_DigestFinal_ex failed");
  }
  return toHex(digest.data(), size);
}

std::string sha256Hex(std::string_view data) {
  Sha256 hash;
  hash.update(data.data(), data.size());
  return hash.finishHex();
}

}  // namespace txguard
