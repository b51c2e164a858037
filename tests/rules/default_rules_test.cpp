// Each rule of config/rules/default.yaml fires on a hand-built feature
// vector made for it and stays quiet on a near miss.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "features/category.h"
#include "rules/rule_set.h"

namespace txguard {
namespace {

using ::testing::HasSubstr;

class DefaultRules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rules_ = new RuleSet(
        RuleSet::loadFile(std::string(TXGUARD_SOURCE_DIR) + "/config/rules/default.yaml"));
  }
  static void TearDownTestSuite() {
    delete rules_;
    rules_ = nullptr;
  }

  // An unremarkable card payment: an established account, a familiar
  // merchant, the same place as the previous payment a day earlier.
  static FeatureVector ordinaryPayment() {
    FeatureVector features;
    features.fill(std::nanf(""));
    set(features, Feature::amount, 50.0f);
    set(features, Feature::log_amount, std::log1p(50.0f));
    set(features, Feature::hour_of_day, 12.0f);
    set(features, Feature::day_of_week, 2.0f);
    set(features, Feature::seconds_since_previous, 86400.0f);
    set(features, Feature::count_1m, 0.0f);
    set(features, Feature::sum_1m, 0.0f);
    set(features, Feature::count_1h, 1.0f);
    set(features, Feature::sum_1h, 40.0f);
    set(features, Feature::count_24h, 3.0f);
    set(features, Feature::sum_24h, 120.0f);
    set(features, Feature::history_count, 50.0f);
    set(features, Feature::amount_mean, 45.0f);
    set(features, Feature::amount_zscore, 0.2f);
    set(features, Feature::amount_to_mean, 50.0f / 45.0f);
    set(features, Feature::new_counterparty, 0.0f);
    set(features, Feature::location_changed, 0.0f);
    set(features, Feature::distance_from_previous_km, 2.0f);
    set(features, Feature::speed_from_previous_kmh, 0.1f);
    set(features, Feature::distance_from_home_km, 5.0f);
    set(features, Feature::category_code, static_cast<float>(categoryCode("grocery_pos")));
    return features;
  }

  // A PaySim transfer of part of a funded balance.
  static FeatureVector paysimTransfer() {
    FeatureVector features = ordinaryPayment();
    set(features, Feature::category_code, static_cast<float>(categoryCode("TRANSFER")));
    set(features, Feature::amount, 181000.0f);
    set(features, Feature::balance_before, 500000.0f);
    set(features, Feature::balance_error, 0.0f);
    set(features, Feature::drains_balance, 0.0f);
    set(features, Feature::zero_balances, 0.0f);
    set(features, Feature::history_count, 0.0f);
    set(features, Feature::amount_mean, std::nanf(""));
    set(features, Feature::amount_zscore, std::nanf(""));
    set(features, Feature::amount_to_mean, std::nanf(""));
    set(features, Feature::new_counterparty, 1.0f);
    return features;
  }

  static void set(FeatureVector& features, Feature feature, float value) {
    features[static_cast<std::size_t>(feature)] = value;
  }

  static std::size_t indexOf(const std::string& name) {
    for (std::size_t i = 0; i < rules_->size(); ++i) {
      if (rules_->rule(i).name == name) return i;
    }
    ADD_FAILURE() << "no rule named " << name << " in default.yaml";
    return rules_->size();
  }

  static bool fires(const std::string& name, const FeatureVector& features) {
    RuleEvaluation out;
    rules_->evaluate(features, out);
    const std::size_t index = indexOf(name);
    return std::find(out.fired.begin(), out.fired.end(), index) != out.fired.end();
  }

  static RuleEvaluation evaluate(const FeatureVector& features) {
    RuleEvaluation out;
    rules_->evaluate(features, out);
    return out;
  }

  static RuleSet* rules_;
};

RuleSet* DefaultRules::rules_ = nullptr;

TEST_F(DefaultRules, LoadsWithVersion) {
  EXPECT_EQ(rules_->size(), 6u);
  EXPECT_THAT(rules_->version(), ::testing::MatchesRegex("1\\+[0-9a-f]{12}"));
  for (std::size_t i = 0; i < rules_->size(); ++i) {
    EXPECT_TRUE(rules_->rule(i).enabled) << rules_->rule(i).name;
    EXPECT_FALSE(rules_->rule(i).description.empty()) << rules_->rule(i).name;
  }
}

TEST_F(DefaultRules, OrdinaryPaymentsFireNothing) {
  const RuleEvaluation card = evaluate(ordinaryPayment());
  EXPECT_TRUE(card.fired.empty());
  EXPECT_EQ(card.action, Action::kAllow);
  EXPECT_EQ(card.score, 0.0);

  EXPECT_TRUE(evaluate(paysimTransfer()).fired.empty());
}

TEST_F(DefaultRules, MissingFeaturesFireNothing) {
  FeatureVector features;
  features.fill(std::nanf(""));
  EXPECT_TRUE(evaluate(features).fired.empty());
}

TEST_F(DefaultRules, AcmeLocationChangeFiresJustUnderAnHour) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::location_changed, 1.0f);
  set(features, Feature::seconds_since_previous, 3599.999f);
  EXPECT_TRUE(fires("acme_location_change_within_hour", features));

  const RuleEvaluation out = evaluate(features);
  EXPECT_EQ(out.action, Action::kBlock);
  EXPECT_TRUE(out.exclude_from_history);

  const std::string reason =
      rules_->renderReason(indexOf("acme_location_change_within_hour"), features);
  EXPECT_THAT(reason, HasSubstr("3599.999 s after the previous transaction"));
  EXPECT_THAT(reason, HasSubstr("3600 s"));
}

TEST_F(DefaultRules, AcmeLocationChangeQuietAtAnHour) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::location_changed, 1.0f);
  set(features, Feature::seconds_since_previous, 3600.0f);
  EXPECT_FALSE(fires("acme_location_change_within_hour", features));
  EXPECT_FALSE(evaluate(features).exclude_from_history);
}

TEST_F(DefaultRules, AcmeLocationChangeQuietInSameLocation) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::location_changed, 0.0f);
  set(features, Feature::seconds_since_previous, 10.0f);
  EXPECT_FALSE(fires("acme_location_change_within_hour", features));

  // Unknown location or no previous transaction: the feature is missing.
  set(features, Feature::location_changed, std::nanf(""));
  EXPECT_FALSE(fires("acme_location_change_within_hour", features));
}

TEST_F(DefaultRules, ImpossibleTravelFires) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::distance_from_previous_km, 2000.0f);
  set(features, Feature::speed_from_previous_kmh, 4000.0f);
  EXPECT_TRUE(fires("impossible_travel", features));
  EXPECT_EQ(evaluate(features).action, Action::kBlock);
  EXPECT_EQ(rules_->renderReason(indexOf("impossible_travel"), features),
            "2000 km from the previous transaction at 4000 km/h, faster than an airliner");
}

TEST_F(DefaultRules, ImpossibleTravelQuiet) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::distance_from_previous_km, 2000.0f);
  set(features, Feature::speed_from_previous_kmh, 850.0f);  // a flight
  EXPECT_FALSE(fires("impossible_travel", features));

  set(features, Feature::distance_from_previous_km, 50.0f);  // short hop, tiny time gap
  set(features, Feature::speed_from_previous_kmh, 9000.0f);
  EXPECT_FALSE(fires("impossible_travel", features));
}

TEST_F(DefaultRules, BurstVelocityFires) {
  FeatureVector per_minute = ordinaryPayment();
  set(per_minute, Feature::count_1m, 5.0f);
  set(per_minute, Feature::count_1h, 5.0f);
  EXPECT_TRUE(fires("burst_velocity", per_minute));
  EXPECT_EQ(evaluate(per_minute).action, Action::kReview);

  FeatureVector per_hour = ordinaryPayment();
  set(per_hour, Feature::count_1h, 20.0f);
  EXPECT_TRUE(fires("burst_velocity", per_hour));
}

TEST_F(DefaultRules, BurstVelocityQuiet) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::count_1m, 4.0f);
  set(features, Feature::count_1h, 19.0f);
  EXPECT_FALSE(fires("burst_velocity", features));
}

TEST_F(DefaultRules, AmountFarAboveNormalFires) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::amount, 900.0f);
  set(features, Feature::history_count, 10.0f);
  set(features, Feature::amount_zscore, 6.5f);
  EXPECT_TRUE(fires("amount_far_above_normal", features));
  EXPECT_EQ(evaluate(features).action, Action::kReview);
}

TEST_F(DefaultRules, AmountFarAboveNormalQuiet) {
  FeatureVector short_history = ordinaryPayment();
  set(short_history, Feature::history_count, 9.0f);
  set(short_history, Feature::amount_zscore, 50.0f);
  EXPECT_FALSE(fires("amount_far_above_normal", short_history));

  FeatureVector within_range = ordinaryPayment();
  set(within_range, Feature::amount_zscore, 6.0f);
  EXPECT_FALSE(fires("amount_far_above_normal", within_range));
}

TEST_F(DefaultRules, PaysimAccountDrainFires) {
  for (const char* category : {"TRANSFER", "CASH_OUT"}) {
    FeatureVector features = paysimTransfer();
    set(features, Feature::category_code, static_cast<float>(categoryCode(category)));
    set(features, Feature::amount, 500000.0f);
    set(features, Feature::drains_balance, 1.0f);
    EXPECT_TRUE(fires("paysim_account_drain", features)) << category;

    const RuleEvaluation out = evaluate(features);
    EXPECT_EQ(out.action, Action::kAllow) << category;
    EXPECT_GT(out.score, 0.0) << category;
    EXPECT_LT(out.score, 0.5) << category;
  }
}

TEST_F(DefaultRules, PaysimAccountDrainQuiet) {
  FeatureVector payment = paysimTransfer();
  set(payment, Feature::category_code, static_cast<float>(categoryCode("PAYMENT")));
  set(payment, Feature::drains_balance, 1.0f);
  EXPECT_FALSE(fires("paysim_account_drain", payment));

  FeatureVector partial = paysimTransfer();
  EXPECT_FALSE(fires("paysim_account_drain", partial));

  FeatureVector zero_amount = paysimTransfer();
  set(zero_amount, Feature::drains_balance, 1.0f);
  set(zero_amount, Feature::amount, 0.0f);
  EXPECT_FALSE(fires("paysim_account_drain", zero_amount));
}

TEST_F(DefaultRules, LargeAmountNewCounterpartyFires) {
  FeatureVector features = ordinaryPayment();
  set(features, Feature::new_counterparty, 1.0f);
  set(features, Feature::amount, 1000.0f);
  set(features, Feature::amount_to_mean, 1000.0f / 45.0f);
  EXPECT_TRUE(fires("large_amount_new_counterparty", features));
  EXPECT_EQ(evaluate(features).action, Action::kReview);
}

TEST_F(DefaultRules, LargeAmountNewCounterpartyQuiet) {
  FeatureVector known_payee = ordinaryPayment();
  set(known_payee, Feature::amount, 5000.0f);
  set(known_payee, Feature::amount_to_mean, 5000.0f / 45.0f);
  EXPECT_FALSE(fires("large_amount_new_counterparty", known_payee));

  FeatureVector small = ordinaryPayment();
  set(small, Feature::new_counterparty, 1.0f);
  set(small, Feature::amount, 999.0f);
  set(small, Feature::amount_to_mean, 999.0f / 45.0f);
  EXPECT_FALSE(fires("large_amount_new_counterparty", small));

  // Large for most accounts, but usual for this one.
  FeatureVector usual = ordinaryPayment();
  set(usual, Feature::new_counterparty, 1.0f);
  set(usual, Feature::amount, 20000.0f);
  set(usual, Feature::amount_to_mean, 2.0f);
  EXPECT_FALSE(fires("large_amount_new_counterparty", usual));

  // First transaction of an account: no mean to compare with.
  EXPECT_FALSE(fires("large_amount_new_counterparty", paysimTransfer()));
}

TEST_F(DefaultRules, EveryReasonRenders) {
  const FeatureVector features = ordinaryPayment();
  for (std::size_t i = 0; i < rules_->size(); ++i) {
    EXPECT_FALSE(rules_->renderReason(i, features).empty()) << rules_->rule(i).name;
  }
}

}  // namespace
}  // namespace txguard
