// Card numbers (PANs): validation, masking for display, and the keyed hash
// that turns a card number into the account key the velocity state uses, so
// that no stored state or log line contains a card number in full.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace txguard {

// Raised when OpenSSL cannot compute the HMAC (a broken or FIPS-restricted
// OpenSSL installation); never raised for bad card numbers.
class PanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Shortest and longest card number the readers accept. ISO/IEC 7812 allows
// 8-19 digits; the Sparkov data set has 11-digit numbers, and no issuer is
// known to use fewer.
inline constexpr std::size_t kMinPanDigits = 11;
inline constexpr std::size_t kMaxPanDigits = 19;

// Returns true when `digits` is non-empty, contains only ASCII digits and its
// Luhn (mod 10) check digit is right.
bool passesLuhn(std::string_view digits);

// Returns the card number with every digit except the first six and last
// four replaced by `*` (the most PCI DSS allows to display). Numbers shorter
// than 13 digits keep only the last four, because with only one or two
// digits hidden the Luhn check digit would give the hidden ones back.
// Non-digit characters are masked too, so the result never leaks input.
std::string maskPan(std::string_view pan);

// Writes maskPan(pan) into `out`, reusing its capacity.
void maskPan(std::string_view pan, std::string& out);

// Returns "card:" followed by the first 32 hex digits (128 bits) of
// HMAC-SHA256(key, pan). Throws PanError when OpenSSL fails.
std::string accountKeyForPan(std::string_view pan, std::string_view key);

// Returns `text` with every run of `min_digits` to 19 ASCII digits that
// passes the Luhn check replaced by maskPan() of it. A run is maximal:
// digits directly before or after belong to it, so a 25-digit id is left
// alone. The default floor of 12 keeps most ids and timestamps readable;
// readers of card data pass kMinPanDigits.
std::string maskPansInText(std::string_view text, std::size_t min_digits = 12);

// Computes accountKeyForPan() for many card numbers with one key. It keeps
// the initialised OpenSSL context and a cache of recent results, because a
// card number repeats across transactions and a fresh HMAC costs about a
// microsecond. Not thread-safe: use one per reader.
class PanHasher {
 public:
  // Throws PanError when OpenSSL cannot set up HMAC-SHA256.
  explicit PanHasher(std::string_view key);
  ~PanHasher();
  PanHasher(const PanHasher&) = delete;
  PanHasher& operator=(const PanHasher&) = delete;

  // Writes accountKeyForPan(pan, key) into `out`, reusing its capacity.
  void accountKey(std::string_view pan, std::string& out);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  // Card number -> account key; cleared when it reaches kMaxCachedPans
  // entries, so memory stays bounded on inputs with many distinct cards.
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> cache_;
  static constexpr std::size_t kMaxCachedPans = 65536;
};

}  // namespace txguard
