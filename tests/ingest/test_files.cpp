#include "test_files.h"

#include <gtest/gtest.h>

#include <fstream>

namespace txguard::testing {

std::filesystem::path writeTempFile(std::string_view name, std::string_view content) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path folder = std::filesystem::path(::testing::TempDir()) /
                                       "txguard_ingest" / info->test_suite_name() / info->name();
  std::filesystem::create_directories(folder);
  const std::filesystem::path path = folder / std::string(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

std::filesystem::path testDataPath(std::string_view name) {
  return std::filesystem::path(TXGUARD_SOURCE_DIR) / "tests" / "ingest" / "data" /
         std::string(name);
}

ReadResult readAll(const std::filesystem::path& path, ReaderOptions options) {
  if (options.pan_hash_key.empty()) options.pan_hash_key = std::string(kTestPanKey);
  RejectList rejects;
  auto reader = openReader(path, options, rejects);
  ReadResult result;
  result.format = reader->format();
  Transaction transaction;
  while (reader->next(transaction)) result.transactions.push_back(transaction);
  result.rejects = rejects.rows();
  result.rows_read = reader->rowsRead();
  result.rows_rejected = reader->rowsRejected();
  return result;
}

ReadResult readText(std::string_view content, ReaderOptions options) {
  return readAll(writeTempFile("input.txt", content), std::move(options));
}

std::string ingestErrorOf(const std::filesystem::path& path, ReaderOptions options) {
  try {
    readAll(path, std::move(options));
  } catch (const IngestError& error) {
    return error.what();
  }
  return "";
}

}  // namespace txguard::testing
