// Chunked reading of an input file or an in-memory body, with the line and
// encoding checks every reader shares. Internal to the ingest module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace txguard {

// Bytes requested from the source per read.
inline constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

// Readable bytes kept after the end of the buffered data, so that simdjson
// can parse a line in place (it needs SIMDJSON_PADDING = 64 readable bytes).
inline constexpr std::size_t kInputPadding = 64;

// Maximum size of a line or JSON array element; a longer one means the input is not
// one of the supported formats, and reading it would exhaust memory.
inline constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 20;

// How much of the start of an input the encoding check looks at.
inline constexpr std::size_t kHeadCheckBytes = std::size_t{64} << 10;

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `dest`; returns 0 only at the end.
  // Throws IngestError on a read error.
  virtual std::size_t read(char* dest, std::size_t size) = 0;
  // Size of the whole input in bytes, or 0 when unknown.
  virtual std::uint64_t size() const = 0;
};

// Opens a file ("-" is standard input). Throws IngestError naming the path
// and the system error when the file cannot be opened or is a directory.
std::unique_ptr<ByteSource> openFileSource(const std::filesystem::path& path);

// Reads from `body`, which must outlive the source.
std::unique_ptr<ByteSource> makeMemorySource(std::string_view body);

// A sliding window over a source. Readers scan window(), consume() what they
// are done with, and call fill() for more bytes. fill() moves the window's
// unconsumed bytes to the buffer's start, so offsets relative to the window
// stay valid across fill(), but pointers do not.
class ChunkedInput {
 public:
  // `name` is the path or "request body", used in error messages.
  ChunkedInput(std::unique_ptr<ByteSource> source, std::string name);

  std::string_view window() const { return {buffer_.data() + begin_, end_ - begin_}; }
  void consume(std::size_t count) { begin_ += count; }

  // Appends more bytes to the window, growing the buffer when the window
  // already fills it. Returns false at the end of the input. Throws
  // IngestError when a record would pass kMaxRecordBytes.
  bool fill();

  const std::string& name() const { return name_; }
  std::uint64_t bytesRead() const { return bytes_read_; }
  std::uint64_t totalBytes() const { return total_bytes_; }

 private:
  std::unique_ptr<ByteSource> source_;
  std::string name_;
  // capacity_ bytes of data plus kInputPadding readable bytes after them.
  std::vector<char> buffer_;
  std::size_t capacity_ = kChunkBytes;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool at_end_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Splits a ChunkedInput into lines ending in LF or CRLF; the last line may
// lack its newline. Each line is followed in memory by at least
// kInputPadding readable bytes.
class LineReader {
 public:
  explicit LineReader(ChunkedInput& input) : input_(input) {}

  // Sets `line` to the next line without its line ending. The view stays
  // valid until the next call. Returns false at the end of the input.
  bool next(std::string_view& line);

  // 1-based number of the line last returned.
  std::uint64_t lineNumber() const { return line_number_; }

 private:
  ChunkedInput& input_;
  std::uint64_t line_number_ = 0;
};

// Throws IngestError (message starting with `name`) when `head`, the first
// bytes of an input, is UTF-16 or UTF-32, compressed, contains NUL bytes, or is
// invalid UTF-8. `complete` says whether `head` is the whole input; when it
// is not, a multi-byte character cut at the end of `head` is fine.
void checkTextEncoding(std::string_view head, bool complete, std::string_view name);

// Returns the length of a UTF-8 byte order mark at the start of `text` (3),
// or 0.
std::size_t utf8BomLength(std::string_view text);

// Returns true when `text` is valid UTF-8.
bool isValidUtf8(std::string_view text);

// Returns `text` cut to `max_bytes` with "..." appended when it was longer,
// for quoting input in messages.
std::string excerpt(std::string_view text, std::size_t max_bytes = 120);

}  // namespace txguard
