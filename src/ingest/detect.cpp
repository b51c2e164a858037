// Format detection from the first bytes of an input.
#include <array>
#include <string>
#include <vector>

#include "ingest/csv.h"
#include "ingest/field_parse.h"
#include "ingest/input_source.h"
#include "ingest/reader.h"

namespace txguard {
namespace {

constexpr std::size_t kMaxKeysListed = 12;

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

[[noreturn]] void throwUnknown(const std::string& what) {
  throw IngestError("cannot detect the input format: " + what + "; pass --format with one of " +
                    std::string(formatNameList()) + " (mapped-csv also needs --mapping)");
}

// Returns the keys of the first JSON object in `text` (its top level only),
// as written between the quotes.
std::vector<std::string_view> firstObjectKeys(std::string_view text) {
  std::vector<std::string_view> keys;
  const std::size_t open = text.find('{');
  if (open == std::string_view::npos) return keys;

  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  std::size_t string_start = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        std::size_t next = i + 1;
        while (next < text.size() && isBlank(text[next])) ++next;
        if (depth == 1 && next < text.size() && text[next] == ':') {
          keys.push_back(text.substr(string_start, i - string_start));
        }
      }
    } else if (c == '"') {
      in_string = true;
      string_start = i + 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
  }
  return keys;
}

std::size_t countPresent(const std::vector<std::string_view>& keys,
                         std::initializer_list<std::string_view> wanted) {
  std::size_t count = 0;
  for (const std::string_view name : wanted) {
    for (const std::string_view key : keys) {
      if (key == name) {
        ++count;
        break;
      }
    }
  }
  return count;
}

InputFormat detectJson(std::string_view text) {
  if (text[0] == '[') {
    std::size_t next = 1;
    while (next < text.size() && isBlank(text[next])) ++next;
    // An empty array contains no transactions, so either JSON format reads
    // it. ACME is chosen because its files are arrays.
    if (next < text.size() && text[next] == ']') return InputFormat::kAcmeJson;
    if (next < text.size() && text[next] != '{') {
      throwUnknown("the input is a JSON array whose first element is not an object (it starts " +
                   quoteValue(text.substr(0, 40)) + ")");
    }
  }
  const std::vector<std::string_view> keys = firstObjectKeys(text);
  const std::size_t acme =
      countPresent(keys, {"transaction_id", "account_number", "value", "date"});
  const std::size_t canonical =
      countPresent(keys, {"id", "account", "card_number", "timestamp", "amount"});
  if (acme >= 2 && acme > canonical) return InputFormat::kAcmeJson;
  if (canonical >= 2 && canonical > acme) return InputFormat::kCanonicalJsonl;

  std::string listed;
  for (std::size_t i = 0; i < keys.size() && i < kMaxKeysListed; ++i) {
    if (i > 0) listed += ", ";
    listed += excerpt(keys[i], 40);
  }
  if (keys.size() > kMaxKeysListed) listed += ", ...";
  throwUnknown("the first JSON object has the keys [" + listed +
               "], which match neither acme-json (transaction_id, account_number, value, date) "
               "nor canonical (id, account or card_number, timestamp, amount)");
}

InputFormat detectCsv(std::string_view text) {
  std::string_view header = text.substr(0, text.find('\n'));
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);

  CsvSplitter splitter(',');
  std::vector<std::string_view> names;
  if (splitter.split(header)) {
    for (const std::string_view name : splitter.fields()) names.push_back(trimSpaces(name));
  }
  if (countPresent(names, {"trans_date_trans_time", "cc_num", "amt", "trans_num"}) == 4) {
    return InputFormat::kSparkovCsv;
  }
  if (countPresent(names, {"step", "type", "amount", "nameOrig"}) == 4) {
    return InputFormat::kPaysimCsv;
  }
  throwUnknown("the first line " + quoteValue(header) +
               " is neither JSON nor a PaySim header (step,type,amount,nameOrig,...) nor a "
               "Sparkov header (...,trans_date_trans_time,cc_num,...,amt,...,trans_num,...)");
}

}  // namespace

InputFormat detectFormat(std::string_view first_bytes) {
  std::string_view text = first_bytes.substr(utf8BomLength(first_bytes));
  std::size_t start = 0;
  while (start < text.size() && isBlank(text[start])) ++start;
  if (start == text.size()) throwUnknown("the input is empty or contains only blank lines");
  text.remove_prefix(start);

  if (text[0] == '[' || text[0] == '{') return detectJson(text);
  return detectCsv(text);
}

}  // namespace txguard
