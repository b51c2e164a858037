// The earlier ACME system's rule, end to end through the txguard binary, on
// the hand-checked sample in data/acme (its README works out each row).
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace txguard::testing {
namespace {

const std::set<std::string> kExpectedFlags = {"tx-2962-02", "tx-2962-04", "tx-1001-03",
                                              "tx-3003-02", "tx-3003-03", "tx-3003-05"};

std::set<std::string> idsFiredBy(const std::vector<nlohmann::json>& decisions,
                                 const std::string& rule) {
  std::set<std::string> ids;
  for (const auto& decision : decisions) {
    for (const auto& reason : decision["reasons"]) {
      if (reason["kind"] == "rule" && reason["name"] == rule) {
        ids.insert(decision["transaction_id"].get<std::string>());
      }
    }
  }
  return ids;
}

class AcmeRuleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AcmeRuleTest, FlagsExactlyTheHandCheckedRows) {
  TempDir dir;
  const CliResult result =
      runTxguard(dir.path(), {"score", sourcePath(GetParam()), "--out-dir", "out", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const auto decisions = readJsonLines(dir.path() / "out/decisions.jsonl");
  ASSERT_EQ(decisions.size(), 15u);
  EXPECT_EQ(idsFiredBy(decisions, "acme_location_change_within_hour"), kExpectedFlags);

  for (const auto& decision : decisions) {
    const std::string id = decision["transaction_id"];
    const bool flagged = kExpectedFlags.count(id) > 0;
    EXPECT_EQ(decision["action"], flagged ? "block" : "allow") << id;
    EXPECT_EQ(decision.value("excluded_from_history", false), flagged) << id;
  }
}

TEST_P(AcmeRuleTest, WritesOneReportPerFlaggedRow) {
  TempDir dir;
  const CliResult result =
      runTxguard(dir.path(), {"score", sourcePath(GetParam()), "--out-dir", "out", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  std::set<std::string> reported;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir.path() / "out/reports")) {
    if (entry.is_regular_file()) reported.insert(entry.path().stem().string());
  }
  EXPECT_EQ(reported, kExpectedFlags);

  // The report contains what the earlier system's did: account, both
  // transactions, both states and the time between them.
  const std::string report = readFile(dir.path() / "out/reports/2024/03/01/tx-2962-04.txt");
  EXPECT_NE(report.find("Account:        2962"), std::string::npos) << report;
  EXPECT_NE(report.find("tx-2962-03"), std::string::npos) << report;
  EXPECT_NE(report.find("RJ -> SP"), std::string::npos) << report;
  EXPECT_NE(report.find("(3599 s)"), std::string::npos) << report;
  EXPECT_NE(report.find("acme_location_change_within_hour"), std::string::npos) << report;
}

// The PaySim model was trained on rows that always have balances; ACME rows
// have none, so the model must stay out and the rule alone decides.
TEST(AcmeRuleWithModel, ModelSkipsRowsUnlikeItsTraining) {
  TempDir dir;
  const CliResult result =
      runTxguard(dir.path(), {"score", sourcePath("data/acme/transactions.json"), "--model",
                              "paysim", "--out-dir", "out", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const auto decisions = readJsonLines(dir.path() / "out/decisions.jsonl");
  ASSERT_EQ(decisions.size(), 15u);
  for (const auto& decision : decisions) {
    const std::string id = decision["transaction_id"];
    EXPECT_TRUE(decision["model_score"].is_null()) << id;
    EXPECT_EQ(decision["model_version"], "") << id;
    EXPECT_EQ(decision["action"], kExpectedFlags.count(id) > 0 ? "block" : "allow") << id;
  }
}

INSTANTIATE_TEST_SUITE_P(BothSpellings, AcmeRuleTest,
                         ::testing::Values("data/acme/transactions.json",
                                           "data/acme/transactions_country.jsonl"));

}  // namespace
}  // namespace txguard::testing
