// CSV splitting and the base class of the CSV readers. Internal to the
// ingest module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/pan.h"
#include "ingest/input_source.h"
#include "ingest/reader.h"

namespace txguard {

// Splits one CSV line (RFC 4180 quoting: a field may be wrapped in double
// quotes, and inside them the delimiter is literal and "" is one quote).
// Quoted fields cannot span lines. Allocates only when a line is longer
// than any line before it or has more fields.
class CsvSplitter {
 public:
  explicit CsvSplitter(char delimiter) : delimiter_(delimiter) {}

  // Returns false and sets error() when a quoted field is not closed or
  // has text after its closing quote. The field views stay valid until the
  // next split() and while `line` is alive.
  bool split(std::string_view line);

  const std::vector<std::string_view>& fields() const { return fields_; }
  const std::string& error() const { return error_; }

 private:
  // Splits the quoted field that starts at `open_quote`; returns the
  // position after its closing quote, or nullptr with error_ set.
  const char* splitQuoted(std::string_view line, const char* open_quote);

  char delimiter_;
  std::vector<std::string_view> fields_;
  std::string unescaped_;  // storage for fields that held "" escapes
  std::string error_;
};

// Column index of an optional column that the header lacks; field() returns
// an empty view for it.
inline constexpr std::size_t kNoColumn = std::numeric_limits<std::size_t>::max();

// Reads a header line and then data rows, rejecting rows with bad quoting,
// invalid UTF-8 or the wrong number of columns. Subclasses map the fields
// of a row to a Transaction in parseRow().
class CsvReader : public TransactionReader {
 public:
  bool next(Transaction& out) final;

 protected:
  // Reads the header line. Throws IngestError when the input has none.
  CsvReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options, RejectSink& sink,
            char delimiter);

  // Fills `out` from the current row (out is already reset); on a bad
  // value returns fail(reason).
  virtual bool parseRow(Transaction& out) = 0;

  const std::vector<std::string>& header() const { return header_; }
  std::size_t findColumn(std::string_view name) const;
  // Throws IngestError naming the file, the format and the columns found.
  std::size_t requireColumn(std::string_view name, std::string_view format_label) const;
  // The header as "a, b, c", for error messages.
  std::string headerList() const;

  std::string_view field(std::size_t column) const {
    return column < splitter_.fields().size() ? splitter_.fields()[column] : std::string_view();
  }

  // Sets the reject reason; returns false so parseRow() can `return fail(...)`.
  bool fail(std::string reason);

  // Marks a column as containing card numbers, so rejected rows mask it, and
  // sets up the hasher readCardNumber() uses. Throws IngestError when
  // options().pan_hash_key is empty.
  void setCardColumn(std::size_t column);

  // Field readers: each returns false with the reject reason set. A
  // required field must be non-empty; an empty optional one gives kMissing.
  bool readRequiredText(std::size_t column, std::string_view name, std::string& out);
  bool readAmount(std::size_t column, std::string_view name, double& out);
  bool readOptionalNumber(std::size_t column, std::string_view name, double& out);
  // Like readOptionalNumber, and rejects values outside [-limit, limit]
  // (90 for a latitude, 180 for a longitude).
  bool readOptionalCoordinate(std::size_t column, std::string_view name, double limit, double& out);
  bool readOptionalLabel(std::size_t column, std::string_view name, Label& out);
  bool readDateTimeUtc(std::size_t column, std::string_view name, std::int64_t& epoch_ms);
  // Validates a card number and stores its keyed hash and masked display.
  bool readCardNumber(std::size_t column, std::string_view name, Transaction& out);

  std::uint64_t lineNumber() const { return lines_.lineNumber(); }

 private:
  bool nextRow();
  void rejectCurrentRow();

  LineReader lines_;
  CsvSplitter splitter_;
  std::vector<std::string> header_;
  std::string_view line_;
  std::string reason_;
  std::size_t card_column_ = kNoColumn;
  std::unique_ptr<PanHasher> pan_hasher_;  // created when a card column is set
};

}  // namespace txguard
