#include "ingest/input_source.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/pan.h"
#include "ingest/reader.h"

namespace txguard {
namespace {

static_assert(kInputPadding >= simdjson::SIMDJSON_PADDING,
              "lines are parsed in place, so the buffer needs simdjson's padding");

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path) : path_(path.string()) {
    if (path_ == "-") {
      fd_ = STDIN_FILENO;
      owned_ = false;
    } else {
      fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        throw IngestError("cannot open input file " + path_ + ": " + std::strerror(errno) +
                          "; check the path and its permissions");
      }
    }
    struct stat info {};
    if (::fstat(fd_, &info) == 0) {
      if (S_ISDIR(info.st_mode)) {
        closeFd();
        throw IngestError("input " + path_ + " is a directory; pass a file");
      }
      if (S_ISREG(info.st_mode)) size_ = static_cast<std::uint64_t>(info.st_size);
    }
  }
  ~FileSource() override { closeFd(); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::size_t read(char* dest, std::size_t size) override {
    for (;;) {
      const ssize_t count = ::read(fd_, dest, size);
      if (count >= 0) return static_cast<std::size_t>(count);
      if (errno == EINTR) continue;
      throw IngestError("cannot read input file " + path_ + ": " + std::strerror(errno));
    }
  }
  std::uint64_t size() const override { return size_; }

 private:
  void closeFd() {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string path_;
  int fd_ = -1;
  bool owned_ = true;
  std::uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view body) : body_(body) {}
  std::size_t read(char* dest, std::size_t size) override {
    const std::size_t count = std::min(size, body_.size() - offset_);
    std::memcpy(dest, body_.data() + offset_, count);
    offset_ += count;
    return count;
  }
  std::uint64_t size() const override { return body_.size(); }

 private:
  std::string_view body_;
  std::size_t offset_ = 0;
};

// Returns the offset of the first byte that is not valid UTF-8, or npos.
// With `complete` false, a sequence cut short by the end of `text` is valid.
std::size_t firstInvalidUtf8(std::string_view text, bool complete) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;  // allowed range of the second byte
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;   // overlong
      if (lead == 0xed) high = 0x9f;  // UTF-16 surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;   // overlong
      if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if (i + k >= size) return complete ? i : std::string_view::npos;
      const unsigned char next = bytes[i + k];
      const unsigned char min = k == 1 ? low : 0x80;
      const unsigned char max = k == 1 ? high : 0xbf;
      if (next < min || next > max) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

std::string hexByte(char value) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(value);
  return std::string{kHex[byte >> 4], kHex[byte & 0x0f]};
}

std::uint64_t lineOfOffset(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

std::unique_ptr<ByteSource> openFileSource(const std::filesystem::path& path) {
  return std::make_unique<FileSource>(path);
}

std::unique_ptr<ByteSource> makeMemorySource(std::string_view body) {
  return std::make_unique<MemorySource>(body);
}

ChunkedInput::ChunkedInput(std::unique_ptr<ByteSource> source, std::string name)
    : source_(std::move(source)), name_(std::move(name)), total_bytes_(source_->size()) {
  // An input smaller than a chunk (an API request body) gets a buffer of
  // its own size: zeroing and freeing 1 MiB per request cost more than
  // parsing the request.
  if (total_bytes_ > 0 && total_bytes_ < kChunkBytes) {
    capacity_ = static_cast<std::size_t>(total_bytes_) + 1;
  }
  buffer_.resize(capacity_ + kInputPadding);
}

bool ChunkedInput::fill() {
  if (at_end_) return false;

  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    if (capacity_ >= kMaxRecordBytes) {
      throw IngestError(name_ + ": a line or JSON element is longer than " +
                        std::to_string(kMaxRecordBytes >> 20) +
                        " MiB; is the file in one of the formats " + std::string(formatNameList()) +
                        "?");
    }
    capacity_ = std::min(capacity_ * 2, kMaxRecordBytes);
    buffer_.resize(capacity_ + kInputPadding);
  }

  const std::size_t count = source_->read(buffer_.data() + end_, capacity_ - end_);
  if (count == 0) {
    at_end_ = true;
    return false;
  }
  end_ += count;
  bytes_read_ += count;
  return true;
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = 0;
  for (;;) {
    const std::string_view window = input_.window();
    const void* found = std::memchr(window.data() + scanned, '\n', window.size() - scanned);
    std::size_t length = 0;
    std::size_t consumed = 0;
    if (found != nullptr) {
      length = static_cast<std::size_t>(static_cast<const char*>(found) - window.data());
      consumed = length + 1;
    } else {
      scanned = window.size();
      if (input_.fill()) continue;
      if (window.empty()) return false;
      length = window.size();
      consumed = length;
    }

    line = window.substr(0, length);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    input_.consume(consumed);
    ++line_number_;
    return true;
  }
}

void checkTextEncoding(std::string_view head, bool complete, std::string_view name) {
  const std::string prefix = std::string(name) + ": ";
  const auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };

  if (starts(std::string_view("\xff\xfe\x00\x00", 4)) ||
      starts(std::string_view("\x00\x00\xfe\xff", 4))) {
    throw IngestError(prefix +
                      "the input is UTF-32 (it starts with a UTF-32 byte order mark); "
                      "convert it to UTF-8, e.g. iconv -f UTF-32 -t UTF-8");
  }
  if (starts("\xff\xfe") || starts("\xfe\xff")) {
    throw IngestError(prefix +
                      "the input is UTF-16 (it starts with a UTF-16 byte order mark); "
                      "convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8");
  }
  if (starts("\x1f\x8b")) {
    throw IngestError(prefix + "the input is gzip-compressed; decompress it first (gunzip)");
  }
  if (starts("PK\x03\x04")) {
    throw IngestError(prefix + "the input is a ZIP archive; extract the file first (unzip)");
  }

  const std::size_t nul = head.find('\0');
  if (nul != std::string_view::npos) {
    throw IngestError(prefix + "the input contains a NUL byte at offset " + std::to_string(nul) +
                      " (line " + std::to_string(lineOfOffset(head, nul)) +
                      "), so it is binary or UTF-16 without a byte order mark; "
                      "pass a UTF-8 text file");
  }

  const std::size_t invalid = firstInvalidUtf8(head, complete);
  if (invalid != std::string_view::npos) {
    throw IngestError(prefix + "the input is not valid UTF-8 (byte 0x" + hexByte(head[invalid]) +
                      " at offset " + std::to_string(invalid) + ", line " +
                      std::to_string(lineOfOffset(head, invalid)) +
                      "); convert it to UTF-8, e.g. iconv -f LATIN1 -t UTF-8");
  }
}

std::size_t utf8BomLength(std::string_view text) {
  return text.substr(0, 3) == "\xef\xbb\xbf" ? 3 : 0;
}

bool isValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  std::string result = maskPansInText(text.substr(0, max_bytes), kMinPanDigits);
  if (text.size() > max_bytes) result += "...";
  return result;
}

}  // namespace txguard
