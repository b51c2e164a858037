// Streaming readers that turn input files (ACME JSON, canonical JSON Lines,
// PaySim CSV, Sparkov CSV, CSV with a column mapping) into Transactions.
// docs/input-formats.md describes every format, its detection and quirks.
//
// Errors come in two kinds. A problem with the whole input (missing file,
// empty, binary, unknown format, too many bad rows) raises IngestError. A
// bad row is passed to a RejectSink with its line number and a reason, and
// reading goes on with the next row.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "transaction/transaction.h"

namespace txguard {

enum class InputFormat { kAuto, kAcmeJson, kCanonicalJsonl, kPaysimCsv, kSparkovCsv, kMappedCsv };

// Returns the --format value of a format: "acme-json", "canonical", "paysim",
// "sparkov", "mapped-csv", or "auto" for kAuto.
std::string_view formatName(InputFormat format);

// Parses a --format value (the names formatName() returns, "auto" included).
std::optional<InputFormat> parseFormatName(std::string_view name);

// The --format values as "acme-json, canonical, paysim, sparkov, mapped-csv",
// for help text and error messages.
std::string_view formatNameList();

// A problem with the whole input. The message is one line that names the
// file (or mapping file) and how to fix the problem.
class IngestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RejectedRow {
  std::uint64_t line = 0;  // 1-based line in the input where the row starts
  std::string reason;      // names the field and the value
  std::string raw;         // the row's text, card numbers masked, cut at 4 KiB
};

// Receives the rows a reader skips.
class RejectSink {
 public:
  virtual ~RejectSink() = default;
  virtual void reject(const RejectedRow& row) = 0;
  // Where a person can read the rejected rows (a path), or empty. Used in
  // the message that aborts a run with too many rejects.
  virtual std::string location() const { return {}; }
};

// Writes rejected rows as CSV with the header "line,reason,raw", quoting
// fields as RFC 4180 does. Card numbers in `raw` are masked again before
// writing, in case a caller passes a row that was not masked.
class RejectsFile : public RejectSink {
 public:
  // Creates or truncates the file and writes the header. Throws IngestError
  // when the file cannot be created.
  explicit RejectsFile(std::filesystem::path path);
  ~RejectsFile() override;
  RejectsFile(const RejectsFile&) = delete;
  RejectsFile& operator=(const RejectsFile&) = delete;

  // Throws IngestError when the write fails (disk full, closed file).
  void reject(const RejectedRow& row) override;
  std::string location() const override;

  std::uint64_t count() const { return count_; }
  const std::filesystem::path& path() const { return path_; }

  // Flushes and closes; later reject() calls throw. Throws IngestError when
  // the flush fails. The destructor closes too but cannot report failures.
  void close();

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::uint64_t count_ = 0;
  std::string line_;  // reused output line
};

// Keeps rejected rows in memory (request bodies, tests).
class RejectList : public RejectSink {
 public:
  void reject(const RejectedRow& row) override { rows_.push_back(row); }
  const std::vector<RejectedRow>& rows() const { return rows_; }

 private:
  std::vector<RejectedRow> rows_;
};

struct ReaderOptions {
  // kAuto detects the format from the first bytes; kAuto with a
  // mapping_file means kMappedCsv.
  InputFormat format = InputFormat::kAuto;

  // YAML column mapping, required for kMappedCsv.
  std::filesystem::path mapping_file;

  // HMAC key that turns card numbers into account keys (common/pan.h).
  // Required when the input contains card numbers (Sparkov, a mapped
  // card_number column, canonical card_number): without a key the hash of
  // a card number could be reversed by trying every number.
  std::string pan_hash_key;

  // The reader raises IngestError once more rows than this are rejected.
  std::uint64_t max_rejects = std::numeric_limits<std::uint64_t>::max();
};

class ChunkedInput;

class TransactionReader {
 public:
  virtual ~TransactionReader();
  TransactionReader(const TransactionReader&) = delete;
  TransactionReader& operator=(const TransactionReader&) = delete;

  // Reads the next valid transaction into `out`, reusing its strings'
  // capacity. Bad rows go to the reject sink and are skipped. Returns false
  // at the end of the input. Throws IngestError when more than max_rejects
  // rows have been rejected or the input cannot be read.
  virtual bool next(Transaction& out) = 0;
  virtual InputFormat format() const = 0;

  // Data rows seen so far, rejected ones included (headers and blank lines
  // are not rows).
  std::uint64_t rowsRead() const { return rows_read_; }
  std::uint64_t rowsRejected() const { return rows_rejected_; }
  // Bytes read from the input so far, and its size (0 when unknown, e.g. a
  // pipe), for a progress bar.
  std::uint64_t bytesRead() const;
  std::uint64_t totalBytes() const;

 protected:
  TransactionReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options,
                    RejectSink& sink);

  ChunkedInput& input() { return *input_; }
  const ChunkedInput& input() const { return *input_; }
  const ReaderOptions& options() const { return options_; }
  void countRow() { ++rows_read_; }

  // Sends a bad row to the sink. `raw` is masked with maskPansInText() at
  // `pan_min_digits`; readers that know where a card number sits mask it
  // before calling. Throws IngestError once more than max_rejects rows have
  // been rejected.
  void rejectRow(std::uint64_t line, std::string_view reason, std::string_view raw,
                 std::size_t pan_min_digits = 12);

 private:
  std::unique_ptr<ChunkedInput> input_;
  ReaderOptions options_;
  RejectSink& sink_;
  RejectedRow rejected_;  // reused for every reject
  std::uint64_t rows_read_ = 0;
  std::uint64_t rows_rejected_ = 0;
};

// Opens `path` ("-" reads standard input) and returns a reader for the
// format in `options`, or the detected one. Throws IngestError when the file
// is missing or unreadable, empty, binary or not UTF-8 (checked on the first
// 64 KiB; a UTF-8 byte order mark is skipped), of an unknown format, or
// when the mapping file is invalid.
std::unique_ptr<TransactionReader> openReader(const std::filesystem::path& path,
                                              const ReaderOptions& options, RejectSink& sink);

// Detects the format from the first bytes of an input (any length; 64 KiB
// is plenty). Never returns kAuto or kMappedCsv, which cannot be recognised
// from content. Throws IngestError naming what the start of the input looked like
// and listing the --format values.
InputFormat detectFormat(std::string_view first_bytes);

struct ParsedDocument {
  InputFormat format = InputFormat::kAuto;
  std::vector<Transaction> transactions;
  std::vector<RejectedRow> rejects;  // line numbers count lines of the body
};

// Parses an in-memory JSON body: one ACME or canonical object (may span
// lines), an array of them, or JSON Lines. options.format may be kAuto,
// kAcmeJson or kCanonicalJsonl; options.max_rejects applies. Throws
// IngestError for an empty body, non-JSON, or an unknown format.
ParsedDocument parseJsonDocument(std::string_view body, const ReaderOptions& options);

}  // namespace txguard
