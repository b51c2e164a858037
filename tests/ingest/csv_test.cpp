#include "ingest/csv.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ingest/input_source.h"

namespace txguard {
namespace {

std::vector<std::string> splitLine(std::string_view line, char delimiter = ',') {
  CsvSplitter splitter(delimiter);
  EXPECT_TRUE(splitter.split(line)) << splitter.error();
  return {splitter.fields().begin(), splitter.fields().end()};
}

TEST(CsvSplitter, SplitsPlainFields) {
  EXPECT_EQ(splitLine("a,b,,d"), (std::vector<std::string>{"a", "b", "", "d"}));
  EXPECT_EQ(splitLine(",x"), (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(splitLine("x,"), (std::vector<std::string>{"x", ""}));
  EXPECT_EQ(splitLine(""), (std::vector<std::string>{""}));
  EXPECT_EQ(splitLine("a;b", ';'), (std::vector<std::string>{"a", "b"}));
}

TEST(CsvSplitter, KeepsQuotedCommas) {
  EXPECT_EQ(splitLine("1,\"fraud_Swaniawski, Nitzsche and Welch\",x"),
            (std::vector<std::string>{"1", "fraud_Swaniawski, Nitzsche and Welch", "x"}));
  EXPECT_EQ(splitLine("\"a\",\"\",\"c\""), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(splitLine("x,\"y\""), (std::vector<std::string>{"x", "y"}));
}

TEST(CsvSplitter, UnescapesDoubledQuotes) {
  EXPECT_EQ(splitLine("\"Cafe \"\"Lisboa\"\"; Baixa\";2", ';'),
            (std::vector<std::string>{"Cafe \"Lisboa\"; Baixa", "2"}));
  EXPECT_EQ(splitLine("\"\"\"\",\"a\"\"b\",\"c\"\"\""),
            (std::vector<std::string>{"\"", "a\"b", "c\""}));
}

TEST(CsvSplitter, RejectsBadQuoting) {
  CsvSplitter splitter(',');
  EXPECT_FALSE(splitter.split("a,\"unterminated"));
  EXPECT_NE(splitter.error().find("unterminated quoted field in column 2"), std::string::npos)
      << splitter.error();
  EXPECT_FALSE(splitter.split("\"closed\"x,b"));
  EXPECT_NE(splitter.error().find("column 1"), std::string::npos) << splitter.error();
}

// Hands out at most `step` bytes per read, so records cross reads.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string text, std::size_t step) : text_(std::move(text)), step_(step) {}
  std::size_t read(char* dest, std::size_t size) override {
    const std::size_t count = std::min({size, step_, text_.size() - offset_});
    std::memcpy(dest, text_.data() + offset_, count);
    offset_ += count;
    return count;
  }
  std::uint64_t size() const override { return text_.size(); }

 private:
  std::string text_;
  std::size_t step_;
  std::size_t offset_ = 0;
};

TEST(LineReader, JoinsLinesSplitAcrossReads) {
  ChunkedInput input(std::make_unique<TrickleSource>("first line\r\nsecond\n\nlast", 3), "t");
  LineReader lines(input);
  std::string_view line;
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line, "first line");
  EXPECT_EQ(lines.lineNumber(), 1U);
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line, "second");
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line, "last");
  EXPECT_EQ(lines.lineNumber(), 4U);
  EXPECT_FALSE(lines.next(line));
  EXPECT_EQ(input.bytesRead(), input.totalBytes());
}

TEST(LineReader, GrowsForLinesLongerThanAChunk) {
  const std::string long_line(kChunkBytes + 10, 'x');
  ChunkedInput input(std::make_unique<TrickleSource>(long_line + "\nend\n", kChunkBytes / 3), "t");
  LineReader lines(input);
  std::string_view line;
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line.size(), long_line.size());
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line, "end");
  EXPECT_FALSE(lines.next(line));
}

}  // namespace
}  // namespace txguard
