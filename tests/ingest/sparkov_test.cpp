#include <gtest/gtest.h>

#include <string>

#include "common/pan.h"
#include "test_files.h"

namespace txguard {
namespace {

using testing::kTestPanKey;
using testing::readText;

constexpr std::string_view kColumns =
    "trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,street,city,state,"
    "zip,lat,long,city_pop,job,dob,trans_num,unix_time,merch_lat,merch_long,is_fraud";
constexpr std::string_view kRow0 =
    "0,2020-06-21 12:14:25,2291163933867244,fraud_Kirlin and Sons,personal_care,2.86,Jeff,"
    "Elliott,M,351 Darlene Green,Columbia,SC,29209,33.9659,-80.9355,333497,Mechanical "
    "engineer,1968-03-19,2da90c7d74bd46a0caf3777415b3ebd3,1371816865,33.986391,-81.200714,0";
constexpr std::string_view kRow1 =
    "1,2020-06-21 12:14:33,3573030041201292,fraud_Sporer-Keebler,personal_care,29.84,Joanne,"
    "Williams,F,3638 Marsh Union,Altonah,UT,84002,40.3207,-110.436,302,\"Sales professional, "
    "IT\",1990-01-17,324cc204407e99f51b0d6ca0055005e7,1371816873,39.450497999999996,"
    "-109.960431,0";
constexpr std::string_view kRow2 =
    "2,2020-06-21 12:14:53,3598215285024754,\"fraud_Swaniawski, Nitzsche and Welch\","
    "health_fitness,41.28,Ashley,Lopez,F,9333 Valentine Point,Bellmore,NY,11710,40.6729,"
    "-73.5365,34496,\"Librarian, public\",1970-10-21,c81755dbbbea9d5c77f094348a7579be,"
    "1371816893,40.49581,-74.196111,1";
// 2020-06-21T12:14:25Z, from Python's datetime.
constexpr std::int64_t kRow0Ms = 1592741665000;

std::string sparkovFile(std::string_view index_header, std::string_view newline,
                        bool final_newline) {
  std::string text = std::string(index_header) + "," + std::string(kColumns);
  for (const std::string_view row : {kRow0, kRow1, kRow2}) {
    text += newline;
    text += row;
  }
  if (final_newline) text += newline;
  return text;
}

void expectThreeRows(const testing::ReadResult& result) {
  EXPECT_EQ(result.format, InputFormat::kSparkovCsv);
  ASSERT_EQ(result.transactions.size(), 3U);
  EXPECT_TRUE(result.rejects.empty());
  EXPECT_EQ(result.transactions[0].id, "2da90c7d74bd46a0caf3777415b3ebd3");
  EXPECT_EQ(result.transactions[2].id, "c81755dbbbea9d5c77f094348a7579be");
  EXPECT_EQ(result.transactions[2].counterparty, "fraud_Swaniawski, Nitzsche and Welch");
  EXPECT_EQ(result.transactions[2].label, Label::kFraud);
  EXPECT_EQ(result.transactions[2].source_line, 4U);
}

TEST(SparkovReader, MapsEveryColumn) {
  const auto result = readText(sparkovFile("", "\r\n", false));
  expectThreeRows(result);
  const Transaction& first = result.transactions[0];
  EXPECT_EQ(first.timestamp_ms, kRow0Ms);
  EXPECT_EQ(first.account, accountKeyForPan("2291163933867244", kTestPanKey));
  EXPECT_EQ(first.account_display, "229116******7244");
  EXPECT_DOUBLE_EQ(first.amount, 2.86);
  EXPECT_EQ(first.currency, "USD");
  EXPECT_EQ(first.location, "SC");
  EXPECT_EQ(first.counterparty, "fraud_Kirlin and Sons");
  EXPECT_EQ(first.category, "personal_care");
  EXPECT_DOUBLE_EQ(first.latitude, 33.986391);
  EXPECT_DOUBLE_EQ(first.longitude, -81.200714);
  EXPECT_DOUBLE_EQ(first.home_latitude, 33.9659);
  EXPECT_DOUBLE_EQ(first.home_longitude, -80.9355);
  EXPECT_EQ(first.label, Label::kLegitimate);
  EXPECT_FALSE(isPresent(first.balance_before));
  EXPECT_DOUBLE_EQ(result.transactions[1].latitude, 39.450497999999996);
}

TEST(SparkovReader, AcceptsUnnamedIndexHeader) {
  expectThreeRows(readText(sparkovFile("Unnamed: 0", "\n", true)));
}

TEST(SparkovReader, AcceptsCrlfWithFinalNewline) {
  expectThreeRows(readText(sparkovFile("", "\r\n", true)));
}

TEST(SparkovReader, SkipsUtf8ByteOrderMark) {
  expectThreeRows(readText("\xef\xbb\xbf" + sparkovFile("", "\r\n", false)));
}

TEST(SparkovReader, AcceptsHeaderWithoutIndexColumn) {
  std::string text(kColumns);
  text += "\n";
  text += kRow0.substr(kRow0.find(',') + 1);
  const auto result = readText(text);
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].timestamp_ms, kRow0Ms);
}

TEST(SparkovReader, RejectsBadCardsAndMasksThem) {
  std::string header = "," + std::string(kColumns) + "\n";
  std::string luhn_fail(kRow0);
  luhn_fail.replace(luhn_fail.find("2291163933867244"), 16, "2291163933867245");
  std::string short_card(kRow0);
  short_card.replace(short_card.find("2291163933867244"), 16, "60416207185");
  short_card.replace(short_card.find(",2020-06-21"), 11, ",2020-13-21");
  std::string letters(kRow0);
  letters.replace(letters.find("2291163933867244"), 16, "22911639338672AB");

  const auto result = readText(header + luhn_fail + "\n" + short_card + "\n" + letters + "\n");
  EXPECT_TRUE(result.transactions.empty());
  ASSERT_EQ(result.rejects.size(), 3U);

  EXPECT_EQ(result.rejects[0].line, 2U);
  EXPECT_NE(result.rejects[0].reason.find("bad card number in cc_num: '229116******7245'"),
            std::string::npos)
      << result.rejects[0].reason;
  EXPECT_NE(result.rejects[0].reason.find("Luhn"), std::string::npos);
  EXPECT_EQ(result.rejects[0].raw.find("2291163933867245"), std::string::npos);
  EXPECT_NE(result.rejects[0].raw.find("229116******7245"), std::string::npos);

  // The 11-digit card is below maskPansInText's default floor, yet masked.
  EXPECT_NE(result.rejects[1].reason.find("bad date in trans_date_trans_time"), std::string::npos)
      << result.rejects[1].reason;
  EXPECT_EQ(result.rejects[1].raw.find("60416207185"), std::string::npos);
  EXPECT_NE(result.rejects[1].raw.find("*******7185"), std::string::npos);

  EXPECT_NE(result.rejects[2].reason.find("expected digits only"), std::string::npos)
      << result.rejects[2].reason;
  EXPECT_EQ(result.rejects[2].raw.find("22911639338672AB"), std::string::npos);
}

TEST(SparkovReader, MasksCardInWrongColumnCountRow) {
  std::string extra(kRow0);
  extra += ",surplus";
  const auto result = readText("," + std::string(kColumns) + "\n" + extra + "\n");
  ASSERT_EQ(result.rejects.size(), 1U);
  EXPECT_NE(result.rejects[0].reason.find("expected 23 columns"), std::string::npos);
  EXPECT_EQ(result.rejects[0].raw.find("2291163933867244"), std::string::npos);
}

TEST(SparkovReader, RejectsMissingTransNumAndBadCoordinates) {
  std::string no_id(kRow0);
  no_id.replace(no_id.find("2da90c7d74bd46a0caf3777415b3ebd3"), 32, "");
  std::string far(kRow0);
  far.replace(far.find("33.986391"), 9, "133.98639");
  const auto result = readText("," + std::string(kColumns) + "\n" + no_id + "\n" + far + "\n");
  ASSERT_EQ(result.rejects.size(), 2U);
  EXPECT_NE(result.rejects[0].reason.find("missing required field trans_num"), std::string::npos);
  EXPECT_NE(result.rejects[1].reason.find("out-of-range coordinate in merch_lat"),
            std::string::npos)
      << result.rejects[1].reason;
}

TEST(SparkovReader, RequiresPanHashKey) {
  const auto path = testing::writeTempFile("sparkov.csv", sparkovFile("", "\r\n", false));
  RejectList rejects;
  try {
    openReader(path, ReaderOptions{}, rejects);
    FAIL() << "expected IngestError";
  } catch (const IngestError& error) {
    EXPECT_NE(std::string(error.what()).find("TXGUARD_PAN_HASH_KEY"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace txguard
