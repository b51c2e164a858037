// Reads the bundled data files in full and checks counts computed
// independently with awk and Python's csv module (see data/*/README.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "test_files.h"

namespace txguard {
namespace {

struct Expected {
  std::string_view path;  // relative to the repository, or absolute
  InputFormat format;
  std::size_t rows;
  std::size_t frauds;
  double amount_sum;
  std::string_view last_id;
};

void checkFile(const Expected& expected) {
  std::filesystem::path path(expected.path);
  if (path.is_relative()) path = std::filesystem::path(TXGUARD_SOURCE_DIR) / path;
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";

  const auto result = testing::readAll(path);
  EXPECT_EQ(result.format, expected.format);
  EXPECT_TRUE(result.rejects.empty()) << result.rejects.front().reason;
  ASSERT_EQ(result.transactions.size(), expected.rows);
  EXPECT_EQ(result.rows_read, expected.rows);

  std::size_t frauds = 0;
  double amount_sum = 0.0;
  std::set<std::string_view> ids;
  for (const Transaction& transaction : result.transactions) {
    if (transaction.label == Label::kFraud) ++frauds;
    EXPECT_NE(transaction.label, Label::kUnknown);
    amount_sum += transaction.amount;
    ids.insert(transaction.id);
  }
  EXPECT_EQ(frauds, expected.frauds);
  EXPECT_NEAR(amount_sum, expected.amount_sum, 1e-6 * expected.amount_sum);
  EXPECT_EQ(ids.size(), expected.rows) << "ids must be unique";
  EXPECT_EQ(result.transactions.back().id, expected.last_id);
}

TEST(BundledData, PaysimSample) {
  checkFile({"data/paysim/paysim_sample.csv", InputFormat::kPaysimCsv, 25000, 688, 4543173820.8,
             "paysim-25001"});
}

TEST(BundledData, SparkovFirstRows) {
  checkFile({"data/sparkov/fraudTest_first5116rows.csv", InputFormat::kSparkovCsv, 5116, 18,
             348480.44, "d4c2d6226c9cc4e398a30380bb012679"});
}

TEST(BundledData, SparkovSample) {
  checkFile({"data/sparkov/fraudTest_sample_2020-06-21_to_2020-10-31.csv", InputFormat::kSparkovCsv,
             4709, 1593, 1050251.39, "d1fd23629ad55e16e6d400ea1e25dbe5"});
}

// The full 51,392-row sample the bundled file was cut from, read from the
// folder named by TXGUARD_SHARED_DATA when that is set and present.
TEST(SharedData, FullPaysimSample) {
  const char* folder = std::getenv("TXGUARD_SHARED_DATA");
  if (folder == nullptr) GTEST_SKIP() << "TXGUARD_SHARED_DATA is not set";
  const std::string path = std::string(folder) + "/paysim/paysim_sample.csv";
  checkFile({path, InputFormat::kPaysimCsv, 51392, 1392, 9392592295.59, "paysim-51393"});
}

}  // namespace
}  // namespace txguard
