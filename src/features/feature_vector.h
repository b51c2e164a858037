// The fixed list of features computed for each transaction. Rules refer to
// features by name; the model stores the names it was trained on.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace txguard {

// Each feature is a float; NaN means "not available for this transaction".
// Append new features at the end: models store names, not indices, but the
// order is also the column order of training matrices.
#define TXGUARD_FEATURES(X)                                                          \
  X(amount, "transaction amount, currency unit")                                     \
  X(log_amount, "natural log of (1 + amount)")                                       \
  X(hour_of_day, "hour of the event time, 0-23, UTC")                                \
  X(day_of_week, "day of the week of the event time, 0 = Monday")                    \
  X(seconds_since_previous, "seconds since the account's previous transaction")      \
  X(count_1m, "account's transactions in the 60 s before this one")                  \
  X(sum_1m, "amount sum of those transactions")                                      \
  X(count_1h, "account's transactions in the 3,600 s before this one")               \
  X(sum_1h, "amount sum of those transactions")                                      \
  X(count_24h, "account's transactions in the 86,400 s before this one")             \
  X(sum_24h, "amount sum of those transactions")                                     \
  X(history_count, "account's transactions seen before this one")                    \
  X(amount_mean, "running mean of the account's previous amounts")                   \
  X(amount_zscore, "(amount - running mean) / running standard deviation")           \
  X(amount_to_mean, "amount / running mean")                                         \
  X(new_counterparty, "1 if the account never paid this counterparty before")        \
  X(location_changed, "1 if the location differs from the previous transaction's")   \
  X(distance_from_previous_km, "great-circle km from the previous transaction")      \
  X(speed_from_previous_kmh, "km/h needed to travel from the previous transaction")  \
  X(distance_from_home_km, "great-circle km between the holder's home and merchant") \
  X(category_code, "stable code of the transaction category, see category_code()")  \
  X(balance_before, "originator balance before, currency unit")                     \
  X(balance_error, "balance_before - amount - balance_after")                        \
  X(drains_balance, "1 if the amount empties the originator's balance")              \
  X(counterparty_balance_error,                                                      \
    "counterparty balance_before + amount - balance_after")                          \
  X(zero_balances, "1 if the originator's balances before and after are both 0")

enum class Feature : std::size_t {
#define TXGUARD_FEATURE_ENUM(name, help) name,
  TXGUARD_FEATURES(TXGUARD_FEATURE_ENUM)
#undef TXGUARD_FEATURE_ENUM
      kCount
};

inline constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::kCount);

using FeatureVector = std::array<float, kFeatureCount>;

inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
#define TXGUARD_FEATURE_NAME(name, help) #name,
    TXGUARD_FEATURES(TXGUARD_FEATURE_NAME)
#undef TXGUARD_FEATURE_NAME
};

inline constexpr std::array<std::string_view, kFeatureCount> kFeatureHelp = {
#define TXGUARD_FEATURE_HELP(name, help) help,
    TXGUARD_FEATURES(TXGUARD_FEATURE_HELP)
#undef TXGUARD_FEATURE_HELP
};

inline constexpr float featureValue(const FeatureVector& features, Feature feature) {
  return features[static_cast<std::size_t>(feature)];
}

inline std::optional<Feature> featureByName(std::string_view name) {
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (kFeatureNames[i] == name) return static_cast<Feature>(i);
  }
  return std::nullopt;
}

}  // namespace txguard
