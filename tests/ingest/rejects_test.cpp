#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "test_files.h"

namespace txguard {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RejectsFile, WritesQuotedCsv) {
  const auto path = testing::writeTempFile("rejects.csv", "");
  {
    RejectsFile rejects(path);
    rejects.reject({7, "bad label in isFraud: '2' (expected 0 or 1)", "1,PAYMENT,\"x\""});
    rejects.reject({9, "plain", "no commas"});
    EXPECT_EQ(rejects.count(), 2U);
    EXPECT_EQ(rejects.location(), path.string());
    rejects.close();
    EXPECT_THROW(rejects.reject({10, "late", ""}), IngestError);
  }
  EXPECT_EQ(readFile(path),
            "line,reason,raw\n"
            "7,bad label in isFraud: '2' (expected 0 or 1),\"1,PAYMENT,\"\"x\"\"\"\n"
            "9,plain,no commas\n");
}

TEST(RejectsFile, MasksCardNumbersAgain) {
  const auto path = testing::writeTempFile("rejects.csv", "");
  {
    RejectsFile rejects(path);
    rejects.reject({2, "reason", "card 4111111111111111 and 60416207185"});
  }
  const std::string text = readFile(path);
  EXPECT_EQ(text.find("4111111111111111"), std::string::npos) << text;
  EXPECT_NE(text.find("411111******1111"), std::string::npos) << text;
  EXPECT_EQ(text.find("60416207185"), std::string::npos) << text;
}

TEST(RejectsFile, ReportsUncreatablePath) {
  try {
    RejectsFile rejects("/nonexistent/dir/rejects.csv");
    FAIL() << "expected IngestError";
  } catch (const IngestError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create rejects file /nonexistent/dir"),
              std::string::npos)
        << error.what();
  }
}

// End to end: a Sparkov input with bad rows, written through RejectsFile.
TEST(RejectsFile, HoldsLineNumbersReasonsAndMaskedRows) {
  const std::string header =
      ",trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,street,city,state,"
      "zip,lat,long,city_pop,job,dob,trans_num,unix_time,merch_lat,merch_long,is_fraud\r\n";
  const std::string good =
      "0,2020-06-21 12:14:25,2291163933867244,\"fraud_Kirlin, Sons\",personal_care,2.86,Jeff,"
      "Elliott,M,351 Darlene Green,Columbia,SC,29209,33.9659,-80.9355,333497,Mechanical "
      "engineer,1968-03-19,2da90c7d74bd46a0caf3777415b3ebd3,1371816865,33.986391,-81.200714,0";
  std::string bad_amount = good;
  bad_amount.replace(bad_amount.find(",2.86,"), 6, ",-2.86,");
  std::string bad_label = good;
  bad_label.back() = '7';

  const auto input = testing::writeTempFile(
      "sparkov.csv", header + good + "\r\n" + bad_amount + "\r\n" + good + "\r\n" + bad_label);
  const auto rejects_path = input.parent_path() / "rejects.csv";
  ReaderOptions options;
  options.pan_hash_key = "k";
  {
    RejectsFile rejects(rejects_path);
    auto reader = openReader(input, options, rejects);
    Transaction transaction;
    std::size_t valid = 0;
    while (reader->next(transaction)) ++valid;
    EXPECT_EQ(valid, 2U);
    EXPECT_EQ(rejects.count(), 2U);
  }
  const std::string text = readFile(rejects_path);
  EXPECT_EQ(text.find("2291163933867244"), std::string::npos) << text;
  EXPECT_NE(
      text.find("\n3,negative amount in amt: '-2.86',\"0,2020-06-21 12:14:25,229116******7244,"
                "\"\"fraud_Kirlin, Sons\"\""),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\n5,bad label in is_fraud: '7' (expected 0 or 1),"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace txguard
