// Turns one transaction and its account's history into the feature vector
// that the rules and the model read.
#pragma once

#include <cstdint>

#include "features/account_state.h"
#include "features/feature_vector.h"
#include "transaction/transaction.h"

namespace txguard {

// Velocity windows, in milliseconds. An earlier event counts in a window
// when now - event_time < window, so an event exactly 60,000 ms old is
// outside the 1m window.
inline constexpr std::int64_t kWindow1mMs = 60'000;
inline constexpr std::int64_t kWindow1hMs = 3'600'000;
inline constexpr std::int64_t kWindow24hMs = 86'400'000;

// Mean Earth radius (IUGG), the sphere that the distance features use.
inline constexpr double kEarthRadiusKm = 6371.0088;

// Returns the great-circle distance in km between two points given in
// degrees (haversine formula), or NaN when a coordinate is missing.
double haversineKm(double latitude1, double longitude1, double latitude2,
                   double longitude2) noexcept;

// Fills every feature of `out` for `transaction`, given the account's state
// before it; a feature that the inputs do not support is NaN. Does not
// allocate or throw. See feature_vector.h for each feature's meaning.
//
// For a late transaction (timestamp older than before.lastTimestampMs()),
// the windows count only history events at or before its timestamp, and
// seconds_since_previous and speed_from_previous_kmh are NaN because the
// previous transaction is newer than this one.
void computeFeatures(const Transaction& transaction, const AccountState& before,
                     FeatureVector& out) noexcept;

}  // namespace txguard
