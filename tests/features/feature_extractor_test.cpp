#include "features/feature_extractor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_transactions.h"

namespace txguard {
namespace {

using testing::makeTransaction;

constexpr std::int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z, a Tuesday

FeatureVector featuresOf(const Transaction& transaction, const AccountState& before) {
  FeatureVector out;
  computeFeatures(transaction, before, out);
  return out;
}

float feature(const FeatureVector& out, Feature which) { return featureValue(out, which); }

bool missing(const FeatureVector& out, Feature which) { return std::isnan(feature(out, which)); }

// A state holding one earlier event of amount 10 at `age_ms` before kNow.
AccountState stateWithEventAged(std::int64_t age_ms) {
  AccountState state;
  state.record(makeTransaction(kNow - age_ms, 10.0));
  return state;
}

struct WindowCase {
  Feature count;
  Feature sum;
  std::int64_t window_ms;
};

constexpr WindowCase kWindows[] = {
    {Feature::count_1m, Feature::sum_1m, 60'000},
    {Feature::count_1h, Feature::sum_1h, 3'600'000},
    {Feature::count_24h, Feature::sum_24h, 86'400'000},
};

TEST(ComputeFeatures, WindowBoundaries) {
  for (const WindowCase& window : kWindows) {
    SCOPED_TRACE(kFeatureNames[static_cast<std::size_t>(window.count)]);
    const Transaction current = makeTransaction(kNow, 1.0);

    const FeatureVector inside = featuresOf(current, stateWithEventAged(window.window_ms - 1));
    EXPECT_EQ(feature(inside, window.count), 1.0f);
    EXPECT_EQ(feature(inside, window.sum), 10.0f);

    const FeatureVector on_boundary = featuresOf(current, stateWithEventAged(window.window_ms));
    EXPECT_EQ(feature(on_boundary, window.count), 0.0f);
    EXPECT_EQ(feature(on_boundary, window.sum), 0.0f);

    const FeatureVector outside = featuresOf(current, stateWithEventAged(window.window_ms + 1));
    EXPECT_EQ(feature(outside, window.count), 0.0f);
    EXPECT_EQ(feature(outside, window.sum), 0.0f);
  }
}

TEST(ComputeFeatures, OneMinuteWindowAt59999And60000Ms) {
  const Transaction current = makeTransaction(kNow, 1.0);
  EXPECT_EQ(feature(featuresOf(current, stateWithEventAged(59'999)), Feature::count_1m), 1.0f);
  EXPECT_EQ(feature(featuresOf(current, stateWithEventAged(60'000)), Feature::count_1m), 0.0f);
  EXPECT_EQ(feature(featuresOf(current, stateWithEventAged(60'000)), Feature::count_1h), 1.0f);
}

TEST(ComputeFeatures, SameMillisecondEventCounts) {
  const FeatureVector out = featuresOf(makeTransaction(kNow, 1.0), stateWithEventAged(0));
  EXPECT_EQ(feature(out, Feature::count_1m), 1.0f);
  EXPECT_EQ(feature(out, Feature::seconds_since_previous), 0.0f);
}

TEST(ComputeFeatures, WindowsNestAcrossEvents) {
  AccountState state;
  state.record(makeTransaction(kNow - 90'000'000, 1000.0));  // outside 24h
  state.record(makeTransaction(kNow - 7'200'000, 100.0));    // inside 24h only
  state.record(makeTransaction(kNow - 120'000, 20.0));       // inside 1h
  state.record(makeTransaction(kNow - 30'000, 3.0));         // inside 1m
  const FeatureVector out = featuresOf(makeTransaction(kNow, 1.0), state);
  EXPECT_EQ(feature(out, Feature::count_1m), 1.0f);
  EXPECT_EQ(feature(out, Feature::sum_1m), 3.0f);
  EXPECT_EQ(feature(out, Feature::count_1h), 2.0f);
  EXPECT_EQ(feature(out, Feature::sum_1h), 23.0f);
  EXPECT_EQ(feature(out, Feature::count_24h), 3.0f);
  EXPECT_EQ(feature(out, Feature::sum_24h), 123.0f);
  EXPECT_EQ(feature(out, Feature::history_count), 4.0f);
}

TEST(ComputeFeatures, WindowCountSaturatesAtRingCapacity) {
  AccountState state;
  for (int i = 0; i < 50; ++i) state.record(makeTransaction(kNow - 50'000 + i * 1'000, 2.0));
  const FeatureVector out = featuresOf(makeTransaction(kNow, 1.0), state);
  const float capacity = static_cast<float>(AccountState::kRingCapacity);
  EXPECT_EQ(feature(out, Feature::count_1m), capacity);
  EXPECT_EQ(feature(out, Feature::sum_1m), 2.0f * capacity);
  EXPECT_EQ(feature(out, Feature::history_count), 50.0f);
}

TEST(ComputeFeatures, EmptyHistory) {
  const FeatureVector out = featuresOf(makeTransaction(kNow, 50.0, "M1", "SP"), AccountState());
  EXPECT_EQ(feature(out, Feature::history_count), 0.0f);
  EXPECT_EQ(feature(out, Feature::count_24h), 0.0f);
  EXPECT_EQ(feature(out, Feature::sum_24h), 0.0f);
  EXPECT_TRUE(missing(out, Feature::seconds_since_previous));
  EXPECT_TRUE(missing(out, Feature::amount_mean));
  EXPECT_TRUE(missing(out, Feature::amount_zscore));
  EXPECT_TRUE(missing(out, Feature::amount_to_mean));
  EXPECT_TRUE(missing(out, Feature::location_changed));
  EXPECT_TRUE(missing(out, Feature::distance_from_previous_km));
  EXPECT_TRUE(missing(out, Feature::speed_from_previous_kmh));
  EXPECT_EQ(feature(out, Feature::new_counterparty), 1.0f);
}

TEST(ComputeFeatures, ZscoreNeedsTwoPriorAmounts) {
  AccountState state;
  state.record(makeTransaction(kNow - 2'000, 10.0));
  FeatureVector out = featuresOf(makeTransaction(kNow, 40.0), state);
  EXPECT_TRUE(missing(out, Feature::amount_zscore));
  EXPECT_EQ(feature(out, Feature::amount_mean), 10.0f);
  EXPECT_EQ(feature(out, Feature::amount_to_mean), 4.0f);

  state.record(makeTransaction(kNow - 1'000, 20.0));
  out = featuresOf(makeTransaction(kNow, 40.0), state);
  // mean 15, sample standard deviation sqrt(50)
  EXPECT_NEAR(feature(out, Feature::amount_zscore), 25.0 / std::sqrt(50.0), 1e-5);
  EXPECT_EQ(feature(out, Feature::amount_mean), 15.0f);
}

TEST(ComputeFeatures, ZscoreMissingWhenAmountsEqual) {
  AccountState state;
  for (int i = 0; i < 5; ++i) state.record(makeTransaction(kNow - 10'000 + i, 10.0));
  const FeatureVector out = featuresOf(makeTransaction(kNow, 11.0), state);
  EXPECT_TRUE(missing(out, Feature::amount_zscore));
  EXPECT_NEAR(feature(out, Feature::amount_to_mean), 1.1f, 1e-6);
}

TEST(ComputeFeatures, AmountToMeanMissingWhenMeanIsZero) {
  AccountState state;
  state.record(makeTransaction(kNow - 1'000, 0.0));
  const FeatureVector out = featuresOf(makeTransaction(kNow, 5.0), state);
  EXPECT_TRUE(missing(out, Feature::amount_to_mean));
}

TEST(ComputeFeatures, NewCounterparty) {
  AccountState state;
  state.record(makeTransaction(kNow - 1'000, 1.0, "M1"));
  EXPECT_EQ(feature(featuresOf(makeTransaction(kNow, 1.0, "M1"), state), Feature::new_counterparty),
            0.0f);
  EXPECT_EQ(feature(featuresOf(makeTransaction(kNow, 1.0, "M2"), state), Feature::new_counterparty),
            1.0f);
  EXPECT_TRUE(
      missing(featuresOf(makeTransaction(kNow, 1.0, ""), state), Feature::new_counterparty));
}

TEST(ComputeFeatures, LocationChanged) {
  AccountState state;
  state.record(makeTransaction(kNow - 1'000, 1.0, "", "SP"));
  EXPECT_EQ(
      feature(featuresOf(makeTransaction(kNow, 1.0, "", "SP"), state), Feature::location_changed),
      0.0f);
  EXPECT_EQ(
      feature(featuresOf(makeTransaction(kNow, 1.0, "", "RJ"), state), Feature::location_changed),
      1.0f);
  EXPECT_TRUE(
      missing(featuresOf(makeTransaction(kNow, 1.0, "", ""), state), Feature::location_changed));

  AccountState no_location;
  no_location.record(makeTransaction(kNow - 1'000, 1.0));
  EXPECT_TRUE(missing(featuresOf(makeTransaction(kNow, 1.0, "", "SP"), no_location),
                      Feature::location_changed));
}

TEST(ComputeFeatures, LocationComparedOnTruncatedPrefix) {
  const std::string long_location(30, 'Z');
  AccountState state;
  state.record(makeTransaction(kNow - 1'000, 1.0, "", long_location));
  EXPECT_EQ(feature(featuresOf(makeTransaction(kNow, 1.0, "", long_location), state),
                    Feature::location_changed),
            0.0f);
}

TEST(Haversine, MatchesIndependentHaversine) {
  // Expected values come from a separate haversine implementation on the
  // same 6371.0088 km sphere, printed to 1 m.
  EXPECT_NEAR(haversineKm(-23.5505, -46.6333, -22.9068, -43.1729), 360.749323, 0.001);
  EXPECT_NEAR(haversineKm(51.5074, -0.1278, 48.8566, 2.3522), 343.556535, 0.001);
  EXPECT_NEAR(haversineKm(40.7128, -74.0060, 34.0522, -118.2437), 3935.751691, 0.001);
}

TEST(Haversine, CityPairsWithinSphereErrorOfGeodesic) {
  // Geodesic distances on the WGS84 ellipsoid (Vincenty's inverse formula)
  // between city centres: São Paulo (Praça da Sé) to Rio de Janeiro, London
  // to Paris, New York to Los Angeles. The Earth's north-south radius of
  // curvature differs by about 1 % between equator and poles, so no sphere
  // matches the ellipsoid to better than about 0.5 %, which sets the bound.
  struct CityPair {
    double latitude1, longitude1, latitude2, longitude2, geodesic_km;
  };
  constexpr CityPair kPairs[] = {
      {-23.5505, -46.6333, -22.9068, -43.1729, 361.261},
      {51.5074, -0.1278, 48.8566, 2.3522, 343.923},
      {40.7128, -74.0060, 34.0522, -118.2437, 3944.422},
  };
  for (const CityPair& pair : kPairs) {
    const double distance =
        haversineKm(pair.latitude1, pair.longitude1, pair.latitude2, pair.longitude2);
    EXPECT_NEAR(distance, pair.geodesic_km, 0.005 * pair.geodesic_km);
  }
}

TEST(Haversine, EdgeCases) {
  EXPECT_EQ(haversineKm(10.0, 20.0, 10.0, 20.0), 0.0);
  EXPECT_NEAR(haversineKm(0.0, 0.0, 0.0, 180.0), M_PI * kEarthRadiusKm, 1e-6);
  EXPECT_NEAR(haversineKm(0.0, 179.5, 0.0, -179.5), haversineKm(0.0, 0.0, 0.0, 1.0), 1e-9);
  EXPECT_TRUE(std::isnan(haversineKm(kMissing, 0.0, 0.0, 0.0)));
  EXPECT_TRUE(std::isnan(haversineKm(0.0, 0.0, 0.0, kMissing)));
}

Transaction transactionAt(std::int64_t timestamp_ms, double latitude, double longitude) {
  Transaction transaction = makeTransaction(timestamp_ms, 1.0);
  transaction.latitude = latitude;
  transaction.longitude = longitude;
  return transaction;
}

TEST(ComputeFeatures, DistanceAndSpeedFromPrevious) {
  AccountState state;
  state.record(transactionAt(kNow - 3'600'000, -23.5505, -46.6333));
  const FeatureVector out = featuresOf(transactionAt(kNow, -22.9068, -43.1729), state);
  EXPECT_NEAR(feature(out, Feature::distance_from_previous_km), 360.749, 0.01);
  EXPECT_NEAR(feature(out, Feature::speed_from_previous_kmh), 360.749, 0.01);
  EXPECT_EQ(feature(out, Feature::seconds_since_previous), 3600.0f);

  const FeatureVector half_hour =
      featuresOf(transactionAt(kNow - 1'800'000, -22.9068, -43.1729), state);
  EXPECT_NEAR(feature(half_hour, Feature::speed_from_previous_kmh), 2 * 360.749, 0.02);
}

TEST(ComputeFeatures, SpeedMissingWhenNoTimeElapsed) {
  AccountState state;
  state.record(transactionAt(kNow, -23.5505, -46.6333));
  const FeatureVector out = featuresOf(transactionAt(kNow, -22.9068, -43.1729), state);
  EXPECT_NEAR(feature(out, Feature::distance_from_previous_km), 360.749, 0.01);
  EXPECT_TRUE(missing(out, Feature::speed_from_previous_kmh));
}

TEST(ComputeFeatures, DistanceMissingWithoutCoordinates) {
  AccountState state;
  state.record(makeTransaction(kNow - 1'000, 1.0));
  const FeatureVector out = featuresOf(transactionAt(kNow, -22.9068, -43.1729), state);
  EXPECT_TRUE(missing(out, Feature::distance_from_previous_km));
  EXPECT_TRUE(missing(out, Feature::speed_from_previous_kmh));
}

TEST(ComputeFeatures, LateTransactionHasNoNegativeTimes) {
  AccountState state;
  state.record(transactionAt(kNow - 120'000, -23.5505, -46.6333));
  state.record(transactionAt(kNow, -23.5505, -46.6333));
  const FeatureVector out = featuresOf(transactionAt(kNow - 60'000, -22.9068, -43.1729), state);
  EXPECT_TRUE(missing(out, Feature::seconds_since_previous));
  EXPECT_TRUE(missing(out, Feature::speed_from_previous_kmh));
  EXPECT_NEAR(feature(out, Feature::distance_from_previous_km), 360.749, 0.01);
  // The event exactly 60 s before the late one is outside 1m and inside 1h.
  // The newer event is after the late one, so no window counts it.
  EXPECT_EQ(feature(out, Feature::count_1m), 0.0f);
  EXPECT_EQ(feature(out, Feature::count_1h), 1.0f);
  EXPECT_EQ(feature(out, Feature::history_count), 2.0f);
}

TEST(ComputeFeatures, DistanceFromHome) {
  Transaction transaction = transactionAt(kNow, -22.9068, -43.1729);
  transaction.home_latitude = -23.5505;
  transaction.home_longitude = -46.6333;
  EXPECT_NEAR(feature(featuresOf(transaction, AccountState()), Feature::distance_from_home_km),
              360.749, 0.01);
  transaction.home_latitude = kMissing;
  EXPECT_TRUE(missing(featuresOf(transaction, AccountState()), Feature::distance_from_home_km));
}

TEST(ComputeFeatures, CalendarFeaturesInUtc) {
  struct CalendarCase {
    std::int64_t timestamp_ms;
    float hour;
    float weekday;  // 0 = Monday
  };
  constexpr CalendarCase kCases[] = {
      {0, 0.0f, 3.0f},                   // 1970-01-01T00:00Z, Thursday
      {-1, 23.0f, 2.0f},                 // 1969-12-31T23:59:59.999Z, Wednesday
      {-86'400'000, 0.0f, 2.0f},         // 1969-12-31T00:00Z
      {-14'182'980'000, 20.0f, 6.0f},    // 1969-07-20T20:17Z, Sunday
      {1'709'300'700'000, 13.0f, 4.0f},  // 2024-03-01T13:45Z, Friday
      {1'709'337'599'999, 23.0f, 4.0f},  // 2024-03-01T23:59:59.999Z
      {1'709'337'600'000, 0.0f, 5.0f},   // 2024-03-02T00:00Z, Saturday
  };
  for (const CalendarCase& calendar : kCases) {
    SCOPED_TRACE(calendar.timestamp_ms);
    const FeatureVector out = featuresOf(makeTransaction(calendar.timestamp_ms, 1.0), {});
    EXPECT_EQ(feature(out, Feature::hour_of_day), calendar.hour);
    EXPECT_EQ(feature(out, Feature::day_of_week), calendar.weekday);
  }
}

TEST(ComputeFeatures, AmountAndCategory) {
  Transaction transaction = makeTransaction(kNow, 99.0);
  transaction.category = "TRANSFER";
  FeatureVector out = featuresOf(transaction, {});
  EXPECT_EQ(feature(out, Feature::amount), 99.0f);
  EXPECT_NEAR(feature(out, Feature::log_amount), std::log(100.0), 1e-6);
  EXPECT_EQ(feature(out, Feature::category_code), 5.0f);

  transaction.category = "grocery_pos";
  EXPECT_EQ(feature(featuresOf(transaction, {}), Feature::category_code), 10.0f);
  transaction.category = "unknown_kind";
  EXPECT_EQ(feature(featuresOf(transaction, {}), Feature::category_code), 0.0f);
  transaction.amount = -5.0;
  EXPECT_TRUE(missing(featuresOf(transaction, {}), Feature::log_amount));
}

// PaySim rows: type, amount, oldbalanceOrg, newbalanceOrig, oldbalanceDest, newbalanceDest.
Transaction paysimRow(const char* type, double amount, double old_origin, double new_origin,
                      double old_destination, double new_destination) {
  Transaction transaction = makeTransaction(kNow, amount, "C1", "");
  transaction.category = type;
  transaction.balance_before = old_origin;
  transaction.balance_after = new_origin;
  transaction.counterparty_balance_before = old_destination;
  transaction.counterparty_balance_after = new_destination;
  return transaction;
}

TEST(ComputeFeatures, BalanceFeaturesOnPaysimRows) {
  // A fraudulent TRANSFER that empties the account.
  FeatureVector out = featuresOf(paysimRow("TRANSFER", 181.0, 181.0, 0.0, 0.0, 0.0), {});
  EXPECT_EQ(feature(out, Feature::balance_before), 181.0f);
  EXPECT_EQ(feature(out, Feature::balance_error), 0.0f);
  EXPECT_EQ(feature(out, Feature::drains_balance), 1.0f);
  EXPECT_EQ(feature(out, Feature::counterparty_balance_error), 181.0f);
  EXPECT_EQ(feature(out, Feature::zero_balances), 0.0f);

  // A PAYMENT that leaves money in the account.
  out = featuresOf(paysimRow("PAYMENT", 9839.64, 170136.0, 160296.36, 0.0, 0.0), {});
  EXPECT_NEAR(feature(out, Feature::balance_error), 0.0f, 1e-6);
  EXPECT_EQ(feature(out, Feature::drains_balance), 0.0f);
  EXPECT_EQ(feature(out, Feature::zero_balances), 0.0f);

  // A CASH_IN raises the originator's balance and lowers the merchant's, so
  // both errors are twice the amount in size.
  out = featuresOf(paysimRow("CASH_IN", 1000.0, 500.0, 1500.0, 3000.0, 2000.0), {});
  EXPECT_EQ(feature(out, Feature::balance_error), -2000.0f);
  EXPECT_EQ(feature(out, Feature::drains_balance), 0.0f);
  EXPECT_EQ(feature(out, Feature::counterparty_balance_error), 2000.0f);

  // A CASH_OUT whose receiving balance moves by the amount.
  out = featuresOf(paysimRow("CASH_OUT", 229133.94, 15325.0, 0.0, 5083.0, 51513.44), {});
  EXPECT_NEAR(feature(out, Feature::balance_error), 15325.0 - 229133.94, 0.01);
  EXPECT_EQ(feature(out, Feature::drains_balance), 1.0f);
  EXPECT_NEAR(feature(out, Feature::counterparty_balance_error), 5083.0 + 229133.94 - 51513.44,
              0.01);

  // An account with no money on either side.
  out = featuresOf(paysimRow("PAYMENT", 1864.28, 0.0, 0.0, 0.0, 0.0), {});
  EXPECT_EQ(feature(out, Feature::zero_balances), 1.0f);
  EXPECT_EQ(feature(out, Feature::drains_balance), 0.0f);
  EXPECT_EQ(feature(out, Feature::balance_error), -1864.28f);
}

TEST(ComputeFeatures, DrainsBalanceWithoutBalanceAfter) {
  Transaction transaction = paysimRow("CASH_OUT", 200.0, 150.0, kMissing, kMissing, kMissing);
  FeatureVector out = featuresOf(transaction, {});
  EXPECT_EQ(feature(out, Feature::drains_balance), 1.0f);
  EXPECT_TRUE(missing(out, Feature::balance_error));
  EXPECT_TRUE(missing(out, Feature::zero_balances));
  EXPECT_TRUE(missing(out, Feature::counterparty_balance_error));
  transaction.amount = 100.0;
  EXPECT_EQ(feature(featuresOf(transaction, {}), Feature::drains_balance), 0.0f);
}

TEST(ComputeFeatures, BalanceFeaturesMissingWithoutBalances) {
  const FeatureVector out = featuresOf(makeTransaction(kNow, 10.0), {});
  EXPECT_TRUE(missing(out, Feature::balance_before));
  EXPECT_TRUE(missing(out, Feature::balance_error));
  EXPECT_TRUE(missing(out, Feature::drains_balance));
  EXPECT_TRUE(missing(out, Feature::counterparty_balance_error));
  EXPECT_TRUE(missing(out, Feature::zero_balances));
}

TEST(ComputeFeatures, WritesEveryFeature) {
  // Overwrites a sentinel in every slot, both with full and with empty inputs.
  constexpr float kSentinel = 12345.0f;
  Transaction full = paysimRow("TRANSFER", 50.0, 100.0, 50.0, 0.0, 50.0);
  full.latitude = 1.0;
  full.longitude = 2.0;
  full.home_latitude = 1.5;
  full.home_longitude = 2.5;
  full.location = "SP";
  AccountState state;
  Transaction earlier = full;
  earlier.timestamp_ms = kNow - 5'000;
  state.record(earlier);
  state.record(earlier);

  for (const Transaction& transaction : {full, makeTransaction(kNow, 1.0)}) {
    FeatureVector out;
    out.fill(kSentinel);
    computeFeatures(transaction, state, out);
    for (std::size_t i = 0; i < kFeatureCount; ++i) {
      EXPECT_NE(out[i], kSentinel) << kFeatureNames[i];
    }
  }
  FeatureVector out;
  computeFeatures(full, state, out);
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (static_cast<Feature>(i) == Feature::amount_zscore) continue;  // equal earlier amounts
    EXPECT_FALSE(std::isnan(out[i])) << kFeatureNames[i];
  }
}

}  // namespace
}  // namespace txguard
