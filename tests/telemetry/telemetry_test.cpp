#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace txguard {
namespace {

TEST(LogLine, IsOneJsonObject) {
  const std::string line = log::formatLine(log::Level::kWarn, "worker", "redis \"down\"\n",
                                           {{"transaction_id", "tx-1"}, {"attempt", "3"}}, 0);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["level"], "warn");
  EXPECT_EQ(json["component"], "worker");
  EXPECT_EQ(json["message"], "redis \"down\"\n");
  EXPECT_EQ(json["transaction_id"], "tx-1");
  EXPECT_EQ(json["attempt"], "3");
  EXPECT_FALSE(json.contains("suppressed"));
}

TEST(LogLine, MasksCardNumbers) {
  const std::string line = log::formatLine(log::Level::kError, "api",
                                           "bad row with card 2291163933867244",
                                           {{"raw", "4111111111111111,12.00"}}, 0);
  EXPECT_EQ(line.find("2291163933867244"), std::string::npos) << line;
  EXPECT_EQ(line.find("4111111111111111"), std::string::npos) << line;
  EXPECT_NE(line.find("229116"), std::string::npos) << line;
}

TEST(LogLine, CarriesSuppressedCount) {
  const auto json =
      nlohmann::json::parse(log::formatLine(log::Level::kInfo, "api", "retry", {}, 41));
  EXPECT_EQ(json["suppressed"], 41);
}

TEST(Metrics, RendersTheNamedSeries) {
  Metrics metrics;
  metrics.decided(Action::kBlock).Increment();
  metrics.retries("redis").Increment(2);
  metrics.setModelInfo("paysim-1", "default+abc");
  metrics.setModelInfo("paysim-2", "default+abc");
  const std::string text = metrics.render();
  EXPECT_NE(text.find("txguard_transactions_decided_total{action=\"block\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("txguard_retries_total{dependency=\"redis\"} 2"), std::string::npos);
  EXPECT_NE(text.find("model_version=\"paysim-2\""), std::string::npos);
  EXPECT_EQ(text.find("model_version=\"paysim-1\""), std::string::npos);
  EXPECT_NE(text.find("txguard_ingest_to_decision_seconds_bucket"), std::string::npos);
}

}  // namespace
}  // namespace txguard
