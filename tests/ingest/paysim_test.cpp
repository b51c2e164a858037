#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ingest/input_source.h"
#include "test_files.h"

namespace txguard {
namespace {

using testing::readText;

constexpr std::string_view kHeader =
    "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
    "newbalanceDest,isFraud,isFlaggedFraud\n";
// 2017-01-01T00:00:00Z, the step-0 convention.
constexpr std::int64_t kStepZeroMs = 1483228800000;
constexpr std::int64_t kHourMs = 3600000;

TEST(PaysimReader, MapsEveryColumn) {
  const auto result =
      readText(std::string(kHeader) +
               "17,PAYMENT,38398.68,C1491813860,495340.53,456941.84,M1947091889,"
               "0.0,0.0,0.0,0.0\n"
               "8,TRANSFER,181.0,C1305486145,181.0,0.0,C553264065,0.0,0.0,1.0,0.0\n");
  EXPECT_EQ(result.format, InputFormat::kPaysimCsv);
  ASSERT_EQ(result.transactions.size(), 2U);

  const Transaction& first = result.transactions[0];
  EXPECT_EQ(first.id, "paysim-2");
  EXPECT_EQ(first.timestamp_ms, kStepZeroMs + 17 * kHourMs);
  EXPECT_EQ(first.category, "PAYMENT");
  EXPECT_DOUBLE_EQ(first.amount, 38398.68);
  EXPECT_EQ(first.account, "C1491813860");
  EXPECT_EQ(first.account_display, "C1491813860");
  EXPECT_EQ(first.counterparty, "M1947091889");
  EXPECT_DOUBLE_EQ(first.balance_before, 495340.53);
  EXPECT_DOUBLE_EQ(first.balance_after, 456941.84);
  EXPECT_DOUBLE_EQ(first.counterparty_balance_before, 0.0);
  EXPECT_DOUBLE_EQ(first.counterparty_balance_after, 0.0);
  EXPECT_EQ(first.label, Label::kLegitimate);
  EXPECT_EQ(first.source_line, 2U);
  EXPECT_TRUE(first.currency.empty());
  EXPECT_FALSE(isPresent(first.latitude));

  const Transaction& second = result.transactions[1];
  EXPECT_EQ(second.id, "paysim-3");
  EXPECT_EQ(second.label, Label::kFraud);
  EXPECT_EQ(second.timestamp_ms, kStepZeroMs + 8 * kHourMs);
}

TEST(PaysimReader, ReadsIntegerLabels) {
  const auto result = readText(std::string(kHeader) +
                               "1,CASH_OUT,10,C1,10,0,C2,0,10,1,0\n"
                               "2,CASH_OUT,10,C1,10,0,C2,0,10,0,0\n");
  ASSERT_EQ(result.transactions.size(), 2U);
  EXPECT_EQ(result.transactions[0].label, Label::kFraud);
  EXPECT_EQ(result.transactions[1].label, Label::kLegitimate);
}

TEST(PaysimReader, ReadsUnlabelledFile) {
  const auto result = readText(
      "step,type,amount,nameOrig,nameDest\n"
      "3,DEBIT,5.5,C1,M2\n");
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].label, Label::kUnknown);
  EXPECT_FALSE(isPresent(result.transactions[0].balance_before));
}

struct BadRowCase {
  std::string row;
  std::string reason_part;
};

TEST(PaysimReader, RejectsEachBadRowKind) {
  const std::vector<BadRowCase> cases = {
      {"1,PAYMENT,10,C1,0,0,M1,0,0,0", "wrong column count: expected 11 columns"},
      {"1,PAYMENT,10,C1,0,0,M1,0,0,0,0,0", "found 12"},
      {"1,PAYMENT,12a,C1,0,0,M1,0,0,0,0", "unparseable number in amount: '12a'"},
      {"1,PAYMENT,-5.00,C1,0,0,M1,0,0,0,0", "negative amount in amount: '-5.00'"},
      {"1,PAYMENT,inf,C1,0,0,M1,0,0,0,0", "non-finite amount in amount: 'inf'"},
      {"1,PAYMENT,,C1,0,0,M1,0,0,0,0", "missing required field amount"},
      {"1,PAYMENT,10,,0,0,M1,0,0,0,0", "missing required field nameOrig"},
      {"1,,10,C1,0,0,M1,0,0,0,0", "missing required field type"},
      {"1,PAYMENT,10,C1,x,0,M1,0,0,0,0", "unparseable number in oldbalanceOrg: 'x'"},
      {"1,PAYMENT,10,C1,0,0,M1,0,0,2,0", "bad label in isFraud: '2'"},
      {"1,PAYMENT,10,C1,0,0,M1,0,0,yes,0", "bad label in isFraud: 'yes'"},
      {"1.5,PAYMENT,10,C1,0,0,M1,0,0,0,0", "bad step '1.5'"},
      {"-1,PAYMENT,10,C1,0,0,M1,0,0,0,0", "bad step '-1'"},
      {"x,PAYMENT,10,C1,0,0,M1,0,0,0,0", "unparseable number in step: 'x'"},
  };
  std::string text(kHeader);
  for (const BadRowCase& bad : cases) text += bad.row + "\n";
  text += "1,PAYMENT,10,C1,0,0,M1,0,0,0,0\n";

  const auto result = readText(text);
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].source_line, cases.size() + 2);
  EXPECT_EQ(result.rows_read, cases.size() + 1);
  EXPECT_EQ(result.rows_rejected, cases.size());
  ASSERT_EQ(result.rejects.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].row);
    EXPECT_EQ(result.rejects[i].line, i + 2);
    EXPECT_NE(result.rejects[i].reason.find(cases[i].reason_part), std::string::npos)
        << result.rejects[i].reason;
    EXPECT_EQ(result.rejects[i].raw, cases[i].row);
  }
}

TEST(PaysimReader, AcceptsPandasFloatStep) {
  const auto result = readText(std::string(kHeader) + "5.0,PAYMENT,10,C1,0,0,M1,0,0,0,0\n");
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].timestamp_ms, kStepZeroMs + 5 * kHourMs);
}

TEST(PaysimReader, SkipsBlankLinesWithoutCounting) {
  const auto result = readText(std::string(kHeader) + "\n1,PAYMENT,10,C1,0,0,M1,0,0,0,0\n\n");
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].id, "paysim-3");
  EXPECT_EQ(result.rows_read, 1U);
}

// Enough rows to pass the 1 MiB read size several times, so some row is
// split between two reads; every row must come back intact.
TEST(PaysimReader, ReadsRowsAcrossChunkBoundaries) {
  std::string text(kHeader);
  std::size_t rows = 0;
  while (text.size() < 3 * kChunkBytes) {
    text += std::to_string(rows % 700) + ",TRANSFER," + std::to_string(rows) + ".25,C" +
            std::to_string(rows) + ",1.0,0.0,C99,0.0,0.0," + (rows % 97 == 0 ? "1.0" : "0.0") +
            ",0.0\n";
    ++rows;
  }
  const auto result = readText(text);
  ASSERT_EQ(result.transactions.size(), rows);
  EXPECT_TRUE(result.rejects.empty());
  std::size_t frauds = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const Transaction& transaction = result.transactions[i];
    ASSERT_DOUBLE_EQ(transaction.amount, static_cast<double>(i) + 0.25) << "row " << i;
    ASSERT_EQ(transaction.account, "C" + std::to_string(i)) << "row " << i;
    ASSERT_EQ(transaction.timestamp_ms, kStepZeroMs + static_cast<std::int64_t>(i % 700) * kHourMs)
        << "row " << i;
    if (transaction.label == Label::kFraud) ++frauds;
  }
  EXPECT_EQ(frauds, (rows + 96) / 97);
}

}  // namespace
}  // namespace txguard
