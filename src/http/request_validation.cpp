#include "http/request_validation.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <simdjson.h>

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

void checkObject(simdjson::dom::element element, std::uint64_t item, InputFormat format,
                 std::vector<RequestProblem>& problems) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return;  // the reader already rejected it
  for (const auto field : object) {
    const std::string_view key = field.key;
    const bool known = format == InputFormat::kAcmeJson ? isKnown(kAcmeFields, key)
                                                        : isKnown(kCanonicalFields, key);
    if (!known) {
      problems.push_back(
          {item, std::string(key), fmt::format("unknown field '{}'; see docs/input-formats.md for the fields "
                                  "of this format",
                                  key)});
    }
  }
}

}  // namespace

std::vector<RequestProblem> findUnknownFields(std::string_view body, InputFormat format) {
  std::vector<RequestProblem> problems;
  // One parser per request thread, reused: it keeps its buffers.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element whole;
  if (parser.parse(body.data(), body.size()).get(whole) == simdjson::SUCCESS) {
    simdjson::dom::array items;
    if (whole.get(items) == simdjson::SUCCESS) {
      std::uint64_t item = 0;
      for (const simdjson::dom::element element : items) checkObject(element, ++item, format, problems);
    } else {
      checkObject(whole, 1, format, problems);
    }
    return problems;
  }
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
    simdjson::dom::element object;
    if (parser.parse(line.data(), line.size()).get(object) == simdjson::SUCCESS) {
      checkObject(object, item, format, problems);
    }
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
