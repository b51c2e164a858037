#include "ingest/reader.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/pan.h"
#include "ingest/input_source.h"
#include "ingest/readers.h"

namespace txguard {
namespace {

// Maximum bytes of raw row text kept in a reject.
constexpr std::size_t kMaxRawBytes = 4096;

constexpr std::array<std::pair<InputFormat, std::string_view>, 6> kFormatNames = {{
    {InputFormat::kAuto, "auto"},
    {InputFormat::kAcmeJson, "acme-json"},
    {InputFormat::kCanonicalJsonl, "canonical"},
    {InputFormat::kPaysimCsv, "paysim"},
    {InputFormat::kSparkovCsv, "sparkov"},
    {InputFormat::kMappedCsv, "mapped-csv"},
}};

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Wraps `source`, reads the first 64 KiB, checks their encoding and skips a
// UTF-8 byte order mark.
std::unique_ptr<ChunkedInput> prepareInput(std::unique_ptr<ByteSource> source,
                                           const std::string& name) {
  auto input = std::make_unique<ChunkedInput>(std::move(source), name);
  bool reached_end = false;
  while (input->window().size() < kHeadCheckBytes) {
    if (!input->fill()) {
      reached_end = true;
      break;
    }
  }
  const std::string_view window = input->window();
  if (window.empty()) {
    throw IngestError(name + ": the input is empty; expected a CSV header line or JSON");
  }
  const bool complete = reached_end && window.size() <= kHeadCheckBytes;
  checkTextEncoding(window.substr(0, kHeadCheckBytes), complete, name);
  input->consume(utf8BomLength(window));

  if (complete && std::all_of(input->window().begin(), input->window().end(), isBlank)) {
    throw IngestError(name +
                      ": the input contains only blank lines; expected a CSV header or JSON");
  }
  return input;
}

std::unique_ptr<TransactionReader> makeReader(std::unique_ptr<ChunkedInput> input,
                                              InputFormat format, const ReaderOptions& options,
                                              RejectSink& sink, bool body) {
  switch (format) {
    case InputFormat::kAcmeJson:
    case InputFormat::kCanonicalJsonl:
      return makeJsonReader(std::move(input), format, options, sink, body);
    case InputFormat::kPaysimCsv:
      return makePaysimReader(std::move(input), options, sink);
    case InputFormat::kSparkovCsv:
      return makeSparkovReader(std::move(input), options, sink);
    case InputFormat::kMappedCsv:
      return makeMappedCsvReader(std::move(input), options, sink);
    case InputFormat::kAuto:
      break;
  }
  throw IngestError("no reader for format auto; detect the format first");
}

InputFormat detectFormatOf(const ChunkedInput& input) {
  try {
    return detectFormat(input.window().substr(0, kHeadCheckBytes));
  } catch (const IngestError& error) {
    throw IngestError(input.name() + ": " + error.what());
  }
}

}  // namespace

std::string_view formatName(InputFormat format) {
  for (const auto& [value, name] : kFormatNames) {
    if (value == format) return name;
  }
  return "unknown";
}

std::optional<InputFormat> parseFormatName(std::string_view name) {
  for (const auto& [value, known] : kFormatNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::string_view formatNameList() { return "acme-json, canonical, paysim, sparkov, mapped-csv"; }

TransactionReader::TransactionReader(std::unique_ptr<ChunkedInput> input,
                                     const ReaderOptions& options, RejectSink& sink)
    : input_(std::move(input)), options_(options), sink_(sink) {}

TransactionReader::~TransactionReader() = default;

std::uint64_t TransactionReader::bytesRead() const { return input_->bytesRead(); }

std::uint64_t TransactionReader::totalBytes() const { return input_->totalBytes(); }

void TransactionReader::rejectRow(std::uint64_t line, std::string_view reason, std::string_view raw,
                                  std::size_t pan_min_digits) {
  ++rows_rejected_;
  rejected_.line = line;
  rejected_.reason.assign(reason);
  // Mask before cutting, so a card number at the cut is never left half
  // masked and half visible.
  rejected_.raw = maskPansInText(raw, pan_min_digits);
  if (rejected_.raw.size() > kMaxRawBytes) rejected_.raw.resize(kMaxRawBytes);
  sink_.reject(rejected_);

  if (rows_rejected_ > options_.max_rejects) {
    std::string message =
        input_->name() + ": aborting: " + std::to_string(rows_rejected_) + " of " +
        std::to_string(rows_read_) +
        " rows rejected, more than --max-rejects=" + std::to_string(options_.max_rejects);
    const std::string location = sink_.location();
    message += location.empty() ? "; see the rejected rows for the reasons"
                                : "; see rejects file " + location;
    throw IngestError(message);
  }
}

std::unique_ptr<TransactionReader> openReader(const std::filesystem::path& path,
                                              const ReaderOptions& options, RejectSink& sink) {
  auto input = prepareInput(openFileSource(path), path.string());
  InputFormat format = options.format;
  if (format == InputFormat::kAuto) {
    format = options.mapping_file.empty() ? detectFormatOf(*input) : InputFormat::kMappedCsv;
  }
  return makeReader(std::move(input), format, options, sink, false);
}

ParsedDocument parseJsonDocument(std::string_view body, const ReaderOptions& options) {
  static const std::string kName = "request body";
  if (options.format != InputFormat::kAuto && options.format != InputFormat::kAcmeJson &&
      options.format != InputFormat::kCanonicalJsonl) {
    throw IngestError(kName + ": format " + std::string(formatName(options.format)) +
                      " is not a JSON format; use auto, acme-json or canonical");
  }
  auto input = prepareInput(makeMemorySource(body), kName);

  const std::string_view window = input->window();
  const auto first = std::find_if_not(window.begin(), window.end(), isBlank);
  if (*first != '{' && *first != '[') {
    throw IngestError(kName + ": not JSON (it starts with '" + std::string(1, *first) +
                      "'); send a JSON object, an array of objects or JSON Lines");
  }
  const InputFormat format =
      options.format == InputFormat::kAuto ? detectFormatOf(*input) : options.format;

  RejectList rejects;
  auto reader = makeReader(std::move(input), format, options, rejects, true);
  ParsedDocument document;
  document.format = format;
  Transaction transaction;
  while (reader->next(transaction)) document.transactions.push_back(transaction);
  document.rejects = rejects.rows();
  return document;
}

}  // namespace txguard
