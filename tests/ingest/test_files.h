// Helpers that write inputs to a per-test temporary folder and read them
// back through openReader().
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/reader.h"

namespace txguard::testing {

inline constexpr std::string_view kTestPanKey = "test-key";

// Writes `content` to a fresh file named `name` in a folder unique to the
// running test, and returns its path.
std::filesystem::path writeTempFile(std::string_view name, std::string_view content);

// Path of a file under tests/ingest/data.
std::filesystem::path testDataPath(std::string_view name);

struct ReadResult {
  InputFormat format = InputFormat::kAuto;
  std::vector<Transaction> transactions;
  std::vector<RejectedRow> rejects;
  std::uint64_t rows_read = 0;
  std::uint64_t rows_rejected = 0;
};

// Reads every transaction of `path` with openReader().
ReadResult readAll(const std::filesystem::path& path, ReaderOptions options = {});

// Writes `content` to a temporary file and reads it.
ReadResult readText(std::string_view content, ReaderOptions options = {});

// Returns the message of the IngestError that openReader() or reading
// `path` raises, or "" when none is raised.
std::string ingestErrorOf(const std::filesystem::path& path, ReaderOptions options = {});

}  // namespace txguard::testing
