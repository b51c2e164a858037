// Whole-input problems: each raises one IngestError naming the file and the fix.
#include <gtest/gtest.h>

#include <string>

#include "test_files.h"

namespace txguard {
namespace {

using testing::ingestErrorOf;
using testing::writeTempFile;

constexpr std::string_view kPaysimHeader =
    "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
    "newbalanceDest,isFraud,isFlaggedFraud\n";

TEST(InputErrors, MissingFile) {
  const std::string message = ingestErrorOf("/nonexistent/dir/input.csv");
  EXPECT_NE(message.find("cannot open input file /nonexistent/dir/input.csv"), std::string::npos)
      << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
}

TEST(InputErrors, Directory) {
  const auto path = writeTempFile("x", "").parent_path();
  EXPECT_NE(ingestErrorOf(path).find("is a directory"), std::string::npos);
}

TEST(InputErrors, EmptyFile) {
  const auto path = writeTempFile("empty.csv", "");
  const std::string message = ingestErrorOf(path);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("the input is empty"), std::string::npos) << message;
}

TEST(InputErrors, BlankFile) {
  EXPECT_NE(ingestErrorOf(writeTempFile("blank.csv", "\n \r\n\n")).find("only blank lines"),
            std::string::npos);
  EXPECT_NE(ingestErrorOf(writeTempFile("bom.csv", "\xef\xbb\xbf")).find("only blank lines"),
            std::string::npos);
}

TEST(InputErrors, Utf16WithByteOrderMark) {
  const std::string utf16("\xff\xfes\0t\0e\0p\0", 10);
  const std::string message = ingestErrorOf(writeTempFile("utf16.csv", utf16));
  EXPECT_NE(message.find("UTF-16"), std::string::npos) << message;
  EXPECT_NE(message.find("iconv"), std::string::npos) << message;
}

TEST(InputErrors, BinaryWithNulBytes) {
  const std::string binary = std::string(kPaysimHeader) + std::string("1,PAY\0MENT", 10);
  const std::string message = ingestErrorOf(writeTempFile("binary.csv", binary));
  EXPECT_NE(message.find("NUL byte"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
}

TEST(InputErrors, GzipFile) {
  const std::string message = ingestErrorOf(writeTempFile("x.csv.gz", "\x1f\x8b\x08\x00rest"));
  EXPECT_NE(message.find("gzip"), std::string::npos) << message;
}

TEST(InputErrors, InvalidUtf8InHead) {
  const std::string latin1 = std::string(kPaysimHeader) + "1,PAYMENT,1,Jos\xe9,0,0,M,0,0,0,0\n";
  const std::string message = ingestErrorOf(writeTempFile("latin1.csv", latin1));
  EXPECT_NE(message.find("not valid UTF-8 (byte 0xe9"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
}

TEST(InputErrors, InvalidUtf8AfterHeadRejectsRow) {
  // Past the 64 KiB that the encoding check reads, bad bytes reject one row.
  std::string text(kPaysimHeader);
  while (text.size() < 70 * 1024) text += "1,PAYMENT,1,C1,0,0,M1,0,0,0,0\n";
  text += "1,PAYMENT,1,Jos\xe9,0,0,M1,0,0,0,0\n";
  const auto result = testing::readText(text);
  ASSERT_EQ(result.rejects.size(), 1U);
  EXPECT_NE(result.rejects[0].reason.find("invalid UTF-8"), std::string::npos);
}

TEST(InputErrors, UnknownFormatNamesFile) {
  const auto path = writeTempFile("bank.csv", "when,how much\n2024,1\n");
  const std::string message = ingestErrorOf(path);
  EXPECT_EQ(message.rfind(path.string() + ": cannot detect the input format", 0), 0U) << message;
  EXPECT_NE(message.find("'when,how much'"), std::string::npos) << message;
}

TEST(InputErrors, MaxRejectsAborts) {
  std::string text(kPaysimHeader);
  for (int i = 0; i < 5; ++i) text += "1,PAYMENT,1,C1,0,0,M1,0,0,0,0\n";
  for (int i = 0; i < 4; ++i) text += "1,PAYMENT,bad,C1,0,0,M1,0,0,0,0\n";
  const auto path = writeTempFile("input.csv", text);

  ReaderOptions options;
  options.max_rejects = 3;
  const auto rejects_path = path.parent_path() / "input.rejects.csv";
  RejectsFile rejects(rejects_path);
  auto reader = openReader(path, options, rejects);
  Transaction transaction;
  std::size_t valid = 0;
  try {
    while (reader->next(transaction)) ++valid;
    FAIL() << "expected IngestError";
  } catch (const IngestError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("aborting: 4 of 9 rows rejected, more than --max-rejects=3"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("see rejects file " + rejects_path.string()), std::string::npos)
        << message;
  }
  EXPECT_EQ(valid, 5U);
  EXPECT_EQ(rejects.count(), 4U);

  // Exactly max_rejects rejected rows is still fine.
  options.max_rejects = 4;
  const auto result = testing::readAll(path, options);
  EXPECT_EQ(result.transactions.size(), 5U);
  EXPECT_EQ(result.rejects.size(), 4U);
}

TEST(InputErrors, HeaderOnlyIsNotAnError) {
  const auto result = testing::readText(kPaysimHeader);
  EXPECT_TRUE(result.transactions.empty());
  EXPECT_EQ(result.rows_read, 0U);
}

TEST(InputErrors, ProgressCountsBytes) {
  const std::string text = std::string(kPaysimHeader) + "1,PAYMENT,1,C1,0,0,M1,0,0,0,0\n";
  const auto path = writeTempFile("input.csv", text);
  RejectList rejects;
  auto reader = openReader(path, ReaderOptions{}, rejects);
  EXPECT_EQ(reader->totalBytes(), text.size());
  Transaction transaction;
  while (reader->next(transaction)) {
  }
  EXPECT_EQ(reader->bytesRead(), text.size());
}

}  // namespace
}  // namespace txguard
