// Checks the API applies on top of the file readers, which are lenient with
// files: every key must be known, dates may not be in the future and
// amounts must be plausible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/reader.h"

namespace txguard {

struct RequestProblem {
  std::uint64_t item = 0;  // 1-based position of the transaction in the body
  std::string field;
  std::string reason;
};

// A transaction may be at most this far ahead of the server's clock (clock
// skew between client and server), in milliseconds.
inline constexpr std::int64_t kMaxFutureSkewMs = 5 * 60 * 1000;

// Longest transaction id accepted, in bytes. Ids are Redis keys, message
// ids and parts of object keys, and real ones are far shorter.
inline constexpr std::size_t kMaxIdBytes = 128;

// Amounts above this are taken for a unit or parsing error (1e9 in the
// currency's major unit).
inline constexpr double kMaxAmount = 1e9;

// Returns the unknown keys of each JSON object in `body` (an object, an
// array or JSON Lines) for `format`; empty when all keys are known.
std::vector<RequestProblem> findUnknownFields(std::string_view body, InputFormat format);

// Returns the problems of parsed transactions: future dates, absurd
// amounts, missing ids.
std::vector<RequestProblem> checkTransactions(const std::vector<Transaction>& transactions,
                                              std::int64_t now_ms);

}  // namespace txguard
