// The canonical transaction every input format is converted to, and every
// later stage (features, rules, model, decisions, service) reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace txguard {

// A double field that the source format may not carry is NaN, not an
// std::optional: the feature code reads these in the hot path and NaN is
// what XGBoost treats as "missing".
inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

inline bool isPresent(double value) { return !std::isnan(value); }

enum class Label : std::int8_t { kUnknown = -1, kLegitimate = 0, kFraud = 1 };

struct Transaction {
  // Idempotency key: unique per transaction, kept as the client sent it.
  std::string id;

  // Account the velocity state is kept for. For card data this is the keyed
  // hash of the card number (see common/pan.h), never the card number.
  std::string account;

  // Account as reports and logs show it: the account number, or the masked
  // card number (first six and last four digits).
  std::string account_display;

  // Event time in milliseconds since the Unix epoch, UTC.
  std::int64_t timestamp_ms = 0;

  // Amount in the currency's major unit (e.g. 12.34 for 12 reais 34 cents).
  double amount = 0.0;
  std::string currency;  // ISO 4217 code; empty when the source has none.

  // Place of the transaction: a state or country code, as the earlier ACME
  // system used it. Empty when unknown.
  std::string location;

  // Coordinates of where the transaction was made (merchant), in degrees.
  double latitude = kMissing;
  double longitude = kMissing;

  // Coordinates of the account holder's home, in degrees (Sparkov only).
  double home_latitude = kMissing;
  double home_longitude = kMissing;

  // Merchant or receiving account; empty when unknown.
  std::string counterparty;

  // Transaction kind: PaySim `type` (TRANSFER, CASH_OUT…) or Sparkov
  // `category` (grocery_pos…). Empty when unknown.
  std::string category;

  // Balances before and after, in the amount's unit (PaySim only).
  double balance_before = kMissing;
  double balance_after = kMissing;
  double counterparty_balance_before = kMissing;
  double counterparty_balance_after = kMissing;

  // Ground truth when the input is labelled.
  Label label = Label::kUnknown;

  // 1-based line number in the source file (0 when not from a file), for
  // rejects and error messages.
  std::uint64_t source_line = 0;
};

}  // namespace txguard
