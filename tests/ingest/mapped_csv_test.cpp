#include "ingest/mapped_csv.h"

#include <gtest/gtest.h>

#include <string>

#include "common/pan.h"
#include "test_files.h"

namespace txguard {
namespace {

using testing::kTestPanKey;
using testing::readAll;
using testing::readText;
using testing::writeTempFile;

std::filesystem::path exampleMapping() {
  return std::filesystem::path(TXGUARD_SOURCE_DIR) / "config" / "mappings" / "example.yaml";
}

// The message loadColumnMapping() raises for `yaml`, or "".
std::string mappingErrorOf(std::string_view yaml) {
  try {
    loadColumnMapping(writeTempFile("mapping.yaml", yaml));
  } catch (const IngestError& error) {
    return error.what();
  }
  return "";
}

TEST(MappedCsv, ReadsExampleFile) {
  ReaderOptions options;
  options.mapping_file = exampleMapping();
  const auto result = readAll(testing::testDataPath("mapped_example.csv"), options);
  EXPECT_EQ(result.format, InputFormat::kMappedCsv);
  ASSERT_EQ(result.transactions.size(), 3U);

  const Transaction& first = result.transactions[0];
  EXPECT_EQ(first.id, "R-1001");
  EXPECT_EQ(first.account, accountKeyForPan("4111111111111111", kTestPanKey));
  EXPECT_EQ(first.account_display, "411111******1111");
  EXPECT_EQ(first.timestamp_ms, 1709288100000);  // 2024-03-01T10:15:00Z
  EXPECT_DOUBLE_EQ(first.amount, 12.5);
  EXPECT_EQ(first.currency, "EUR");
  EXPECT_EQ(first.location, "PT");
  EXPECT_EQ(first.counterparty, "Cafe \"Lisboa\"; Baixa");
  EXPECT_EQ(first.category, "food_dining");
  EXPECT_DOUBLE_EQ(first.latitude, 38.7107);
  EXPECT_DOUBLE_EQ(first.longitude, -9.1365);
  EXPECT_EQ(first.label, Label::kLegitimate);

  // An empty currency cell takes the mapping's default.
  EXPECT_EQ(result.transactions[1].currency, "EUR");
  EXPECT_EQ(result.transactions[1].label, Label::kFraud);
  EXPECT_EQ(result.transactions[2].currency, "USD");
  EXPECT_EQ(result.transactions[2].timestamp_ms, 1709423999000);  // 2024-03-02T23:59:59Z
  EXPECT_EQ(result.transactions[2].label, Label::kUnknown);
  EXPECT_FALSE(isPresent(result.transactions[2].latitude));

  ASSERT_EQ(result.rejects.size(), 2U);
  EXPECT_EQ(result.rejects[0].line, 5U);
  EXPECT_NE(result.rejects[0].reason.find("bad date in booked_at: '31/02/2024 08:00:00'"),
            std::string::npos)
      << result.rejects[0].reason;
  EXPECT_EQ(result.rejects[0].raw.find("378282246310005"), std::string::npos);
  EXPECT_EQ(result.rejects[1].line, 6U);
  EXPECT_NE(result.rejects[1].reason.find("fails the Luhn check"), std::string::npos);
  EXPECT_EQ(result.rejects[1].raw.find("4111111111111112"), std::string::npos);
}

TEST(MappedCsv, ReadsEpochAndGeneratedIds) {
  const auto mapping = writeTempFile("epoch.yaml",
                                     "timestamp_format: epoch_millis\n"
                                     "delimiter: \"\\t\"\n"
                                     "id_prefix: bank\n"
                                     "columns: {account: who, timestamp: when, amount: how_much, "
                                     "balance_before: before}\n");
  ReaderOptions options;
  options.mapping_file = mapping;
  const auto result =
      readText("who\twhen\thow_much\tbefore\nA1\t1709288100000\t3.5\t10\n", options);
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].id, "bank-2");
  EXPECT_EQ(result.transactions[0].account, "A1");
  EXPECT_EQ(result.transactions[0].account_display, "A1");
  EXPECT_EQ(result.transactions[0].timestamp_ms, 1709288100000);
  EXPECT_DOUBLE_EQ(result.transactions[0].balance_before, 10.0);
}

TEST(MappedCsv, ReadsEpochSecondsAndIso8601) {
  ReaderOptions options;
  options.mapping_file = writeTempFile(
      "seconds.yaml",
      "timestamp_format: epoch_seconds\ncolumns: {account: a, timestamp: t, amount: x}\n");
  auto result = readText("a,t,x\nA,1709288100.5,1\nA,soon,1\n", options);
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].timestamp_ms, 1709288100500);
  ASSERT_EQ(result.rejects.size(), 1U);
  EXPECT_NE(result.rejects[0].reason.find("bad date in t: 'soon'"), std::string::npos);

  options.mapping_file = writeTempFile(
      "iso.yaml", "timestamp_format: iso8601\ncolumns: {account: a, timestamp: t, amount: x}\n");
  result = readText("a,t,x\nA,2024-03-01T10:15:00Z,1\nA,2024-03-01,1\n", options);
  ASSERT_EQ(result.transactions.size(), 2U);
  EXPECT_EQ(result.transactions[0].timestamp_ms, 1709288100000);
  EXPECT_EQ(result.transactions[1].timestamp_ms, 1709251200000);  // midnight UTC
}

TEST(MappedCsv, RejectsColumnMissingFromHeader) {
  ReaderOptions options;
  options.mapping_file = exampleMapping();
  const std::string message =
      testing::ingestErrorOf(writeTempFile("bank.csv", "reference;when\nR;x\n"), options);
  EXPECT_NE(message.find("the header lacks the columns 'pan' (mapped to card_number), "
                         "'booked_at' (mapped to timestamp)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("header columns: reference, when"), std::string::npos) << message;
}

TEST(MappedCsv, ValidatesMappingFile) {
  const std::string base = "timestamp_format: iso8601\n";
  EXPECT_NE(mappingErrorOf(base + "columns: {account: a, timestamp: t, amount: x, amout: y}\n")
                .find("unknown field 'amout' in columns"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf(base + "columns: {account: a, timestamp: t}\n")
                .find("lacks required field 'amount'"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf(base + "columns: {timestamp: t, amount: x}\n")
                .find("exactly one of 'account' and 'card_number' (neither is mapped)"),
            std::string::npos);
  EXPECT_NE(
      mappingErrorOf(base + "columns: {account: a, card_number: c, timestamp: t, amount: x}\n")
          .find("both are mapped"),
      std::string::npos);
  EXPECT_NE(
      mappingErrorOf(base + "delimiter: ';;'\ncolumns: {account: a, timestamp: t, amount: x}\n")
          .find("delimiter ';;'"),
      std::string::npos);
  EXPECT_NE(mappingErrorOf("timestamp_format: yesterday\ncolumns: {account: a, timestamp: t, "
                           "amount: x}\n")
                .find("timestamp_format 'yesterday'"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf("timestamp_format: '%Y-%q'\ncolumns: {account: a, timestamp: t, "
                           "amount: x}\n")
                .find("unknown directive %q"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf("columns: {account: a, timestamp: t, amount: x}\n")
                .find("timestamp_format is missing"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf(base).find("'columns' is missing"), std::string::npos);
  EXPECT_NE(mappingErrorOf(base + "colums: {}\n").find("unknown key 'colums'"), std::string::npos);
  EXPECT_NE(mappingErrorOf(base + "columns: [a, b]\n").find("'columns' must be a map"),
            std::string::npos);
  EXPECT_NE(mappingErrorOf("columns: {account: [a\n").find("invalid YAML"), std::string::npos);
  EXPECT_NE(mappingErrorOf(base + "currency: euro\ncolumns: {account: a, timestamp: t, amount: "
                                  "x}\n")
                .find("currency 'euro'"),
            std::string::npos);
  EXPECT_EQ(mappingErrorOf(base + "columns: {account: a, timestamp: t, amount: x}\n"), "");
}

TEST(MappedCsv, RequiresMappingFile) {
  ReaderOptions options;
  options.format = InputFormat::kMappedCsv;
  const std::string message = testing::ingestErrorOf(writeTempFile("x.csv", "a,b\n1,2\n"), options);
  EXPECT_NE(message.find("needs a mapping file"), std::string::npos) << message;

  options.mapping_file = "/nonexistent/mapping.yaml";
  const std::string missing = testing::ingestErrorOf(writeTempFile("x.csv", "a,b\n1,2\n"), options);
  EXPECT_NE(missing.find("cannot open mapping file /nonexistent/mapping.yaml"), std::string::npos)
      << missing;
}

}  // namespace
}  // namespace txguard
