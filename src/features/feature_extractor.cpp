#include "features/feature_extractor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "features/category.h"

namespace txguard {
namespace {

constexpr std::int64_t kMsPerHour = 3'600'000;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr double kMsPerSecond = 1000.0;
constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;

// Balances are in the currency's major unit: less than half a cent reads as 0.
constexpr double kZeroBalance = 0.005;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

void set(FeatureVector& out, Feature feature, double value) {
  out[static_cast<std::size_t>(feature)] = static_cast<float>(value);
}

float flag(bool value) { return value ? 1.0f : 0.0f; }

void setFlag(FeatureVector& out, Feature feature, bool value) {
  out[static_cast<std::size_t>(feature)] = flag(value);
}

// Floor division, so instants before 1970 fall in the right day and hour.
std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

void setCalendar(const Transaction& transaction, FeatureVector& out) {
  const std::int64_t days = floorDiv(transaction.timestamp_ms, kMsPerDay);
  const std::int64_t ms_of_day = transaction.timestamp_ms - days * kMsPerDay;
  set(out, Feature::hour_of_day, static_cast<double>(ms_of_day / kMsPerHour));
  // 1970-01-01 was a Thursday, day 3 when Monday is 0.
  const std::int64_t weekday = ((days + 3) % 7 + 7) % 7;
  set(out, Feature::day_of_week, static_cast<double>(weekday));
}

constexpr std::array<std::int64_t, 3> kWindowsMs = {kWindow1mMs, kWindow1hMs, kWindow24hMs};

void setVelocity(const Transaction& transaction, const AccountState& before, FeatureVector& out) {
  std::array<WindowTotals, kWindowsMs.size()> totals;
  before.totalsInWindows(transaction.timestamp_ms, kWindowsMs, totals);
  set(out, Feature::count_1m, static_cast<double>(totals[0].count));
  set(out, Feature::sum_1m, totals[0].amount_sum);
  set(out, Feature::count_1h, static_cast<double>(totals[1].count));
  set(out, Feature::sum_1h, totals[1].amount_sum);
  set(out, Feature::count_24h, static_cast<double>(totals[2].count));
  set(out, Feature::sum_24h, totals[2].amount_sum);
}

void setAmountHistory(const Transaction& transaction, const AccountState& before,
                      FeatureVector& out) {
  const std::uint32_t count = before.historyCount();
  set(out, Feature::history_count, static_cast<double>(count));

  const double mean = count > 0 ? before.amountMean() : kMissing;
  set(out, Feature::amount_mean, mean);
  set(out, Feature::amount_to_mean, mean != 0.0 ? transaction.amount / mean : kMissing);

  // A zero standard deviation (every earlier amount equal) has no z-score.
  const double stddev = before.amountStddev();
  const bool has_spread = isPresent(stddev) && stddev > 0.0;
  set(out, Feature::amount_zscore, has_spread ? (transaction.amount - mean) / stddev : kMissing);
}

void setPrevious(const Transaction& transaction, const AccountState& before, FeatureVector& out) {
  if (!before.hasLast()) {
    set(out, Feature::seconds_since_previous, kMissing);
    set(out, Feature::location_changed, kMissing);
    set(out, Feature::distance_from_previous_km, kMissing);
    set(out, Feature::speed_from_previous_kmh, kMissing);
    return;
  }

  const std::int64_t elapsed_ms = transaction.timestamp_ms - before.lastTimestampMs();
  set(out, Feature::seconds_since_previous,
      elapsed_ms >= 0 ? static_cast<double>(elapsed_ms) / kMsPerSecond : kMissing);

  // The state keeps a truncated location, so compare the same prefix.
  const std::string_view location =
      AccountState::truncateUtf8(transaction.location, AccountState::kMaxLocationBytes);
  if (location.empty() || before.lastLocation().empty()) {
    set(out, Feature::location_changed, kMissing);
  } else {
    setFlag(out, Feature::location_changed, location != before.lastLocation());
  }

  const double distance_km = haversineKm(before.lastLatitude(), before.lastLongitude(),
                                         transaction.latitude, transaction.longitude);
  set(out, Feature::distance_from_previous_km, distance_km);
  const bool has_speed = isPresent(distance_km) && elapsed_ms > 0;
  set(out, Feature::speed_from_previous_kmh,
      has_speed ? distance_km / (static_cast<double>(elapsed_ms) / kMsPerHour) : kMissing);
}

void setBalances(const Transaction& transaction, FeatureVector& out) {
  const double amount = transaction.amount;
  const double before = transaction.balance_before;
  const double after = transaction.balance_after;
  const bool has_before = isPresent(before);
  const bool has_after = isPresent(after);

  set(out, Feature::balance_before, before);
  set(out, Feature::balance_error, has_before && has_after ? before - amount - after : kMissing);

  // With the balance after, "drained" means a positive balance went to zero
  // (PaySim clamps an overdrawn balance at 0). Without it, the amount must
  // cover the whole balance.
  if (!has_before) {
    set(out, Feature::drains_balance, kMissing);
  } else if (has_after) {
    setFlag(out, Feature::drains_balance, before >= kZeroBalance && after < kZeroBalance);
  } else {
    setFlag(out, Feature::drains_balance, before >= kZeroBalance && amount >= before);
  }

  if (has_before && has_after) {
    setFlag(out, Feature::zero_balances,
            std::abs(before) < kZeroBalance && std::abs(after) < kZeroBalance);
  } else {
    set(out, Feature::zero_balances, kMissing);
  }

  const double counterparty_before = transaction.counterparty_balance_before;
  const double counterparty_after = transaction.counterparty_balance_after;
  const bool has_counterparty = isPresent(counterparty_before) && isPresent(counterparty_after);
  set(out, Feature::counterparty_balance_error,
      has_counterparty ? counterparty_before + amount - counterparty_after : kMissing);
}

}  // namespace

double haversineKm(double latitude1, double longitude1, double latitude2,
                   double longitude2) noexcept {
  if (!isPresent(latitude1) || !isPresent(longitude1) || !isPresent(latitude2) ||
      !isPresent(longitude2)) {
    return kMissing;
  }
  const double phi1 = latitude1 * kRadiansPerDegree;
  const double phi2 = latitude2 * kRadiansPerDegree;
  const double half_dphi = (phi2 - phi1) / 2.0;
  const double half_dlambda = (longitude2 - longitude1) * kRadiansPerDegree / 2.0;
  const double sin_dphi = std::sin(half_dphi);
  const double sin_dlambda = std::sin(half_dlambda);
  const double a =
      sin_dphi * sin_dphi + std::cos(phi1) * std::cos(phi2) * sin_dlambda * sin_dlambda;
  // Rounding can push a slightly above 1 for antipodal points.
  return 2.0 * kEarthRadiusKm * std::asin(std::sqrt(std::min(a, 1.0)));
}

void computeFeatures(const Transaction& transaction, const AccountState& before,
                     FeatureVector& out) noexcept {
  out.fill(kNaN);

  const double amount = transaction.amount;
  set(out, Feature::amount, amount);
  // Negative amounts (refunds, reversals) have no log scale here.
  set(out, Feature::log_amount, amount >= 0.0 ? std::log1p(amount) : kMissing);

  setCalendar(transaction, out);
  setVelocity(transaction, before, out);
  setAmountHistory(transaction, before, out);

  if (!transaction.counterparty.empty()) {
    // A Bloom false positive reads as "seen before".
    setFlag(out, Feature::new_counterparty,
            !before.counterparties().mayContain(transaction.counterparty));
  }

  setPrevious(transaction, before, out);

  set(out, Feature::distance_from_home_km,
      haversineKm(transaction.home_latitude, transaction.home_longitude, transaction.latitude,
                  transaction.longitude));
  set(out, Feature::category_code, categoryCode(transaction.category));

  setBalances(transaction, out);
}

}  // namespace txguard
