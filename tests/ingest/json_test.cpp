#include <gtest/gtest.h>

#include <string>

#include "common/pan.h"
#include "ingest/input_source.h"
#include "test_files.h"

namespace txguard {
namespace {

using testing::kTestPanKey;
using testing::readText;

// 2024-03-01T10:15:00Z, from Python's datetime.
constexpr std::int64_t k20240301T101500 = 1709288100000;

std::string reasonsOf(const std::vector<RejectedRow>& rejects) {
  std::string all;
  for (const RejectedRow& row : rejects) all += std::to_string(row.line) + ": " + row.reason + "\n";
  return all;
}

TEST(AcmeJson, ReadsPrettyPrintedArray) {
  const auto result = readText(R"([
  {
    "transaction_id": "t-1",
    "account_number": "2962",
    "value": 2232.39,
    "state": "RJ",
    "date": "2024-03-01 10:15:00.000000"
  },
  {"transaction_id": 42, "account_number": 2963, "value": 0, "country": "BR",
   "date": "2024-03-01 10:15:00.5", "unknown_key": {"nested": [1, 2, "]"]}}
]
)");
  EXPECT_EQ(result.format, InputFormat::kAcmeJson);
  ASSERT_EQ(result.transactions.size(), 2U) << reasonsOf(result.rejects);
  const Transaction& first = result.transactions[0];
  EXPECT_EQ(first.id, "t-1");
  EXPECT_EQ(first.account, "2962");
  EXPECT_EQ(first.account_display, "2962");
  EXPECT_DOUBLE_EQ(first.amount, 2232.39);
  EXPECT_EQ(first.location, "RJ");
  EXPECT_EQ(first.timestamp_ms, k20240301T101500);
  EXPECT_EQ(first.source_line, 2U);
  EXPECT_EQ(first.label, Label::kUnknown);

  const Transaction& second = result.transactions[1];
  EXPECT_EQ(second.id, "42");
  EXPECT_EQ(second.account, "2963");
  EXPECT_EQ(second.location, "BR");
  EXPECT_EQ(second.timestamp_ms, k20240301T101500 + 500);
  EXPECT_EQ(second.source_line, 9U);
}

TEST(AcmeJson, ReadsOneObjectPerLine) {
  const auto result = readText(
      "{\"transaction_id\": \"a\", \"account_number\": \"1\", \"value\": 1.5, \"state\": \"SP\", "
      "\"date\": \"2024-03-01 10:15:00\"}\n"
      "\n"
      "{\"transaction_id\": \"b\", \"account_number\": \"1\", \"value\": 2, \"date\": "
      "\"2024-03-01 10:15:01\"}");
  EXPECT_EQ(result.format, InputFormat::kAcmeJson);
  ASSERT_EQ(result.transactions.size(), 2U) << reasonsOf(result.rejects);
  EXPECT_EQ(result.transactions[1].source_line, 3U);
  EXPECT_EQ(result.transactions[1].timestamp_ms, k20240301T101500 + 1000);
  EXPECT_TRUE(result.transactions[1].location.empty());
}

struct BadJsonCase {
  std::string line;
  std::string reason_part;
};

TEST(AcmeJson, RejectsEachBadRowKind) {
  const std::string valid =
      R"({"transaction_id": "ok", "account_number": "1", "value": 1, "date": "2024-03-01 10:15:00"})";
  const std::vector<BadJsonCase> cases = {
      {R"({"transaction_id": "x", "account_number": "1", "value": 1, "date": )", "invalid JSON"},
      {"not json at all", "invalid JSON"},
      {R"(["transaction_id", "x"])", "wrong JSON type: expected an object, found array"},
      {R"({"transaction_id": "x", "account_number": "1", "value": "12.5", "date": "2024-03-01 10:15:00"})",
       "wrong JSON type: value must be a number, found string"},
      {R"({"transaction_id": "x", "account_number": ["1"], "value": 1, "date": "2024-03-01 10:15:00"})",
       "wrong JSON type: account_number must be a string, found array"},
      {R"({"transaction_id": "x", "account_number": "1", "value": -3, "date": "2024-03-01 10:15:00"})",
       "negative amount in value: '-3'"},
      {R"({"transaction_id": "x", "account_number": "1", "value": 1, "date": "2024-03-32 10:15:00"})",
       "bad date in date: '2024-03-32 10:15:00'"},
      {R"({"transaction_id": "x", "account_number": "1", "value": 1, "date": "01/03/2024"})",
       "bad date in date"},
      {R"({"transaction_id": "x", "account_number": "1", "value": 1})",
       "missing required field date"},
      {R"({"account_number": "1", "value": 1, "date": "2024-03-01 10:15:00"})",
       "missing required field transaction_id"},
      {R"({"transaction_id": "x", "account_number": "1", "value": null, "date": "2024-03-01 10:15:00"})",
       "missing required field value"},
      {R"({"transaction_id": "x", "account_number": "1", "value": 1, "date": "2024-03-01 10:15:00"} {"a": 1})",
       "text after the object"},
  };
  std::string text = valid + "\n";
  for (const BadJsonCase& bad : cases) text += bad.line + "\n";
  text += valid + "\n";

  ReaderOptions options;
  options.format = InputFormat::kAcmeJson;
  const auto result = readText(text, options);
  ASSERT_EQ(result.transactions.size(), 2U) << reasonsOf(result.rejects);
  EXPECT_EQ(result.transactions[1].source_line, cases.size() + 2);
  ASSERT_EQ(result.rejects.size(), cases.size()) << reasonsOf(result.rejects);
  EXPECT_EQ(result.rows_rejected, cases.size());
  EXPECT_EQ(result.rows_read, cases.size() + 2);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].line);
    EXPECT_EQ(result.rejects[i].line, i + 2);
    EXPECT_NE(result.rejects[i].reason.find(cases[i].reason_part), std::string::npos)
        << result.rejects[i].reason;
    EXPECT_EQ(result.rejects[i].raw, cases[i].line);
  }
}

TEST(AcmeJson, RejectsArraySyntaxProblems) {
  const std::string object =
      R"({"transaction_id": "a", "account_number": "1", "value": 1, "date": "2024-03-01 10:15:00"})";
  const auto trailing = readText("[" + object + ",\n" + object + ",\n]");
  EXPECT_EQ(trailing.transactions.size(), 2U);
  ASSERT_EQ(trailing.rejects.size(), 1U);
  EXPECT_NE(trailing.rejects[0].reason.find("trailing comma"), std::string::npos);
  EXPECT_EQ(trailing.rejects[0].line, 3U);

  const auto empty_element = readText("[" + object + ",,\n" + object + "]");
  EXPECT_EQ(empty_element.transactions.size(), 2U);
  ASSERT_EQ(empty_element.rejects.size(), 1U);
  EXPECT_NE(empty_element.rejects[0].reason.find("empty array element"), std::string::npos);

  const auto truncated = readText("[" + object + ",\n" + object.substr(0, 30));
  EXPECT_EQ(truncated.transactions.size(), 1U);
  ASSERT_EQ(truncated.rejects.size(), 1U);
  EXPECT_NE(truncated.rejects[0].reason.find("not closed"), std::string::npos);
  EXPECT_EQ(truncated.rejects[0].line, 2U);

  const auto after = readText("[" + object + "]\n[1]");
  EXPECT_EQ(after.transactions.size(), 1U);
  ASSERT_EQ(after.rejects.size(), 1U);
  EXPECT_NE(after.rejects[0].reason.find("text after the end"), std::string::npos);
  EXPECT_EQ(after.rejects[0].line, 2U);

  const auto missing_comma = readText("[" + object + "\n" + object + "]");
  EXPECT_EQ(missing_comma.transactions.size(), 1U);
  ASSERT_EQ(missing_comma.rejects.size(), 1U);
  EXPECT_NE(missing_comma.rejects[0].reason.find("expected ',' or ']'"), std::string::npos);

  const auto scalar = readText("[" + object + ", 5]");
  EXPECT_EQ(scalar.transactions.size(), 1U);
  ASSERT_EQ(scalar.rejects.size(), 1U);
  EXPECT_NE(scalar.rejects[0].reason.find("expected an object, found number"), std::string::npos);

  const auto empty = readText("[ ]");
  EXPECT_TRUE(empty.transactions.empty());
  EXPECT_TRUE(empty.rejects.empty());
}

// A large array, so elements cross the 1 MiB read boundary.
TEST(AcmeJson, ReadsArrayAcrossChunkBoundaries) {
  std::string text = "[\n";
  std::size_t count = 0;
  while (text.size() < 2 * kChunkBytes + 1000) {
    if (count > 0) text += ",\n";
    text += R"({"transaction_id": "id-)" + std::to_string(count) +
            R"(", "account_number": "7", "value": )" + std::to_string(count) +
            R"(, "state": "with \"quotes\" and ] and }", "date": "2024-03-01 10:15:00"})";
    ++count;
  }
  text += "\n]\n";
  const auto result = readText(text);
  ASSERT_EQ(result.transactions.size(), count) << reasonsOf(result.rejects);
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_EQ(result.transactions[i].id, "id-" + std::to_string(i));
    ASSERT_DOUBLE_EQ(result.transactions[i].amount, static_cast<double>(i));
    ASSERT_EQ(result.transactions[i].source_line, i + 2);
  }
  EXPECT_EQ(result.transactions[0].location, "with \"quotes\" and ] and }");
}

TEST(CanonicalJson, ReadsEveryField) {
  const auto result = readText(
      R"({"id": "c-1", "account": "acc-9", "timestamp": "2024-03-01T07:15:00-03:00", )"
      R"("amount": 12.5, "currency": "brl", "location": "RJ", "latitude": -22.9, )"
      R"("longitude": -43.2, "home_latitude": -23.5, "home_longitude": -46.6, )"
      R"("counterparty": "M1", "category": "grocery_pos", "balance_before": 100, )"
      R"("balance_after": 87.5, "counterparty_balance_before": 0, )"
      R"("counterparty_balance_after": 12.5, "label": 1})"
      "\n"
      R"({"id": "c-2", "card_number": "4111111111111111", "timestamp": "2024-03-01T10:15:00Z", "amount": 1, "label": false})"
      "\n");
  EXPECT_EQ(result.format, InputFormat::kCanonicalJsonl);
  ASSERT_EQ(result.transactions.size(), 2U) << reasonsOf(result.rejects);
  const Transaction& first = result.transactions[0];
  EXPECT_EQ(first.id, "c-1");
  EXPECT_EQ(first.account, "acc-9");
  EXPECT_EQ(first.account_display, "acc-9");
  EXPECT_EQ(first.timestamp_ms, k20240301T101500);
  EXPECT_DOUBLE_EQ(first.amount, 12.5);
  EXPECT_EQ(first.currency, "BRL");
  EXPECT_EQ(first.location, "RJ");
  EXPECT_DOUBLE_EQ(first.latitude, -22.9);
  EXPECT_DOUBLE_EQ(first.longitude, -43.2);
  EXPECT_DOUBLE_EQ(first.home_latitude, -23.5);
  EXPECT_DOUBLE_EQ(first.home_longitude, -46.6);
  EXPECT_EQ(first.counterparty, "M1");
  EXPECT_EQ(first.category, "grocery_pos");
  EXPECT_DOUBLE_EQ(first.balance_before, 100);
  EXPECT_DOUBLE_EQ(first.balance_after, 87.5);
  EXPECT_DOUBLE_EQ(first.counterparty_balance_before, 0);
  EXPECT_DOUBLE_EQ(first.counterparty_balance_after, 12.5);
  EXPECT_EQ(first.label, Label::kFraud);

  const Transaction& second = result.transactions[1];
  EXPECT_EQ(second.account, accountKeyForPan("4111111111111111", kTestPanKey));
  EXPECT_EQ(second.account_display, "411111******1111");
  EXPECT_EQ(second.label, Label::kLegitimate);
  EXPECT_FALSE(isPresent(second.latitude));
}

TEST(CanonicalJson, RejectsEachBadRowKind) {
  const std::vector<BadJsonCase> cases = {
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01 10:15:00", "amount": 1})",
       "bad date in timestamp"},
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1, "label": 2})",
       "bad label in label: '2'"},
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1, "label": "1"})",
       "wrong JSON type: label must be 0, 1, true or false, found string"},
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1, "latitude": 91})",
       "out-of-range coordinate in latitude"},
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1, "currency": "EURO"})",
       "bad currency in currency: 'EURO'"},
      {R"({"id": "x", "account": "a", "card_number": "4111111111111111", "timestamp": "2024-03-01T10:15:00Z", "amount": 1})",
       "both account and card_number are set"},
      {R"({"id": "x", "card_number": "4111111111111112", "timestamp": "2024-03-01T10:15:00Z", "amount": 1})",
       "bad card number in card_number: '411111******1112' (fails the Luhn check)"},
      {R"({"id": "x", "timestamp": "2024-03-01T10:15:00Z", "amount": 1})",
       "missing required field account (or card_number)"},
      {R"({"id": "", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1})",
       "missing required field id"},
      {R"({"id": "x", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1e999})",
       "unparseable number in amount"},
      {R"("just a string")", "wrong JSON type: expected an object, found string"},
  };
  std::string text;
  for (const BadJsonCase& bad : cases) text += bad.line + "\n";
  ReaderOptions options;
  options.format = InputFormat::kCanonicalJsonl;
  const auto result = readText(text, options);
  EXPECT_TRUE(result.transactions.empty());
  ASSERT_EQ(result.rejects.size(), cases.size()) << reasonsOf(result.rejects);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].line);
    EXPECT_EQ(result.rejects[i].line, i + 1);
    EXPECT_NE(result.rejects[i].reason.find(cases[i].reason_part), std::string::npos)
        << result.rejects[i].reason;
  }
  // Card numbers never reach a reject in full, valid or not.
  EXPECT_EQ(result.rejects[5].raw.find("4111111111111111"), std::string::npos);
  EXPECT_NE(result.rejects[5].raw.find("411111******1111"), std::string::npos);
  EXPECT_EQ(result.rejects[6].raw.find("4111111111111112"), std::string::npos);
}

TEST(ParseJsonDocument, ReadsSingleMultilineObject) {
  ReaderOptions options;
  const auto document = parseJsonDocument(R"({
  "transaction_id": "t-1",
  "account_number": "2962",
  "value": 2232.39,
  "state": "RJ",
  "date": "2024-03-01 10:15:00.000000"
})",
                                          options);
  EXPECT_EQ(document.format, InputFormat::kAcmeJson);
  ASSERT_EQ(document.transactions.size(), 1U);
  EXPECT_EQ(document.transactions[0].id, "t-1");
  EXPECT_TRUE(document.rejects.empty());
}

TEST(ParseJsonDocument, ReadsArrayAndLines) {
  ReaderOptions options;
  options.pan_hash_key = std::string(kTestPanKey);
  const auto array = parseJsonDocument(
      R"([{"id": "1", "account": "a", "timestamp": "2024-03-01T10:15:00Z", "amount": 1},)"
      R"( {"id": "2", "account": "a", "timestamp": "bad", "amount": 1}])",
      options);
  EXPECT_EQ(array.format, InputFormat::kCanonicalJsonl);
  ASSERT_EQ(array.transactions.size(), 1U);
  ASSERT_EQ(array.rejects.size(), 1U);
  EXPECT_NE(array.rejects[0].reason.find("bad date in timestamp"), std::string::npos);

  const auto lines = parseJsonDocument(
      "{\"id\": \"1\", \"account\": \"a\", \"timestamp\": \"2024-03-01T10:15:00Z\", \"amount\": "
      "1}\n{\"id\": \"2\", \"card_number\": \"4111111111111111\", \"timestamp\": "
      "\"2024-03-01T10:15:00Z\", \"amount\": 2}\n",
      options);
  ASSERT_EQ(lines.transactions.size(), 2U);
  EXPECT_EQ(lines.transactions[1].account_display, "411111******1111");
}

TEST(ParseJsonDocument, RejectsNonJsonBodies) {
  ReaderOptions options;
  EXPECT_THROW(parseJsonDocument("", options), IngestError);
  EXPECT_THROW(parseJsonDocument("  \n ", options), IngestError);
  EXPECT_THROW(parseJsonDocument("step,type\n1,2", options), IngestError);
  EXPECT_THROW(parseJsonDocument(R"({"foo": 1, "bar": 2})", options), IngestError);
  options.format = InputFormat::kPaysimCsv;
  EXPECT_THROW(parseJsonDocument(R"({"id": "1"})", options), IngestError);
}

TEST(ParseJsonDocument, AppliesMaxRejects) {
  ReaderOptions options;
  options.format = InputFormat::kCanonicalJsonl;
  options.max_rejects = 1;
  EXPECT_THROW(parseJsonDocument("{}\n{}\n", options), IngestError);
  options.max_rejects = 2;
  EXPECT_EQ(parseJsonDocument("{}\n{}\n", options).rejects.size(), 2U);
}

}  // namespace
}  // namespace txguard
