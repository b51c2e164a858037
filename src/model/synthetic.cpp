#include "model/synthetic.h"

#include <cmath>
#include <limits>
#include <random>

namespace txguard {

TrainingSet makeSyntheticTrainingSet(std::size_t rows, std::uint64_t seed, double fraud_rate) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> step_seconds(0, 9);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

  TrainingSet set;
  set.rows.reserve(rows);
  set.labels.reserve(rows);
  set.timestamps_ms.reserve(rows);

  std::int64_t timestamp_ms = 1'700'000'000'000;
  for (std::size_t i = 0; i < rows; ++i) {
    const bool fraud = unit(random) < fraud_rate;
    // One legitimate row in ten borrows a fraud trait, so the classes overlap.
    const bool fraud_like = fraud || unit(random) < 0.1;

    FeatureVector row;
    row.fill(kNaN);
    auto set_feature = [&row](Feature feature, double value) {
      row[static_cast<std::size_t>(feature)] = static_cast<float>(value);
    };

    const double amount = std::exp(4.0 + noise(random) + (fraud ? 2.5 : 0.0));
    const double balance = amount * (fraud ? 1.0 : 1.0 + 5.0 * unit(random));
    const int hour = fraud_like && unit(random) < 0.7 ? static_cast<int>(unit(random) * 5)
                                                      : 6 + static_cast<int>(unit(random) * 18);
    const double count_1h = std::floor(std::abs(noise(random)) * (fraud ? 6.0 : 1.5));

    set_feature(Feature::amount, amount);
    set_feature(Feature::log_amount, std::log1p(amount));
    set_feature(Feature::hour_of_day, hour);
    set_feature(Feature::day_of_week, static_cast<int>(unit(random) * 7));
    set_feature(Feature::count_1h, count_1h);
    set_feature(Feature::sum_1h, count_1h * amount * 0.5);
    set_feature(Feature::history_count, std::floor(unit(random) * 200));
    set_feature(Feature::category_code, fraud_like ? 5 : 1 + static_cast<int>(unit(random) * 4));
    set_feature(Feature::balance_before, balance);
    set_feature(Feature::drains_balance, fraud || unit(random) < 0.05 ? 1.0 : 0.0);
    set_feature(Feature::balance_error, fraud ? amount * unit(random) : 0.0);
    // Seconds since the previous transaction is missing for first-seen accounts.
    if (unit(random) < 0.9) {
      set_feature(Feature::seconds_since_previous, std::exp(6.0 + 2.0 * noise(random)));
    }

    set.rows.push_back(row);
    set.labels.push_back(fraud ? 1 : 0);
    set.timestamps_ms.push_back(timestamp_ms);
    timestamp_ms += 1000 * step_seconds(random);
  }
  return set;
}

}  // namespace txguard
