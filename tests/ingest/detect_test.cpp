#include <gtest/gtest.h>

#include <string>

#include "test_files.h"

namespace txguard {
namespace {

std::string detectErrorOf(std::string_view head) {
  try {
    detectFormat(head);
  } catch (const IngestError& error) {
    return error.what();
  }
  return "";
}

TEST(DetectFormat, RecognisesEachFormat) {
  EXPECT_EQ(detectFormat("step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,"
                         "oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud\n17,PAYMENT"),
            InputFormat::kPaysimCsv);
  EXPECT_EQ(detectFormat(",trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,"
                         "street,city,state,zip,lat,long,city_pop,job,dob,trans_num,unix_time,"
                         "merch_lat,merch_long,is_fraud\r\n0,2020"),
            InputFormat::kSparkovCsv);
  EXPECT_EQ(detectFormat("Unnamed: 0,trans_date_trans_time,cc_num,merchant,category,amt,"
                         "trans_num,is_fraud"),
            InputFormat::kSparkovCsv);
  EXPECT_EQ(detectFormat(R"([{"transaction_id": "1", "account_number": "2962", "value": 1)"),
            InputFormat::kAcmeJson);
  EXPECT_EQ(detectFormat("\n  {\"transaction_id\": \"1\", \"account_number\": \"2962\"}"),
            InputFormat::kAcmeJson);
  EXPECT_EQ(detectFormat(R"({"id": "1", "account": "a", "timestamp": "2024-03-01T10:15:00Z"})"),
            InputFormat::kCanonicalJsonl);
  EXPECT_EQ(detectFormat(R"([ {"id": "1", "card_number": "4111111111111111", "amount": 1}])"),
            InputFormat::kCanonicalJsonl);
  EXPECT_EQ(detectFormat("\xef\xbb\xbfstep,type,amount,nameOrig\n"), InputFormat::kPaysimCsv);
}

TEST(DetectFormat, IgnoresNestedKeys) {
  // account_number sits in a nested object, so only canonical keys count.
  EXPECT_EQ(detectFormat(R"({"id": "1", "meta": {"account_number": "x", "value": 1, "date": "d"},)"
                         R"( "account": "a", "amount": 1})"),
            InputFormat::kCanonicalJsonl);
}

TEST(DetectFormat, ReportsUnknownCsvHeader) {
  const std::string message = detectErrorOf("date;amount;account\n2024-01-01;1;a\n");
  EXPECT_NE(message.find("'date;amount;account'"), std::string::npos) << message;
  EXPECT_NE(message.find("--format with one of acme-json, canonical, paysim, sparkov, mapped-csv"),
            std::string::npos)
      << message;
}

TEST(DetectFormat, ReportsUnknownJsonKeys) {
  const std::string message = detectErrorOf(R"({"foo": 1, "bar": {"id": 2}})");
  EXPECT_NE(message.find("keys [foo, bar]"), std::string::npos) << message;
  EXPECT_NE(message.find("--format"), std::string::npos) << message;
  EXPECT_NE(detectErrorOf("[1, 2]").find("first element is not an object"), std::string::npos);
}

TEST(DetectFormat, MasksCardNumbersInMessage) {
  const std::string message = detectErrorOf("4111111111111111,12.50,shop\n");
  EXPECT_EQ(message.find("4111111111111111"), std::string::npos) << message;
  EXPECT_NE(message.find("411111******1111"), std::string::npos) << message;
}

TEST(FormatNames, RoundTrip) {
  for (const InputFormat format :
       {InputFormat::kAuto, InputFormat::kAcmeJson, InputFormat::kCanonicalJsonl,
        InputFormat::kPaysimCsv, InputFormat::kSparkovCsv, InputFormat::kMappedCsv}) {
    const auto parsed = parseFormatName(formatName(format));
    ASSERT_TRUE(parsed.has_value()) << formatName(format);
    EXPECT_EQ(*parsed, format);
  }
  EXPECT_EQ(formatName(InputFormat::kAcmeJson), "acme-json");
  EXPECT_EQ(formatName(InputFormat::kCanonicalJsonl), "canonical");
  EXPECT_EQ(formatName(InputFormat::kMappedCsv), "mapped-csv");
  EXPECT_FALSE(parseFormatName("csv").has_value());
}

TEST(OpenReader, FormatOverrideWins) {
  // A PaySim-looking header read as mapped CSV through an explicit mapping.
  const auto mapping = testing::writeTempFile(
      "m.yaml",
      "timestamp_format: epoch_seconds\ncolumns: {account: nameOrig, timestamp: step, amount: "
      "amount}\n");
  ReaderOptions options;
  options.format = InputFormat::kMappedCsv;
  options.mapping_file = mapping;
  const auto result = testing::readText("step,type,amount,nameOrig\n3600,PAYMENT,1,C1\n", options);
  EXPECT_EQ(result.format, InputFormat::kMappedCsv);
  ASSERT_EQ(result.transactions.size(), 1U);
  EXPECT_EQ(result.transactions[0].timestamp_ms, 3600000);

  // Forcing PaySim on a Sparkov file fails on the header, naming the column.
  ReaderOptions forced;
  forced.format = InputFormat::kPaysimCsv;
  const std::string message = testing::ingestErrorOf(
      testing::writeTempFile("s.csv", ",trans_date_trans_time,cc_num,amt,trans_num\n"), forced);
  EXPECT_NE(message.find("no PaySim column 'step'"), std::string::npos) << message;
}

TEST(OpenReader, MappingFileImpliesMappedCsv) {
  ReaderOptions options;
  options.mapping_file = testing::writeTempFile(
      "m.yaml", "timestamp_format: iso8601\ncolumns: {account: a, timestamp: t, amount: x}\n");
  const auto result = testing::readText("a,t,x\nA,2024-03-01,1\n", options);
  EXPECT_EQ(result.format, InputFormat::kMappedCsv);
}

}  // namespace
}  // namespace txguard
