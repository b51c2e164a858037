#include "service/transaction_codec.h"

#include <simdjson.h>

#include <cmath>

#include <fmt/format.h>

#include "decision/text_format.h"

namespace txguard {
namespace {

void appendString(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += ",\"";
  out += name;
  out += "\":";
  appendJsonString(out, value);
}

void appendNumber(std::string& out, std::string_view name, double value) {
  if (!isPresent(value)) return;
  fmt::format_to(std::back_inserter(out), ",\"{}\":{}", name, value);
}

// The optional fields, shared by the message and the canonical form: each
// is left out when the transaction does not have it.
void appendOptionalFields(std::string& out, const Transaction& transaction) {
  appendString(out, "currency", transaction.currency);
  appendString(out, "location", transaction.location);
  appendNumber(out, "latitude", transaction.latitude);
  appendNumber(out, "longitude", transaction.longitude);
  appendNumber(out, "home_latitude", transaction.home_latitude);
  appendNumber(out, "home_longitude", transaction.home_longitude);
  appendString(out, "counterparty", transaction.counterparty);
  appendString(out, "category", transaction.category);
  appendNumber(out, "balance_before", transaction.balance_before);
  appendNumber(out, "balance_after", transaction.balance_after);
  appendNumber(out, "counterparty_balance_before", transaction.counterparty_balance_before);
  appendNumber(out, "counterparty_balance_after", transaction.counterparty_balance_after);
  if (transaction.label != Label::kUnknown) {
    fmt::format_to(std::back_inserter(out), ",\"label\":{}", static_cast<int>(transaction.label));
  }
}

}  // namespace

void appendTransactionMessage(std::string& out, const Transaction& transaction,
                              std::int64_t ingested_at_ms) {
  out += "{\"id\":";
  appendJsonString(out, transaction.id);
  out += ",\"account\":";
  appendJsonString(out, transaction.account);
  appendString(out, "account_display", transaction.account_display);
  fmt::format_to(std::back_inserter(out), ",\"timestamp_ms\":{},\"amount\":{}",
                 transaction.timestamp_ms, transaction.amount);
  appendOptionalFields(out, transaction);
  fmt::format_to(std::back_inserter(out), ",\"ingested_at_ms\":{}}}", ingested_at_ms);
}

void appendCanonicalJson(std::string& out, const Transaction& transaction) {
  out += "{\"id\":";
  appendJsonString(out, transaction.id);
  out += ",\"account\":";
  appendJsonString(out, transaction.account);
  out += ",\"timestamp\":\"";
  appendRfc3339(out, transaction.timestamp_ms);
  fmt::format_to(std::back_inserter(out), "\",\"amount\":{}", transaction.amount);
  appendOptionalFields(out, transaction);
  out.push_back('}');
}

void parseTransactionMessage(std::string_view body, Transaction& transaction,
                             std::int64_t& ingested_at_ms) {
  transaction = Transaction{};
  ingested_at_ms = 0;
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  try {
    simdjson::ondemand::document document = parser.iterate(padded);
    simdjson::ondemand::object object = document.get_object();
    bool has_id = false;
    bool has_account = false;
    bool has_timestamp = false;
    bool has_amount = false;
    for (auto field : object) {
      const std::string_view key = field.unescaped_key();
      auto value = field.value();
      auto number = [&]() { return static_cast<double>(value.get_double()); };
      auto text = [&]() { return std::string(std::string_view(value.get_string())); };
      if (key == "id") {
        transaction.id = text();
        has_id = true;
      } else if (key == "account") {
        transaction.account = text();
        has_account = true;
      } else if (key == "account_display") {
        transaction.account_display = text();
      } else if (key == "timestamp_ms") {
        transaction.timestamp_ms = value.get_int64();
        has_timestamp = true;
      } else if (key == "amount") {
        transaction.amount = number();
        has_amount = true;
      } else if (key == "currency") {
        transaction.currency = text();
      } else if (key == "location") {
        transaction.location = text();
      } else if (key == "latitude") {
        transaction.latitude = number();
      } else if (key == "longitude") {
        transaction.longitude = number();
      } else if (key == "home_latitude") {
        transaction.home_latitude = number();
      } else if (key == "home_longitude") {
        transaction.home_longitude = number();
      } else if (key == "counterparty") {
        transaction.counterparty = text();
      } else if (key == "category") {
        transaction.category = text();
      } else if (key == "balance_before") {
        transaction.balance_before = number();
      } else if (key == "balance_after") {
        transaction.balance_after = number();
      } else if (key == "counterparty_balance_before") {
        transaction.counterparty_balance_before = number();
      } else if (key == "counterparty_balance_after") {
        transaction.counterparty_balance_after = number();
      } else if (key == "label") {
        const std::int64_t label = value.get_int64();
        if (label != 0 && label != 1) throw MessageError("label must be 0 or 1");
        transaction.label = label == 1 ? Label::kFraud : Label::kLegitimate;
      } else if (key == "ingested_at_ms") {
        ingested_at_ms = value.get_int64();
      }
    }
    if (!has_id || transaction.id.empty()) throw MessageError("missing field id");
    if (!has_account || transaction.account.empty()) throw MessageError("missing field account");
    if (!has_timestamp) throw MessageError("missing field timestamp_ms");
    if (!has_amount) throw MessageError("missing field amount");
    if (!std::isfinite(transaction.amount) || transaction.amount < 0) {
      throw MessageError(fmt::format("invalid amount {}", transaction.amount));
    }
    if (transaction.account_display.empty()) transaction.account_display = transaction.account;
  } catch (const simdjson::simdjson_error& error) {
    throw MessageError(fmt::format("invalid transaction message: {}", error.what()));
  }
}

}  // namespace txguard
