#include "http/request_validation.h"

#include <gtest/gtest.h>

namespace txguard {
namespace {

TEST(UnknownFields, NamesEachUnknownKey) {
  const auto problems = findUnknownFields(
      R"([{"transaction_id":"a","account_number":"1","value":1,"state":"SP","date":"x"},
          {"transaction_id":"b","colour":"red","size":3}])",
      InputFormat::kAcmeJson);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].item, 2u);
  EXPECT_EQ(problems[0].field, "colour");
  EXPECT_EQ(problems[1].field, "size");
}

TEST(UnknownFields, ReadsJsonLines) {
  const auto problems = findUnknownFields(
      "{\"id\":\"a\",\"account\":\"b\",\"timestamp\":\"t\",\"amount\":1}\n"
      "\n"
      "{\"id\":\"c\",\"acount\":\"d\"}\n",
      InputFormat::kCanonicalJsonl);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].item, 2u);
  EXPECT_EQ(problems[0].field, "acount");
}

TEST(UnknownFields, AcceptsEveryDocumentedCanonicalField) {
  const auto problems = findUnknownFields(
      R"({"id":"a","account":"b","timestamp":"t","amount":1,"currency":"BRL","location":"SP",
          "latitude":1,"longitude":2,"home_latitude":3,"home_longitude":4,"counterparty":"m",
          "category":"c","balance_before":1,"balance_after":0,
          "counterparty_balance_before":0,"counterparty_balance_after":1,"label":0})",
      InputFormat::kCanonicalJsonl);
  EXPECT_TRUE(problems.empty());
}

TEST(UnknownFields, SkipsByteOrderMark) {
  const auto problems = findUnknownFields("\xEF\xBB\xBF{\"id\":\"a\",\"colour\":\"red\"}",
                                          InputFormat::kCanonicalJsonl);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "colour");
}

TEST(UnknownFields, ReadsIntegersWiderThan64Bits) {
  // simdjson rejects such a number, so the check falls back to
  // nlohmann::json instead of missing the unknown field.
  const auto problems = findUnknownFields(
      R"({"id":"a","amount":1,"serial":123456789012345678901234567890})",
      InputFormat::kCanonicalJsonl);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "serial");
  const auto lines = findUnknownFields(
      "{\"id\":\"a\"}\n{\"id\":\"b\",\"serial\":123456789012345678901234567890}\n",
      InputFormat::kCanonicalJsonl);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].item, 2u);
}

TEST(UnknownFields, ReadsEscapedKeys) {
  const auto problems =
      findUnknownFields(R"({"id":"a","colour":"red"})", InputFormat::kCanonicalJsonl);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "colour");
}

TEST(CheckTransactions, FlagsFutureDatesAndAbsurdAmounts) {
  const std::int64_t now = 1'700'000'000'000;
  Transaction ok;
  ok.id = "ok";
  ok.timestamp_ms = now + kMaxFutureSkewMs;  // at the skew limit: accepted
  ok.amount = kMaxAmount;
  Transaction future = ok;
  future.id = "future";
  future.timestamp_ms = now + kMaxFutureSkewMs + 1;
  Transaction huge = ok;
  huge.id = "huge";
  huge.amount = kMaxAmount * 10;
  Transaction no_id = ok;
  no_id.id.clear();

  const auto problems = checkTransactions({ok, future, huge, no_id}, now);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].item, 2u);
  EXPECT_EQ(problems[0].field, "timestamp");
  EXPECT_EQ(problems[1].item, 3u);
  EXPECT_EQ(problems[1].field, "amount");
  EXPECT_EQ(problems[2].item, 4u);
  EXPECT_EQ(problems[2].field, "id");
}

TEST(CheckTransactions, RejectsUnreadableIds) {
  Transaction base;
  base.timestamp_ms = 1'700'000'000'000;
  base.amount = 1;
  std::vector<Transaction> transactions;
  for (const std::string id : {std::string("ok-1"), std::string("a/b"), std::string(200, 'x'),
                               std::string("tab\there"), std::string(kMaxIdBytes, 'y')}) {
    Transaction transaction = base;
    transaction.id = id;
    transactions.push_back(transaction);
  }
  const auto problems = checkTransactions(transactions, base.timestamp_ms);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].item, 2u);
  EXPECT_EQ(problems[1].item, 3u);
  EXPECT_EQ(problems[2].item, 4u);
}

}  // namespace
}  // namespace txguard
