#include "http/request_validation.h"

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "ingest/input_source.h"

namespace txguard {
namespace {

constexpr std::array<std::string_view, 6> kAcmeFields = {
    "transaction_id", "account_number", "value", "state", "country", "date"};

constexpr std::array<std::string_view, 18> kCanonicalFields = {
    "id",          "account",        "card_number",   "timestamp",
    "amount",      "currency",       "location",      "latitude",
    "longitude",   "home_latitude",  "home_longitude", "counterparty",
    "category",    "balance_before", "balance_after", "counterparty_balance_before",
    "counterparty_balance_after", "label"};

template <std::size_t N>
bool isKnown(const std::array<std::string_view, N>& fields, std::string_view key) {
  return std::find(fields.begin(), fields.end(), key) != fields.end();
}

void reportUnknown(std::string_view key, std::uint64_t item, InputFormat format,
                   std::vector<RequestProblem>& problems) {
  const bool known = format == InputFormat::kAcmeJson ? isKnown(kAcmeFields, key)
                                                      : isKnown(kCanonicalFields, key);
  if (known) return;
  problems.push_back({item, std::string(key),
                      fmt::format("unknown field '{}'; see docs/input-formats.md for the fields "
                                  "of this format",
                                  key)});
}

void checkObject(simdjson::dom::element element, std::uint64_t item, InputFormat format,
                 std::vector<RequestProblem>& problems) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return;  // the reader already rejected it
  for (const auto field : object) reportUnknown(field.key, item, format, problems);
}

void checkObject(const nlohmann::json& object, std::uint64_t item, InputFormat format,
                 std::vector<RequestProblem>& problems) {
  if (!object.is_object()) return;  // the reader already rejected it
  for (const auto& [key, value] : object.items()) reportUnknown(key, item, format, problems);
}

// Checks the object, or with `items_of_array` each object of the array,
// in `text`. Returns false when `text` is not one JSON document. simdjson
// reads almost every body; nlohmann::json reads the rest, such as integers
// wider than 64 bits, which simdjson rejects.
bool checkDocument(simdjson::dom::parser& parser, std::string_view text, std::uint64_t item,
                   bool items_of_array, InputFormat format, std::vector<RequestProblem>& problems) {
  simdjson::dom::element element;
  if (parser.parse(text.data(), text.size()).get(element) == simdjson::SUCCESS) {
    simdjson::dom::array items;
    if (items_of_array && element.get(items) == simdjson::SUCCESS) {
      for (const simdjson::dom::element each : items) checkObject(each, item++, format, problems);
    } else {
      checkObject(element, item, format, problems);
    }
    return true;
  }
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return false;
  if (items_of_array && document.is_array()) {
    for (const nlohmann::json& each : document) checkObject(each, item++, format, problems);
  } else {
    checkObject(document, item, format, problems);
  }
  return true;
}

}  // namespace

std::vector<RequestProblem> findUnknownFields(std::string_view body, InputFormat format) {
  std::vector<RequestProblem> problems;
  body.remove_prefix(utf8BomLength(body));
  // Bodies up to 256 KiB use this thread's parser, which keeps its buffers
  // between requests. Larger ones get a parser of their own, so that no
  // request thread keeps megabytes after one large request.
  constexpr std::size_t kKeptParserBytes = 256 << 10;
  thread_local simdjson::dom::parser kept_parser;
  std::optional<simdjson::dom::parser> own_parser;
  simdjson::dom::parser& parser =
      body.size() <= kKeptParserBytes ? kept_parser : own_parser.emplace();

  if (checkDocument(parser, body, 1, /*items_of_array=*/true, format, problems)) return problems;
  // JSON Lines: one object a line.
  std::uint64_t item = 0;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++item;
    checkDocument(parser, line, item, /*items_of_array=*/false, format, problems);
  }
  return problems;
}

std::vector<RequestProblem> checkTransactions(const std::vector<Transaction>& transactions,
                                              std::int64_t now_ms) {
  std::vector<RequestProblem> problems;
  for (std::size_t i = 0; i < transactions.size(); ++i) {
    const Transaction& transaction = transactions[i];
    const std::uint64_t item = i + 1;
    if (transaction.id.empty()) {
      problems.push_back({item, "id", "missing transaction id; it is the idempotency key"});
    } else if (transaction.id.size() > kMaxIdBytes) {
      problems.push_back({item, "id",
                          fmt::format("transaction id is {} bytes long; use at most {}",
                                      transaction.id.size(), kMaxIdBytes)});
    } else if (transaction.id.find_first_of(std::string_view("/\\\0\n\r\t", 6)) !=
               std::string::npos) {
      // A '/' would make the id unreadable through /v1/transactions/{id}.
      problems.push_back({item, "id",
                          "transaction id contains '/', '\\' or a control character; use "
                          "letters, digits and punctuation such as - _ . :"});
    }
    if (transaction.timestamp_ms > now_ms + kMaxFutureSkewMs) {
      problems.push_back({item, "timestamp",
                          fmt::format("date is {} s in the future; send the time the transaction "
                                      "was made (UTC)",
                                      (transaction.timestamp_ms - now_ms) / 1000)});
    }
    if (transaction.amount > kMaxAmount) {
      problems.push_back({item, "amount",
                          fmt::format("amount {} is above the limit of {:.0f}; check the unit",
                                      transaction.amount, kMaxAmount)});
    }
  }
  return problems;
}

}  // namespace txguard
