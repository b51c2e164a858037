// SHA-256 digests for model files and training data (OpenSSL EVP).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace txguard {

// Returns the SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view data);

// Incremental SHA-256 for data that is not in one buffer.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);

  // Returns the digest as 64 lowercase hex digits. Call once.
  std::string finishHex();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace txguard
