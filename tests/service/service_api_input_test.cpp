// Bad input on the HTTP API: each request gets its documented 4xx status
// and a JSON body with `error`, never a 5xx, nothing of a rejected request
// is published, and the api stays healthy. Also /readyz with Redis down and
// 429 while the broker blocks publishers. docs/api.md lists the same table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service_harness.h"

namespace txguard::service_test {
namespace {

struct BadRequest {
  std::string name;
  std::string method;
  std::string path;
  std::string content_type;
  std::string body;
  int status;
};

const std::string kGoodAcme =
    R"({"transaction_id":"in-ok","account_number":"2962","value":10.5,"state":"RJ","date":"2024-03-01 10:15:00"})";

std::string acmeWith(const std::string& fields) {
  return R"({"transaction_id":"in-1","account_number":"2962",)" + fields + "}";
}

std::vector<BadRequest> badRequests(std::uint64_t max_body_bytes) {
  const std::string json = "application/json";
  const std::string ndjson = "application/x-ndjson";
  std::string huge;
  while (huge.size() <= max_body_bytes) huge += kGoodAcme + "\n";

  return {
      {"malformed JSON", "POST", "/v1/transactions", json,
       R"({"transaction_id": "in-1", "value": )", 400},
      {"malformed JSON Lines", "POST", "/v1/transactions", ndjson,
       kGoodAcme + "\n{\"transaction_id\": \n", 400},
      {"amount is a string", "POST", "/v1/transactions", json,
       acmeWith(R"("value":"ten","state":"RJ","date":"2024-03-01 10:15:00")"), 400},
      {"account is an object", "POST", "/v1/transactions", json,
       R"({"transaction_id":"in-1","account_number":{"n":1},"value":1,"date":"2024-03-01 10:15:00"})",
       400},
      {"canonical amount is a string", "POST", "/v1/transactions", ndjson,
       R"({"id":"in-1","account":"a","timestamp":"2024-03-01T10:00:00Z","amount":"12"})", 400},
      {"missing date", "POST", "/v1/transactions", json, acmeWith(R"("value":1.0)"), 400},
      {"missing account", "POST", "/v1/transactions", ndjson,
       R"({"id":"in-1","timestamp":"2024-03-01T10:00:00Z","amount":1})", 400},
      {"unknown field", "POST", "/v1/transactions", json,
       acmeWith(R"("value":1,"date":"2024-03-01 10:15:00","colour":"red")"), 400},
      {"body over TXGUARD_MAX_BODY_BYTES", "POST", "/v1/transactions", ndjson, huge, 413},
      {"invalid UTF-8", "POST", "/v1/transactions", json,
       acmeWith("\"value\":1,\"state\":\"R\xff\xfe\",\"date\":\"2024-03-01 10:15:00\""), 400},
      {"negative amount", "POST", "/v1/transactions", json,
       acmeWith(R"("value":-5,"date":"2024-03-01 10:15:00")"), 400},
      {"absurd amount", "POST", "/v1/transactions", json,
       acmeWith(R"("value":1e15,"date":"2024-03-01 10:15:00")"), 400},
      {"date in the future", "POST", "/v1/transactions", json,
       acmeWith(R"("value":1,"date":"2099-01-01 00:00:00")"), 400},
      {"impossible date", "POST", "/v1/transactions", json,
       acmeWith(R"("value":1,"date":"2024-02-30 10:00:00")"), 400},
      {"text/plain", "POST", "/v1/transactions", "text/plain", kGoodAcme, 415},
      {"no Content-Type", "POST", "/v1/transactions", "", kGoodAcme, 415},
      {"empty body", "POST", "/v1/transactions", json, "", 400},
      {"blank body", "POST", "/v1/transactions", ndjson, "\n  \n", 400},
      {"empty array", "POST", "/v1/transactions", json, "[]", 400},
      {"top-level number", "POST", "/v1/transactions", json, "42", 400},
      {"one bad item among good ones", "POST", "/v1/transactions", json,
       "[" + kGoodAcme + "," + acmeWith(R"("value":-1,"date":"2024-03-01 10:15:00")") + "]", 400},
      {"account and card_number", "POST", "/v1/transactions", ndjson,
       R"({"id":"in-1","account":"a","card_number":"4111111111111111","timestamp":"2024-03-01T10:00:00Z","amount":1})",
       400},
      {"card number fails Luhn", "POST", "/v1/transactions", ndjson,
       R"({"id":"in-1","card_number":"4111111111111112","timestamp":"2024-03-01T10:00:00Z","amount":1})",
       400},
      {"score with two transactions", "POST", "/v1/score", json,
       "[" + kGoodAcme + "," + kGoodAcme + "]", 400},
      {"score with empty body", "POST", "/v1/score", json, "", 400},
      {"score with text/plain", "POST", "/v1/score", "text/plain", kGoodAcme, 415},
      {"unknown decision", "GET", "/v1/transactions/unknown", "", "", 404},
      {"unknown report", "GET", "/v1/reports/unknown", "", "", 404},
      {"alerts limit 0", "GET", "/v1/alerts?limit=0", "", "", 400},
      {"alerts limit 501", "GET", "/v1/alerts?limit=501", "", "", 400},
      {"alerts limit not a number", "GET", "/v1/alerts?limit=ten", "", "", 400},
      {"alerts negative offset", "GET", "/v1/alerts?offset=-1", "", "", 400},
      {"unknown route", "GET", "/v1/nothing", "", "", 404},
  };
}

class ServiceApiInputTest : public ServiceTest {};

TEST_F(ServiceApiInputTest, BadRequestsGetDocumentedStatus) {
  startApi();
  for (const BadRequest& request : badRequests(1 << 20)) {
    SCOPED_TRACE(request.name);
    const HttpReply reply =
        httpRequest(api_port_, request.method, request.path, request.body, request.content_type);
    EXPECT_EQ(reply.status, request.status) << request.name << ": " << reply.body;
    EXPECT_LT(reply.status, 500) << request.name;
    const nlohmann::json body = reply.json();
    ASSERT_TRUE(body.is_object()) << request.name << ": body is not a JSON object: " << reply.body;
    ASSERT_TRUE(body.contains("error")) << reply.body;
    EXPECT_TRUE(body["error"].is_string()) << reply.body;
    if (request.status == 400 && request.path == "/v1/transactions" &&
        request.body.find("in-1") != std::string::npos && request.name != "invalid UTF-8") {
      // Item-level problems name the item and the reason.
      ASSERT_TRUE(body.contains("rejects")) << reply.body;
      ASSERT_TRUE(body["rejects"].is_array()) << reply.body;
      ASSERT_FALSE(body["rejects"].empty()) << reply.body;
      EXPECT_TRUE(body["rejects"][0].contains("reason")) << reply.body;
    }
  }

  // Nothing of any rejected request reached the queue (no worker runs, so
  // a published message would still be there).
  AmqpConnection connection(amqp_);
  connection.consume(QueueTopology{}.transactions_queue);
  const auto published = drainMessages(connection, 2000ms, 2000ms);
  EXPECT_TRUE(published.empty()) << published.size() << " messages published, first "
                                 << published.front().message_id;

  EXPECT_EQ(apiGet("/healthz").status, 200);
  const HttpReply ready = apiGet("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;

  // A good request still works after all of them.
  const HttpReply accepted = apiPost("/v1/transactions", kGoodAcme);
  EXPECT_EQ(accepted.status, 202) << accepted.body;
}

TEST_F(ServiceApiInputTest, ScoreTwiceIsIdempotent) {
  startApi();
  const HttpReply first = apiPost("/v1/score", kGoodAcme);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(first.json().contains("duplicate")) << first.body;
  const HttpReply second = apiPost("/v1/score", kGoodAcme);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json().value("duplicate", false), true) << second.body;
  EXPECT_EQ(second.json()["score"], first.json()["score"]);
  EXPECT_EQ(decidedCount(), 1u);

  const HttpReply stored = apiGet("/v1/transactions/in-ok");
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(stored.json()["action"], first.json()["action"]);
}

TEST_F(ServiceApiInputTest, ReadyzNamesRedisWhileItIsDown) {
  startApi();
  HttpReply ready;
  ASSERT_TRUE(waitUntil(
      [&] {
        ready = apiGet("/readyz");
        return ready.status == 200;
      },
      30s))
      << ready.body;
  EXPECT_EQ(ready.json().value("ready", false), true) << ready.body;

  stackCommand("stop-redis");
  const bool unready = waitUntil(
      [&] {
        ready = apiGet("/readyz");
        return ready.status == 503;
      },
      60s, 500ms);
  stackCommand("start-redis");
  ASSERT_TRUE(unready) << "last /readyz: " << ready.status << " " << ready.body;
  const nlohmann::json body = ready.json();
  EXPECT_EQ(body.value("ready", true), false) << ready.body;
  EXPECT_TRUE(body["problems"].contains("redis")) << ready.body;
  EXPECT_FALSE(body["problems"].contains("rabbitmq")) << ready.body;

  EXPECT_TRUE(waitUntil([&] { return apiGet("/readyz").status == 200; }, 60s, 500ms))
      << "the api did not become ready again after Redis came back";
  EXPECT_EQ(apiGet("/healthz").status, 200);
}

TEST_F(ServiceApiInputTest, BlockedBrokerGives429WithRetryAfter) {
  startApi();
  ASSERT_EQ(apiPost("/v1/transactions", kGoodAcme).status, 202);

  // A watermark this low raises RabbitMQ's memory alarm at once, and the
  // broker blocks every publishing connection until it is raised again.
  stackCommand("rabbitmqctl", "set_vm_memory_high_watermark 0.0000001");
  HttpReply blocked;
  const bool got_429 = waitUntil(
      [&] {
        blocked = apiPost(
            "/v1/transactions",
            R"({"transaction_id":"in-blocked","account_number":"1","value":1,"date":"2024-03-01 10:15:00"})");
        return blocked.status == 429;
      },
      30s, 500ms);
  stackCommand("rabbitmqctl", "set_vm_memory_high_watermark 0.4");
  ASSERT_TRUE(got_429) << "last answer " << blocked.status << " " << blocked.body;
  EXPECT_EQ(blocked.headers.count("Retry-After"), 1u);
  EXPECT_TRUE(blocked.json().contains("error")) << blocked.body;

  HttpReply after;
  EXPECT_TRUE(waitUntil(
      [&] {
        after = apiPost(
            "/v1/transactions",
            R"({"transaction_id":"in-after","account_number":"1","value":1,"date":"2024-03-01 10:15:00"})");
        return after.status == 202;
      },
      60s, 500ms))
      << "publishing did not resume after the alarm cleared: " << after.status << " " << after.body;
}

}  // namespace
}  // namespace txguard::service_test
