#include <cerrno>
#include <cstring>

#include "common/pan.h"
#include "ingest/reader.h"

namespace txguard {
namespace {

// Appends `value` as one CSV field, quoted when it contains a delimiter, a
// quote or a line break (RFC 4180).
void appendCsvField(std::string_view value, std::string& out) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out.push_back('"');
  for (const char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

RejectsFile::RejectsFile(std::filesystem::path path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    throw IngestError("cannot create rejects file " + path_.string() + ": " + std::strerror(errno) +
                      "; check the directory exists and is writable");
  }
  static constexpr std::string_view kHeader = "line,reason,raw\n";
  if (std::fwrite(kHeader.data(), 1, kHeader.size(), file_) != kHeader.size()) {
    const int error = errno;
    std::fclose(file_);
    file_ = nullptr;
    throw IngestError("cannot write rejects file " + path_.string() + ": " + std::strerror(error));
  }
}

RejectsFile::~RejectsFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void RejectsFile::reject(const RejectedRow& row) {
  if (file_ == nullptr) {
    throw IngestError("rejects file " + path_.string() + " is already closed");
  }
  line_.clear();
  line_ += std::to_string(row.line);
  line_.push_back(',');
  appendCsvField(row.reason, line_);
  line_.push_back(',');
  appendCsvField(maskPansInText(row.raw, kMinPanDigits), line_);
  line_.push_back('\n');
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    throw IngestError("cannot write rejects file " + path_.string() + ": " + std::strerror(errno));
  }
  ++count_;
}

std::string RejectsFile::location() const { return path_.string(); }

void RejectsFile::close() {
  if (file_ == nullptr) return;
  const bool flushed = std::fflush(file_) == 0;
  const int error = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    throw IngestError("cannot write rejects file " + path_.string() + ": " + std::strerror(error));
  }
}

}  // namespace txguard
