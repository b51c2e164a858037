#include "ingest/csv.h"

#include <cmath>
#include <cstring>

#include "ingest/field_parse.h"

namespace txguard {
namespace {

std::string formatLimit(double limit) { return std::to_string(static_cast<int>(limit)); }

}  // namespace

bool CsvSplitter::split(std::string_view line) {
  fields_.clear();
  if (line.empty()) {
    fields_.emplace_back();
    return true;
  }
  if (std::memchr(line.data(), '"', line.size()) != nullptr) return splitQuoted(line);

  // Fast path: no quotes, so every delimiter ends a field.
  std::size_t start = 0;
  for (;;) {
    const void* hit = std::memchr(line.data() + start, delimiter_, line.size() - start);
    if (hit == nullptr) {
      fields_.push_back(line.substr(start));
      return true;
    }
    const auto pos = static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
    fields_.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

bool CsvSplitter::splitQuoted(std::string_view line) {
  // Unescaped text is never longer than the line, so this reserve keeps
  // views into unescaped_ valid while it grows.
  unescaped_.clear();
  unescaped_.reserve(line.size());

  std::size_t pos = 0;
  for (;;) {
    const std::size_t column = fields_.size() + 1;
    if (pos < line.size() && line[pos] == '"') {
      const std::size_t unescaped_start = unescaped_.size();
      bool escaped = false;
      std::size_t segment = pos + 1;
      std::size_t search = segment;
      for (;;) {
        const std::size_t quote = line.find('"', search);
        if (quote == std::string_view::npos) {
          error_ = "unterminated quoted field in column " + std::to_string(column);
          return false;
        }
        if (quote + 1 < line.size() && line[quote + 1] == '"') {
          escaped = true;
          unescaped_.append(line.substr(segment, quote + 1 - segment));
          segment = quote + 2;
          search = segment;
          continue;
        }
        if (escaped) {
          unescaped_.append(line.substr(segment, quote - segment));
          fields_.push_back(std::string_view(unescaped_).substr(unescaped_start));
        } else {
          fields_.push_back(line.substr(pos + 1, quote - pos - 1));
        }
        pos = quote + 1;
        break;
      }
      if (pos == line.size()) return true;
      if (line[pos] != delimiter_) {
        error_ = "text after the closing quote of column " + std::to_string(column) +
                 "; quote the whole field";
        return false;
      }
      ++pos;
      continue;
    }

    const std::size_t delimiter = line.find(delimiter_, pos);
    if (delimiter == std::string_view::npos) {
      fields_.push_back(line.substr(pos));
      return true;
    }
    fields_.push_back(line.substr(pos, delimiter - pos));
    pos = delimiter + 1;
  }
}

CsvReader::CsvReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options,
                     RejectSink& sink, char delimiter)
    : TransactionReader(std::move(input), options, sink),
      lines_(this->input()),
      splitter_(delimiter) {
  if (!lines_.next(line_) || trimSpaces(line_).empty()) {
    throw IngestError(this->input().name() +
                      ": the first line is empty; a CSV input starts with its header line");
  }
  if (!splitter_.split(line_)) {
    throw IngestError(this->input().name() + ": invalid header line: " + splitter_.error());
  }
  for (const std::string_view name : splitter_.fields()) header_.emplace_back(trimSpaces(name));
}

std::size_t CsvReader::findColumn(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return kNoColumn;
}

std::size_t CsvReader::requireColumn(std::string_view name, std::string_view format_label) const {
  const std::size_t column = findColumn(name);
  if (column == kNoColumn) {
    throw IngestError(input().name() + ": the header has no " + std::string(format_label) +
                      " column '" + std::string(name) + "'; header columns: " + headerList());
  }
  return column;
}

std::string CsvReader::headerList() const {
  std::string list;
  for (const std::string& name : header_) {
    if (!list.empty()) list += ", ";
    list += name.empty() ? "(empty)" : name;
  }
  return excerpt(list, 400);
}

void CsvReader::setCardColumn(std::size_t column) {
  requirePanHashKey(options().pan_hash_key, input().name());
  card_column_ = column;
  pan_hasher_ = std::make_unique<PanHasher>(options().pan_hash_key);
}

bool CsvReader::next(Transaction& out) {
  while (nextRow()) {
    resetTransaction(out);
    out.source_line = lineNumber();
    if (parseRow(out)) return true;
    rejectCurrentRow();
  }
  return false;
}

bool CsvReader::nextRow() {
  while (lines_.next(line_)) {
    if (line_.empty()) continue;
    countRow();
    if (!splitter_.split(line_)) {
      reason_ = splitter_.error();
    } else if (!isValidUtf8(line_)) {
      reason_ = "invalid UTF-8 in the row; convert the file to UTF-8";
    } else if (splitter_.fields().size() != header_.size()) {
      reason_ = "wrong column count: expected " + std::to_string(header_.size()) +
                " columns as in the header, found " + std::to_string(splitter_.fields().size());
    } else {
      return true;
    }
    rejectCurrentRow();
  }
  return false;
}

void CsvReader::rejectCurrentRow() {
  if (card_column_ == kNoColumn) {
    rejectRow(lineNumber(), reason_, line_);
    return;
  }
  const std::string masked = maskValueInText(line_, trimSpaces(field(card_column_)));
  rejectRow(lineNumber(), reason_, masked, kMinPanDigits);
}

bool CsvReader::fail(std::string reason) {
  reason_ = std::move(reason);
  return false;
}

bool CsvReader::readRequiredText(std::size_t column, std::string_view name, std::string& out) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) return fail("missing required field " + std::string(name));
  out.assign(value);
  return true;
}

bool CsvReader::readAmount(std::size_t column, std::string_view name, double& out) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) return fail("missing required field " + std::string(name));
  if (!parseDouble(value, out)) {
    return fail("unparseable number in " + std::string(name) + ": " + quoteValue(value));
  }
  if (!std::isfinite(out)) {
    return fail("non-finite amount in " + std::string(name) + ": " + quoteValue(value));
  }
  if (out < 0.0) {
    return fail("negative amount in " + std::string(name) + ": " + quoteValue(value));
  }
  return true;
}

bool CsvReader::readOptionalNumber(std::size_t column, std::string_view name, double& out) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) {
    out = kMissing;
    return true;
  }
  if (!parseDouble(value, out)) {
    return fail("unparseable number in " + std::string(name) + ": " + quoteValue(value));
  }
  if (!std::isfinite(out)) {
    return fail("non-finite number in " + std::string(name) + ": " + quoteValue(value));
  }
  return true;
}

bool CsvReader::readOptionalCoordinate(std::size_t column, std::string_view name, double limit,
                                       double& out) {
  if (!readOptionalNumber(column, name, out)) return false;
  if (isPresent(out) && std::fabs(out) > limit) {
    return fail("out-of-range coordinate in " + std::string(name) + ": " +
                quoteValue(field(column)) + " (expected -" + formatLimit(limit) + " to " +
                formatLimit(limit) + ")");
  }
  return true;
}

bool CsvReader::readOptionalLabel(std::size_t column, std::string_view name, Label& out) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) {
    out = Label::kUnknown;
    return true;
  }
  if (const char* problem = parseLabel(value, out)) {
    return fail("bad label in " + std::string(name) + ": " + quoteValue(value) + " (" + problem +
                ")");
  }
  return true;
}

bool CsvReader::readDateTimeUtc(std::size_t column, std::string_view name, std::int64_t& epoch_ms) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) return fail("missing required field " + std::string(name));
  if (const char* problem = parseDateTimeUtc(value, epoch_ms)) {
    return fail("bad date in " + std::string(name) + ": " + quoteValue(value) + " (" + problem +
                ")");
  }
  return true;
}

bool CsvReader::readCardNumber(std::size_t column, std::string_view name, Transaction& out) {
  const std::string_view value = field(column);
  if (trimSpaces(value).empty()) return fail("missing required field " + std::string(name));
  if (const char* problem = applyCardNumber(value, *pan_hasher_, out)) {
    return fail("bad card number in " + std::string(name) + ": '" + maskPan(value) + "' (" +
                problem + ")");
  }
  return true;
}

}  // namespace txguard
