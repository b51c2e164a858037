// The ACME JSON and canonical JSON Lines readers. Both read either JSON
// Lines (one object per line) or a top-level array of objects, and parse
// each object with simdjson On Demand, in place in the input buffer. Each
// line or array element is parsed on its own, so a bad object costs one
// reject with its exact line number, and memory is bounded by the largest
// object.
// NOTE: simdjson's iterate_many, which splits a stream on whitespace and
// numbers documents by byte offset, was not used. Whether it would beat
// per-line parsing here has not been measured.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ingest/field_parse.h"
#include "ingest/readers.h"

namespace txguard {
namespace {

using simdjson::ondemand::json_type;

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view typeName(json_type type) {
  switch (type) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "unknown";
}

// Required fields, as bits of a mask.
enum RequiredField : unsigned {
  kHasId = 1U << 0,
  kHasAccount = 1U << 1,
  kHasTimestamp = 1U << 2,
  kHasAmount = 1U << 3,
};

// Returns the offset just past the JSON object or array that starts at
// text[0], or npos when it does not end within `text`.
std::size_t containerEnd(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

class JsonReader final : public TransactionReader {
 public:
  JsonReader(std::unique_ptr<ChunkedInput> input, InputFormat format, const ReaderOptions& options,
             RejectSink& sink, bool allow_multiline_object)
      : TransactionReader(std::move(input), options, sink), format_(format), lines_(this->input()) {
    const std::size_t start = skipSpaceAndPeek();
    if (start == std::string_view::npos) {
      layout_ = Layout::kLines;
    } else if (this->input().window()[start] == '[') {
      layout_ = Layout::kArray;
    } else if (allow_multiline_object && this->input().window()[start] == '{' &&
               isOneMultilineObject()) {
      layout_ = Layout::kSingleObject;
    } else {
      layout_ = Layout::kLines;
    }
  }

  InputFormat format() const override { return format_; }

  bool next(Transaction& out) override {
    std::string_view text;
    std::uint64_t line = 0;
    while (nextRecord(text, line)) {
      countRow();
      resetTransaction(out);
      out.source_line = line;
      card_text_.clear();
      if (parseRecord(text, out)) return true;
      rejectRecord(line, text);
    }
    return false;
  }

 private:
  enum class Layout { kLines, kArray, kSingleObject };
  // Next token the array reader expects.
  enum class ArrayState { kBeforeArray, kElementOrEnd, kElement, kSeparatorOrEnd, kDone };

  // Returns the window offset of the first non-space byte, reading more
  // input as needed, or npos at the end of the input. Consumes nothing.
  std::size_t skipSpaceAndPeek() {
    std::size_t offset = 0;
    for (;;) {
      const std::string_view window = input().window();
      while (offset < window.size() && isJsonSpace(window[offset])) ++offset;
      if (offset < window.size()) return offset;
      if (!input().fill()) return std::string_view::npos;
    }
  }

  // True when the whole input is one object that spans lines, as a request
  // body often is. Reads the whole input, so it is only for bodies.
  bool isOneMultilineObject() {
    while (input().fill()) {
    }
    const std::string_view body = input().window();
    const std::size_t start = body.find('{');
    const std::size_t end = containerEnd(body.substr(start));
    if (end == std::string_view::npos) return false;
    for (std::size_t i = start + end; i < body.size(); ++i) {
      if (!isJsonSpace(body[i])) return false;
    }
    return body.substr(start, end).find('\n') != std::string_view::npos;
  }

  // Sets `text` to the next object's text (followed in memory by padding
  // bytes) and `line` to the line it starts on.
  bool nextRecord(std::string_view& text, std::uint64_t& line) {
    switch (layout_) {
      case Layout::kLines:
        while (lines_.next(text)) {
          std::size_t first = 0;
          while (first < text.size() && isJsonSpace(text[first])) ++first;
          if (first == text.size()) continue;
          line = lines_.lineNumber();
          return true;
        }
        return false;
      case Layout::kArray:
        return nextArrayElement(text, line);
      case Layout::kSingleObject:
        if (single_object_done_) return false;
        single_object_done_ = true;
        text = input().window();
        line = 1;
        return true;
    }
    return false;
  }

  // Consumes the window up to `offset`, counting the newlines passed.
  void advance(std::size_t offset) {
    const std::string_view passed = input().window().substr(0, offset);
    array_line_ += static_cast<std::uint64_t>(std::count(passed.begin(), passed.end(), '\n'));
    input().consume(offset);
  }

  // Rejects a flaw in the array's punctuation, quoting the input there.
  void rejectArraySyntax(std::string_view reason) {
    countRow();
    rejectRow(array_line_, reason, input().window().substr(0, 200), kMinPanDigits);
  }

  // Ends the array early: the rest cannot be split into elements reliably.
  bool stopArray(std::string_view reason) {
    array_state_ = ArrayState::kDone;
    rejectArraySyntax(reason);
    return false;
  }

  // Consumes the closing ']' and rejects anything but space after it.
  bool finishArray() {
    advance(1);
    array_state_ = ArrayState::kDone;
    const std::size_t rest = skipSpaceAndPeek();
    if (rest != std::string_view::npos) {
      advance(rest);
      rejectArraySyntax("invalid JSON: text after the end of the top-level array");
    }
    return false;
  }

  bool nextArrayElement(std::string_view& text, std::uint64_t& line) {
    while (array_state_ != ArrayState::kDone) {
      const std::size_t next = skipSpaceAndPeek();
      if (next == std::string_view::npos) {
        return stopArray("invalid JSON: the top-level array is not closed; is the file truncated?");
      }
      advance(next);
      const char c = input().window()[0];

      switch (array_state_) {
        case ArrayState::kBeforeArray:
          if (c != '[') return stopArray("invalid JSON: expected a top-level array");
          advance(1);
          array_state_ = ArrayState::kElementOrEnd;
          break;
        case ArrayState::kElementOrEnd:
          if (c == ']') return finishArray();
          return scanElement(text, line);
        case ArrayState::kElement:
          if (c == ']') {
            rejectArraySyntax("invalid JSON: trailing comma before the closing ]");
            return finishArray();
          }
          if (c == ',') {
            rejectArraySyntax("invalid JSON: empty array element between two commas");
            advance(1);
            break;
          }
          return scanElement(text, line);
        case ArrayState::kSeparatorOrEnd:
          if (c == ']') return finishArray();
          if (c != ',')
            return stopArray("invalid JSON: expected ',' or ']' after an array element");
          advance(1);
          array_state_ = ArrayState::kElement;
          break;
        case ArrayState::kDone:
          break;
      }
    }
    return false;
  }

  // Scans the element at the window start up to the ',' or ']' that ends
  // it, outside strings and nested containers.
  bool scanElement(std::string_view& text, std::uint64_t& line) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    bool closed = false;  // an object or array element has been closed
    std::size_t offset = 0;
    for (;;) {
      const std::string_view window = input().window();
      for (; offset < window.size(); ++offset) {
        const char c = window[offset];
        // After a closed container only space may come before ',' or ']'.
        // Stopping at anything else lets the caller report the missing comma.
        if (closed && !isJsonSpace(c)) break;
        if (in_string) {
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = true;
          } else if (c == '"') {
            in_string = false;
          }
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (depth == 0) break;
          closed = --depth == 0;
        } else if (c == ',' && depth == 0) {
          break;
        }
      }
      if (offset < window.size()) break;
      if (!input().fill()) {
        return stopArray("invalid JSON: the top-level array is not closed; is the file truncated?");
      }
    }

    std::size_t length = offset;
    const std::string_view window = input().window();
    while (length > 0 && isJsonSpace(window[length - 1])) --length;
    text = window.substr(0, length);
    line = array_line_;
    array_state_ = ArrayState::kSeparatorOrEnd;
    advance(offset);
    return true;
  }

  bool fail(std::string reason) {
    reason_ = std::move(reason);
    return false;
  }

  bool invalidJson(simdjson::error_code error) {
    return fail(std::string("invalid JSON: ") + simdjson::error_message(error));
  }

  void rejectRecord(std::uint64_t line, std::string_view text) {
    if (card_text_.empty()) {
      rejectRow(line, reason_, text, kMinPanDigits);
    } else {
      rejectRow(line, reason_, maskValueInText(text, card_text_), kMinPanDigits);
    }
  }

  bool parseRecord(std::string_view text, Transaction& out) {
    simdjson::ondemand::document document;
    const simdjson::padded_string_view padded(text.data(), text.size(),
                                              text.size() + kInputPadding);
    if (const auto error = parser_.iterate(padded).get(document)) return invalidJson(error);

    json_type type{};
    if (const auto error = document.type().get(type)) return invalidJson(error);
    if (type != json_type::object) {
      if (!isWellFormedScalar(document, type)) return fail("invalid JSON: " + quoteValue(text));
      return fail("wrong JSON type: expected an object, found " + std::string(typeName(type)));
    }
    simdjson::ondemand::object object;
    if (const auto error = document.get_object().get(object)) return invalidJson(error);

    const bool parsed =
        format_ == InputFormat::kAcmeJson ? parseAcme(object, out) : parseCanonical(object, out);
    if (!parsed) return false;
    // current_location() fails with OUT_OF_BOUNDS once the whole input has
    // been consumed, so success means a second value follows.
    if (!document.current_location().error()) return fail("invalid JSON: text after the object");
    return true;
  }

  // type() looks only at the first byte, so "nonsense" reads as null until
  // the scalar is parsed. Arrays count as well formed, because their type
  // is wrong either way.
  static bool isWellFormedScalar(simdjson::ondemand::document& document, json_type type) {
    switch (type) {
      case json_type::null: {
        bool is_null = false;
        return !document.is_null().get(is_null) && is_null;
      }
      case json_type::boolean: {
        bool flag = false;
        return !document.get_bool().get(flag);
      }
      case json_type::number: {
        double number = 0.0;
        return !document.get_double().get(number);
      }
      case json_type::string: {
        std::string_view text;
        return !document.get_string().get(text);
      }
      case json_type::array:
      case json_type::object:
        return true;
    }
    return false;
  }

  // Iterates the fields of `object`, calling `handle(key, value)` for each;
  // handle returns false with the reason set.
  template <typename Handler>
  bool forEachField(simdjson::ondemand::object& object, Handler&& handle) {
    for (auto field_result : object) {
      simdjson::ondemand::field field;
      if (const auto error = std::move(field_result).get(field)) return invalidJson(error);
      std::string_view key;
      if (const auto error = field.unescaped_key().get(key)) return invalidJson(error);
      if (!handle(key, field.value())) return false;
    }
    return true;
  }

  json_type typeOf(simdjson::ondemand::value& value, bool& ok) {
    json_type type{};
    if (const auto error = value.type().get(type)) {
      ok = invalidJson(error);
    } else {
      ok = true;
    }
    return type;
  }

  bool wrongType(std::string_view key, std::string_view expected, json_type found) {
    return fail("wrong JSON type: " + std::string(key) + " must be " + std::string(expected) +
                ", found " + std::string(typeName(found)));
  }

  // Reads a string; null clears `out`.
  bool readString(std::string_view key, simdjson::ondemand::value value, std::string& out) {
    bool ok = false;
    const json_type type = typeOf(value, ok);
    if (!ok) return false;
    if (type == json_type::null) {
      out.clear();
      return true;
    }
    if (type != json_type::string) return wrongType(key, "a string", type);
    std::string_view text;
    if (const auto error = value.get_string().get(text)) return invalidJson(error);
    out.assign(text);
    return true;
  }

  // Reads a string, or a number kept as written (ids exported as numbers).
  bool readStringOrNumber(std::string_view key, simdjson::ondemand::value value, std::string& out) {
    bool ok = false;
    const json_type type = typeOf(value, ok);
    if (!ok) return false;
    if (type == json_type::number) {
      std::string_view token = value.raw_json_token();
      while (!token.empty() && isJsonSpace(token.back())) token.remove_suffix(1);
      out.assign(token);
      return true;
    }
    if (type != json_type::string && type != json_type::null) {
      return wrongType(key, "a string", type);
    }
    return readString(key, value, out);
  }

  // Reads a finite number; null gives kMissing.
  bool readNumber(std::string_view key, simdjson::ondemand::value value, double& out) {
    bool ok = false;
    const json_type type = typeOf(value, ok);
    if (!ok) return false;
    if (type == json_type::null) {
      out = kMissing;
      return true;
    }
    if (type != json_type::number) return wrongType(key, "a number", type);
    if (value.get_double().get(out) || !std::isfinite(out)) {
      return fail("unparseable number in " + std::string(key) + ": " +
                  quoteValue(value.raw_json_token()));
    }
    return true;
  }

  bool readAmount(std::string_view key, simdjson::ondemand::value value, double& out) {
    if (!readNumber(key, value, out)) return false;
    if (!isPresent(out)) return fail("missing required field " + std::string(key) + " (null)");
    if (out < 0.0) {
      return fail("negative amount in " + std::string(key) + ": " +
                  quoteValue(value.raw_json_token()));
    }
    return true;
  }

  bool readCoordinate(std::string_view key, simdjson::ondemand::value value, double limit,
                      double& out) {
    if (!readNumber(key, value, out)) return false;
    if (isPresent(out) && std::fabs(out) > limit) {
      return fail("out-of-range coordinate in " + std::string(key) + ": " +
                  quoteValue(value.raw_json_token()) + " (expected -" +
                  std::to_string(static_cast<int>(limit)) + " to " +
                  std::to_string(static_cast<int>(limit)) + ")");
    }
    return true;
  }

  bool readLabel(std::string_view key, simdjson::ondemand::value value, Label& out) {
    bool ok = false;
    const json_type type = typeOf(value, ok);
    if (!ok) return false;
    if (type == json_type::null) return true;
    if (type == json_type::boolean) {
      bool flag = false;
      if (const auto error = value.get_bool().get(flag)) return invalidJson(error);
      out = flag ? Label::kFraud : Label::kLegitimate;
      return true;
    }
    if (type != json_type::number) return wrongType(key, "0, 1, true or false", type);
    double number = 0.0;
    if (value.get_double().get(number) || (number != 0.0 && number != 1.0)) {
      return fail("bad label in " + std::string(key) + ": " + quoteValue(value.raw_json_token()) +
                  " (expected 0, 1, true or false)");
    }
    out = number == 1.0 ? Label::kFraud : Label::kLegitimate;
    return true;
  }

  bool readTimestamp(std::string_view key, simdjson::ondemand::value value,
                     const char* (*parse)(std::string_view, std::int64_t&),
                     std::int64_t& epoch_ms) {
    if (!readString(key, value, scratch_)) return false;
    if (scratch_.empty()) return true;  // missing; reported as a required field
    if (const char* problem = parse(scratch_, epoch_ms)) {
      return fail("bad date in " + std::string(key) + ": " + quoteValue(scratch_) + " (" + problem +
                  ")");
    }
    return true;
  }

  bool requireFields(unsigned seen, unsigned required, const char* const names[4]) {
    for (unsigned bit = 0; bit < 4; ++bit) {
      if ((required & (1U << bit)) != 0 && (seen & (1U << bit)) == 0) {
        return fail("missing required field " + std::string(names[bit]));
      }
    }
    return true;
  }

  bool parseAcme(simdjson::ondemand::object& object, Transaction& out) {
    unsigned seen = 0;
    const bool fields_ok = forEachField(object, [&](std::string_view key, auto value) {
      if (key == "transaction_id") {
        if (!readStringOrNumber(key, value, out.id)) return false;
        if (!out.id.empty()) seen |= kHasId;
      } else if (key == "account_number") {
        if (!readStringOrNumber(key, value, out.account)) return false;
        if (!out.account.empty()) seen |= kHasAccount;
      } else if (key == "value") {
        if (!readAmount(key, value, out.amount)) return false;
        seen |= kHasAmount;
      } else if (key == "date") {
        if (!readTimestamp(key, value, parseDateTimeUtc, out.timestamp_ms)) return false;
        if (!scratch_.empty()) seen |= kHasTimestamp;
      } else if (key == "state" || key == "country") {
        return readString(key, value, out.location);
      } else if (key == "currency") {
        return readCurrency(key, value, out.currency);
      }
      return true;
    });
    if (!fields_ok) return false;
    static constexpr const char* kNames[4] = {"transaction_id", "account_number", "date", "value"};
    if (!requireFields(seen, kHasId | kHasAccount | kHasTimestamp | kHasAmount, kNames)) {
      return false;
    }
    out.account_display.assign(out.account);
    return true;
  }

  bool readCurrency(std::string_view key, simdjson::ondemand::value value, std::string& out) {
    if (!readString(key, value, scratch_)) return false;
    if (scratch_.empty()) return true;
    if (const char* problem = parseCurrency(scratch_, out)) {
      return fail("bad currency in " + std::string(key) + ": " + quoteValue(scratch_) + " (" +
                  problem + ")");
    }
    return true;
  }

  bool readCardNumber(std::string_view key, simdjson::ondemand::value value, Transaction& out) {
    if (!readString(key, value, card_text_)) return false;
    if (card_text_.empty()) return true;
    if (!pan_hasher_) {
      requirePanHashKey(options().pan_hash_key, input().name());
      pan_hasher_ = std::make_unique<PanHasher>(options().pan_hash_key);
    }
    if (const char* problem = applyCardNumber(card_text_, *pan_hasher_, out)) {
      return fail("bad card number in " + std::string(key) + ": '" + maskPan(card_text_) + "' (" +
                  problem + ")");
    }
    return true;
  }

  bool parseCanonical(simdjson::ondemand::object& object, Transaction& out) {
    unsigned seen = 0;
    bool has_card = false;
    const bool fields_ok = forEachField(object, [&](std::string_view key, auto value) {
      if (key == "id") {
        if (!readString(key, value, out.id)) return false;
        if (!out.id.empty()) seen |= kHasId;
      } else if (key == "account") {
        if (!readString(key, value, account_text_)) return false;
        if (!account_text_.empty()) seen |= kHasAccount;
      } else if (key == "card_number") {
        if (!readCardNumber(key, value, out)) return false;
        has_card = !card_text_.empty();
      } else if (key == "timestamp") {
        if (!readTimestamp(key, value, parseRfc3339, out.timestamp_ms)) return false;
        if (!scratch_.empty()) seen |= kHasTimestamp;
      } else if (key == "amount") {
        if (!readAmount(key, value, out.amount)) return false;
        seen |= kHasAmount;
      } else if (key == "currency") {
        return readCurrency(key, value, out.currency);
      } else if (key == "location") {
        return readString(key, value, out.location);
      } else if (key == "latitude") {
        return readCoordinate(key, value, 90, out.latitude);
      } else if (key == "longitude") {
        return readCoordinate(key, value, 180, out.longitude);
      } else if (key == "home_latitude") {
        return readCoordinate(key, value, 90, out.home_latitude);
      } else if (key == "home_longitude") {
        return readCoordinate(key, value, 180, out.home_longitude);
      } else if (key == "counterparty") {
        return readString(key, value, out.counterparty);
      } else if (key == "category") {
        return readString(key, value, out.category);
      } else if (key == "balance_before") {
        return readNumber(key, value, out.balance_before);
      } else if (key == "balance_after") {
        return readNumber(key, value, out.balance_after);
      } else if (key == "counterparty_balance_before") {
        return readNumber(key, value, out.counterparty_balance_before);
      } else if (key == "counterparty_balance_after") {
        return readNumber(key, value, out.counterparty_balance_after);
      } else if (key == "label") {
        return readLabel(key, value, out.label);
      }
      return true;
    });
    if (!fields_ok) return false;

    if ((seen & kHasAccount) != 0 && has_card) {
      return fail("both account and card_number are set; send one of them");
    }
    if (has_card) {
      seen |= kHasAccount;
    } else {
      out.account.assign(account_text_);
      out.account_display.assign(account_text_);
    }
    account_text_.clear();
    static constexpr const char* kNames[4] = {"id", "account (or card_number)", "timestamp",
                                              "amount"};
    return requireFields(seen, kHasId | kHasAccount | kHasTimestamp | kHasAmount, kNames);
  }

  InputFormat format_;
  Layout layout_ = Layout::kLines;
  LineReader lines_;
  // NOTE: On Demand runs the kernel chosen at compile time, which with the
  // default x86-64 flags is simdjson's scalar "fallback" (checked with
  // simdjson::builtin_implementation() on libsimdjson 3.0.1). Building this
  // file with -march=haswell would select a SIMD kernel but require AVX2.
  simdjson::ondemand::parser parser_;
  std::unique_ptr<PanHasher> pan_hasher_;  // created at the first card number
  std::string reason_;
  std::string scratch_;       // timestamp and currency text
  std::string account_text_;  // canonical account, until card_number is ruled out
  std::string card_text_;     // this record's card number, masked in rejects

  // Top-level array state; array_line_ is the line at the window start.
  ArrayState array_state_ = ArrayState::kBeforeArray;
  std::uint64_t array_line_ = 1;

  bool single_object_done_ = false;
};

}  // namespace

std::unique_ptr<TransactionReader> makeJsonReader(std::unique_ptr<ChunkedInput> input,
                                                  InputFormat format, const ReaderOptions& options,
                                                  RejectSink& sink, bool allow_multiline_object) {
  return std::make_unique<JsonReader>(std::move(input), format, options, sink,
                                      allow_multiline_object);
}

}  // namespace txguard
