// Whole-run failures of `txguard score`: one clear line and a non-zero exit,
// and rejected rows kept with their line numbers.
#include <fstream>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace txguard::testing {
namespace {

void writeFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

int countLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CliErrors, MissingFileIsOneLine) {
  TempDir dir;
  const CliResult result = runTxguard(dir.path(), {"score", "no-such-file.csv"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("no-such-file.csv"), std::string::npos) << result.err;
}

TEST(CliErrors, EmptyInputIsAnError) {
  TempDir dir;
  writeFile(dir.path() / "empty.csv", "");
  const CliResult result = runTxguard(dir.path(), {"score", "empty.csv", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(countLines(result.err), 1) << result.err;
  EXPECT_NE(result.err.find("empty"), std::string::npos) << result.err;
}

TEST(CliErrors, UnknownFormatNamesTheOptions) {
  TempDir dir;
  writeFile(dir.path() / "odd.csv", "colour,size\nred,3\n");
  const CliResult result = runTxguard(dir.path(), {"score", "odd.csv", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--format"), std::string::npos) << result.err;
}

TEST(CliErrors, BinaryInputIsRejected) {
  TempDir dir;
  writeFile(dir.path() / "binary.csv", std::string("\xff\xfe\x00t\x00x\x00", 7));
  const CliResult result = runTxguard(dir.path(), {"score", "binary.csv", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(countLines(result.err), 1) << result.err;
}

TEST(CliErrors, UnknownModelNamesTheChoices) {
  TempDir dir;
  const CliResult result = runTxguard(
      dir.path(),
      {"score", sourcePath("data/acme/transactions.json"), "--model", "nope", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("nope"), std::string::npos) << result.err;
}

TEST(CliRejects, BadRowsAreKeptAndCounted) {
  TempDir dir;
  writeFile(dir.path() / "mixed.json",
            "{\"transaction_id\":\"a\",\"account_number\":\"1\",\"value\":10,\"state\":\"SP\","
            "\"date\":\"2024-03-01 10:00:00\"}\n"
            "{\"transaction_id\":\"b\",\"account_number\":\"1\",\"value\":\"ten\",\"state\":\"SP\","
            "\"date\":\"2024-03-01 10:05:00\"}\n"
            "not json at all\n"
            "{\"transaction_id\":\"c\",\"account_number\":\"1\",\"value\":12,\"state\":\"SP\","
            "\"date\":\"2024-03-01 10:10:00\"}\n");
  const CliResult result =
      runTxguard(dir.path(), {"score", "mixed.json", "--out-dir", "out", "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const auto summary = nlohmann::json::parse(result.out);
  EXPECT_EQ(summary["rows_scored"], 2);
  EXPECT_EQ(summary["rows_rejected"], 2);
  const std::string rejects = readFile(dir.path() / "out/rejects.csv");
  EXPECT_NE(rejects.find("2,"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("3,"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("value"), std::string::npos) << rejects;
}

TEST(CliRejects, MaxRejectsAbortsTheRun) {
  TempDir dir;
  std::string garbage;
  for (int i = 0; i < 20; ++i) garbage += "{\"transaction_id\": 5}\n";
  writeFile(dir.path() / "garbage.jsonl", garbage);
  const CliResult result = runTxguard(
      dir.path(),
      {"score", "garbage.jsonl", "--format", "acme-json", "--max-rejects", "3", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("max-rejects"), std::string::npos) << result.err;
}

TEST(CliPan, CardNumbersNeverAppearInFull) {
  TempDir dir;
  const std::string input = sourcePath("data/sparkov/fraudTest_first5116rows.csv");
  const CliResult result = runTxguard(dir.path(), {"score", input, "--out-dir", "out", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  // Card numbers from the input's first rows (each passes the Luhn check).
  for (const std::string pan : {"2291163933867244", "3573030041201292"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path() / "out")) {
      if (!entry.is_regular_file()) continue;
      EXPECT_EQ(readFile(entry.path()).find(pan), std::string::npos) << entry.path();
    }
    EXPECT_EQ(result.out.find(pan), std::string::npos);
    EXPECT_EQ(result.err.find(pan), std::string::npos);
  }
  const auto decisions = readJsonLines(dir.path() / "out/decisions.jsonl");
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions[0]["account"], "229116******7244");
}

TEST(CliHelp, EveryOptionSaysWhatItSets) {
  TempDir dir;
  for (const std::string command : {"score", "train", "evaluate"}) {
    const CliResult result = runTxguard(dir.path(), {command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("--format"), std::string::npos) << command;
  }
}

}  // namespace
}  // namespace txguard::testing
