// End-to-end flow of each input format through the running service:
// ingest -> decision (GET /v1/transactions/{id}) -> alert on txguard.alerts
// -> fraud report (GET /v1/reports/{id}, then the presigned link) ->
// archive object in S3.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "service_harness.h"

namespace txguard::service_test {
namespace {

// data/acme/README.md works these out by hand.
const std::set<std::string> kAcmeFlagged = {"tx-2962-02", "tx-2962-04", "tx-1001-03",
                                            "tx-3003-02", "tx-3003-03", "tx-3003-05"};
constexpr std::string_view kAcmeRule = "acme_location_change_within_hour";

// The hand-checked expectations are about the rules. A model trained on
// PaySim also reacts to the balances these rows lack, so these tests run
// without one.
const Environment kRulesOnly = {{"TXGUARD_MODEL_NAME", "none"}};

// Reports fetched per test: each is two requests plus a download, and the
// first few show that the path works.
constexpr std::size_t kReportsChecked = 12;

class ServiceFlowTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    alerts_ = std::make_unique<AlertListener>(amqp_);
  }

  // Waits until every id has a decision, then reads each one through
  // GET /v1/transactions/{id}.
  std::map<std::string, nlohmann::json> fetchDecisions(const std::vector<std::string>& ids) {
    const std::set<std::string> distinct(ids.begin(), ids.end());
    const std::uint64_t decided = waitDecided(distinct.size(), 120s);
    EXPECT_EQ(decided, distinct.size()) << "decisions committed (txg:stats:decided)";

    std::map<std::string, nlohmann::json> decisions;
    for (const std::string& id : distinct) {
      HttpReply reply;
      waitUntil(
          [&] {
            reply = apiGet("/v1/transactions/" + id);
            return reply.status == 200;
          },
          30s);
      EXPECT_EQ(reply.status, 200) << "GET /v1/transactions/" << id << ": " << reply.body;
      const nlohmann::json decision = reply.json();
      if (!decision.is_object()) continue;
      EXPECT_EQ(decision.value("transaction_id", ""), id);
      EXPECT_TRUE(decision.contains("score")) << reply.body;
      EXPECT_TRUE(decision.contains("rules_version")) << reply.body;
      const std::string action = decision.value("action", "");
      EXPECT_TRUE(action == "allow" || action == "review" || action == "block") << reply.body;
      decisions[id] = decision;
    }
    return decisions;
  }

  static std::set<std::string> flaggedIds(const std::map<std::string, nlohmann::json>& decisions) {
    std::set<std::string> flagged;
    for (const auto& [id, decision] : decisions) {
      if (decision.value("action", "allow") != "allow") flagged.insert(id);
    }
    return flagged;
  }

  // Every flagged id arrives on txguard.alerts with routing key
  // alert.<action> and message_id = transaction id; allowed ids never do.
  void checkAlerts(const std::map<std::string, nlohmann::json>& decisions) {
    const std::set<std::string> flagged = flaggedIds(decisions);
    const auto received = alerts_->collect(flagged, 60s);
    for (const std::string& id : flagged) {
      auto it = received.find(id);
      ASSERT_NE(it, received.end()) << "no alert for flagged transaction " << id;
      EXPECT_EQ(it->second, "alert." + decisions.at(id)["action"].get<std::string>()) << id;
      const nlohmann::json body = nlohmann::json::parse(alerts_->bodies().at(id), nullptr, false);
      EXPECT_EQ(body.value("transaction_id", ""), id);
    }
    for (const auto& [id, routing_key] : received) {
      EXPECT_TRUE(flagged.count(id))
          << "alert " << routing_key << " for allowed transaction " << id;
    }
  }

  // GET /v1/reports/{id} gives a presigned link (after 202 while the report
  // waits in the outbox); the downloaded report names the account and every
  // rule that fired. Returns the report bodies by id.
  std::map<std::string, std::string> checkReports(
      const std::map<std::string, nlohmann::json>& decisions) {
    std::map<std::string, std::string> reports;
    for (const std::string& id : flaggedIds(decisions)) {
      if (reports.size() >= kReportsChecked) break;
      const nlohmann::json& decision = decisions.at(id);
      EXPECT_TRUE(decision.contains("report_key")) << decision.dump();

      HttpReply reply;
      waitUntil(
          [&] {
            reply = apiGet("/v1/reports/" + id);
            return reply.status != 202;
          },
          60s, 300ms);
      EXPECT_EQ(reply.status, 200) << "GET /v1/reports/" << id << ": " << reply.body;
      const nlohmann::json link = reply.json();
      if (reply.status != 200 || !link.is_object()) continue;
      EXPECT_EQ(link.value("transaction_id", ""), id);
      EXPECT_EQ(link.value("report_key", ""), decision.value("report_key", ""));
      EXPECT_GT(link.value("expires_in_seconds", 0), 0);
      const std::string url = link.value("url", "");
      EXPECT_EQ(url.rfind(stackValue("TXGUARD_S3_ENDPOINT"), 0), 0u) << url;

      const HttpReply download = curlGet(url);
      EXPECT_EQ(download.status, 200) << url << ": " << download.body;
      EXPECT_NE(download.body.find("Account:        " + decision.value("account", "")),
                std::string::npos)
          << download.body;
      for (const auto& reason : decision["reasons"]) {
        if (reason.value("kind", "") != "rule") continue;
        const std::string line =
            "rule " + reason.value("name", "") + ": " + reason.value("text", "");
        EXPECT_NE(download.body.find(line), std::string::npos) << line << "\n" << download.body;
      }
      reports[id] = download.body;
    }

    for (const auto& [id, decision] : decisions) {
      if (decision.value("action", "") != "allow") continue;
      const HttpReply reply = apiGet("/v1/reports/" + id);
      EXPECT_EQ(reply.status, 404) << "allowed transaction " << id << ": " << reply.body;
      break;
    }
    return reports;
  }

  // Every decision reaches an archive/…/*.jsonl.gz object with the same
  // action. Returns the archived lines by id.
  std::map<std::string, nlohmann::json> checkArchive(
      const std::map<std::string, nlohmann::json>& decisions) {
    std::map<std::string, nlohmann::json> archived;
    std::size_t objects = 0;
    auto complete = [&] {
      archived = readArchive(&objects);
      for (const auto& [id, decision] : decisions) {
        if (!archived.count(id)) return false;
      }
      return true;
    };
    EXPECT_TRUE(waitUntil(complete, 60s, 500ms))
        << archived.size() << " of " << decisions.size() << " decisions in " << objects
        << " archive objects of bucket " << bucket_archive_ << "; last error: " << lastWaitError();
    for (const auto& [id, decision] : decisions) {
      auto it = archived.find(id);
      if (it == archived.end()) continue;
      EXPECT_EQ(it->second.value("action", ""), decision.value("action", "")) << id;
    }
    return archived;
  }

  // The whole path for `ids` after they were ingested.
  std::map<std::string, nlohmann::json> checkFlow(const std::vector<std::string>& ids) {
    auto decisions = fetchDecisions(ids);
    EXPECT_FALSE(flaggedIds(decisions).empty())
        << "no transaction was flagged, so alerts and reports went untested";
    checkAlerts(decisions);
    reports_ = checkReports(decisions);
    archived_ = checkArchive(decisions);
    return decisions;
  }

  void checkAcmeDecisions(const std::map<std::string, nlohmann::json>& decisions) {
    ASSERT_EQ(decisions.size(), 15u);
    EXPECT_EQ(flaggedIds(decisions), kAcmeFlagged);
    for (const std::string& id : kAcmeFlagged) {
      const nlohmann::json& decision = decisions.at(id);
      EXPECT_EQ(decision["action"], "block") << id;
      bool rule_fired = false;
      for (const auto& reason : decision["reasons"]) {
        rule_fired = rule_fired || reason.value("name", "") == kAcmeRule;
      }
      EXPECT_TRUE(rule_fired) << id << ": " << decision.dump();
    }
  }

  std::vector<std::string> acmeIds() {
    std::vector<std::string> ids;
    for (const Transaction& transaction :
         readTransactions(sourcePath("data/acme/transactions.json"), 0, "")) {
      ids.push_back(transaction.id);
    }
    return ids;
  }

  std::unique_ptr<AlertListener> alerts_;
  std::map<std::string, std::string> reports_;
  std::map<std::string, nlohmann::json> archived_;
};

TEST_F(ServiceFlowTest, AcmeJsonArray) {
  startApi(kRulesOnly);
  startWorker(kRulesOnly);

  const HttpReply reply =
      apiPost("/v1/transactions", readWholeFile(sourcePath("data/acme/transactions.json")));
  ASSERT_EQ(reply.status, 202) << reply.body;
  const nlohmann::json accepted = reply.json();
  EXPECT_EQ(accepted.value("accepted", 0), 15);
  const nlohmann::json ids = accepted.value("transaction_ids", nlohmann::json::array());
  ASSERT_EQ(ids.size(), 15u) << reply.body;
  EXPECT_EQ(ids[0], "tx-2962-01");

  checkAcmeDecisions(checkFlow(acmeIds()));
  EXPECT_EQ(reports_.size(), kAcmeFlagged.size());

  // Newest alerts first, as GET /v1/alerts documents.
  const HttpReply alerts = apiGet("/v1/alerts?limit=50");
  ASSERT_EQ(alerts.status, 200) << alerts.body;
  const nlohmann::json page = alerts.json();
  ASSERT_TRUE(page.contains("alerts")) << alerts.body;
  ASSERT_TRUE(page["alerts"].is_array()) << alerts.body;
  std::set<std::string> listed;
  for (const auto& alert : page["alerts"]) listed.insert(alert.value("transaction_id", ""));
  EXPECT_EQ(listed, kAcmeFlagged);
  ASSERT_FALSE(page["alerts"].empty());
  EXPECT_EQ(page["alerts"][0].value("transaction_id", ""), "tx-3003-05");
}

TEST_F(ServiceFlowTest, AcmeJsonLinesWithCountry) {
  startApi(kRulesOnly);
  startWorker(kRulesOnly);

  const HttpReply reply =
      apiPost("/v1/transactions", readWholeFile(sourcePath("data/acme/transactions_country.jsonl")),
              "application/x-ndjson");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.json().value("accepted", 0), 15);

  checkAcmeDecisions(checkFlow(acmeIds()));
}

TEST_F(ServiceFlowTest, CanonicalJsonLinesWithCardNumber) {
  startApi(kRulesOnly);
  startWorker(kRulesOnly);

  // canon-2 moves card 4111… from RJ to SP 20 minutes after canon-1, so the
  // ACME rule blocks it; the others are ordinary.
  const std::string card = "4111111111111111";
  const std::string body =
      R"({"id":"canon-1","card_number":"4111111111111111","timestamp":"2024-05-01T10:00:00Z","amount":25.0,"location":"RJ"})"
      "\n"
      R"({"id":"canon-2","card_number":"4111111111111111","timestamp":"2024-05-01T07:20:00-03:00","amount":30.0,"location":"SP"})"
      "\n"
      R"({"id":"canon-3","account":"acc-77","timestamp":"2024-05-01T11:00:00Z","amount":12.5,"currency":"brl","location":"RJ","counterparty":"M1979787155","category":"grocery_pos"})"
      "\r\n"
      R"({"id":"canon-4","card_number":"5500000000000004","timestamp":"2024-05-01T12:00:00.250Z","amount":10,"latitude":38.72,"longitude":-9.14})"
      "\n";
  const HttpReply reply = apiPost("/v1/transactions", body, "application/x-ndjson");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.json().value("accepted", 0), 4);

  const auto decisions = checkFlow({"canon-1", "canon-2", "canon-3", "canon-4"});
  ASSERT_EQ(decisions.size(), 4u);
  EXPECT_EQ(flaggedIds(decisions), std::set<std::string>{"canon-2"});
  EXPECT_EQ(decisions.at("canon-2").value("account", ""), "411111******1111");
  EXPECT_EQ(decisions.at("canon-4").value("account", ""), "550000******0004");
  EXPECT_EQ(decisions.at("canon-3").value("account", ""), "acc-77");
  EXPECT_EQ(decisions.at("canon-2").value("timestamp", ""), "2024-05-01T10:20:00.000Z");

  // The full card number is nowhere: decisions, report, archive.
  for (const auto& [id, decision] : decisions) {
    EXPECT_EQ(decision.dump().find(card), std::string::npos) << decision.dump();
  }
  ASSERT_EQ(reports_.count("canon-2"), 1u);
  EXPECT_EQ(reports_.at("canon-2").find(card), std::string::npos) << reports_.at("canon-2");
  EXPECT_NE(reports_.at("canon-2").find("411111******1111"), std::string::npos);
  for (const auto& [id, line] : archived_) {
    EXPECT_EQ(line.dump().find(card), std::string::npos) << line.dump();
  }
}

TEST_F(ServiceFlowTest, PaySimReplayToApi) {
  startApi();
  startWorker();

  // The first 400 rows hold 10 labelled frauds.
  constexpr std::size_t kRows = 400;
  const std::string file = sourcePath("data/paysim/paysim_sample.csv");
  ASSERT_EQ(runTxguard("replay", {"replay", file, "--to", "api", "--url", apiUrl(), "--limit",
                                  std::to_string(kRows), "--batch", "100"}),
            0);

  std::vector<std::string> ids;
  for (const Transaction& transaction : readTransactions(file, kRows, ""))
    ids.push_back(transaction.id);
  ASSERT_EQ(ids.size(), kRows);
  EXPECT_EQ(ids.front(), "paysim-2");

  const auto decisions = checkFlow(ids);
  ASSERT_EQ(decisions.size(), kRows);
  for (const auto& [id, decision] : decisions) {
    EXPECT_FALSE(decision.value("model_version", "").empty()) << decision.dump();
  }
}

// Sparkov rows carry card numbers: the queue message holds only the keyed
// hash and the masked number, so nothing downstream may show the number.
TEST_F(ServiceFlowTest, SparkovReplayToQueue) {
  startApi();
  startWorker({{"TXGUARD_MODEL_NAME", "sparkov"}});

  constexpr std::size_t kRows = 200;
  const std::string file = sourcePath("data/sparkov/fraudTest_sample_2020-06-21_to_2020-10-31.csv");
  replayToQueue(file, kRows);

  const auto transactions = readTransactions(file, kRows, stackValue("TXGUARD_PAN_HASH_KEY"));
  ASSERT_EQ(transactions.size(), kRows);
  std::vector<std::string> ids;
  for (const Transaction& transaction : transactions) ids.push_back(transaction.id);

  // The cc_num column of the same rows, read as text: it is the third field,
  // before any quoted one.
  std::set<std::string> cards;
  {
    std::istringstream csv(readWholeFile(file));
    std::string line;
    std::getline(csv, line);
    while (cards.size() < kRows && std::getline(csv, line)) {
      const auto first = line.find(',');
      const auto second = line.find(',', first + 1);
      const auto third = line.find(',', second + 1);
      cards.insert(line.substr(second + 1, third - second - 1));
    }
  }
  ASSERT_FALSE(cards.empty());

  // This trans_num holds a Luhn-valid 12-digit run (874743677377), which
  // must not be masked: the id names the decision, alert and archive line.
  ASSERT_NE(std::find(ids.begin(), ids.end(), "53aa4b874743677377f597d6e1cce16d"), ids.end());

  const auto decisions = checkFlow(ids);
  ASSERT_EQ(decisions.size(), kRows);
  const std::regex masked(R"(\d{6}\*+\d{4}|\*+\d{4})");
  for (const auto& [id, decision] : decisions) {
    EXPECT_TRUE(std::regex_match(decision.value("account", ""), masked)) << decision.dump();
  }
  auto leaks = [&](const std::string& text) {
    for (const std::string& card : cards) {
      if (text.find(card) != std::string::npos) return card;
    }
    return std::string();
  };
  for (const auto& [id, decision] : decisions) EXPECT_EQ(leaks(decision.dump()), "") << id;
  EXPECT_FALSE(reports_.empty());
  for (const auto& [id, report] : reports_) EXPECT_EQ(leaks(report), "") << report;
  for (const auto& [id, line] : archived_) EXPECT_EQ(leaks(line.dump()), "") << id;
  for (const auto& [id, body] : alerts_->bodies()) EXPECT_EQ(leaks(body), "") << id;
}

}  // namespace
}  // namespace txguard::service_test
