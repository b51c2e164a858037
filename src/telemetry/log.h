// Structured logging: one JSON object a line on stdout, through spdlog.
// Card numbers in messages and fields are masked, and a message repeated
// faster than its limit is counted instead of printed.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace txguard::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// Field names should be the usual ids: transaction_id, account, trace_id,
// delivery_tag, attempt, error. Values are logged as JSON strings.
using Field = std::pair<std::string_view, std::string_view>;
using Fields = std::initializer_list<Field>;

// Sets the level ("trace" … "error") and the `component` field every line
// carries ("api", "worker", "replay"). Call once at start-up.
void initialize(std::string_view level, std::string_view component);

bool enabled(Level level);

void write(Level level, std::string_view message, Fields fields = {});

inline void debug(std::string_view message, Fields fields = {}) {
  write(Level::kDebug, message, fields);
}
inline void info(std::string_view message, Fields fields = {}) {
  write(Level::kInfo, message, fields);
}
inline void warn(std::string_view message, Fields fields = {}) {
  write(Level::kWarn, message, fields);
}
inline void error(std::string_view message, Fields fields = {}) {
  write(Level::kError, message, fields);
}

// Like write(), but lines with the same `message` text print at most
// `per_second` times a second; the next printed line carries
// "suppressed": N for the ones dropped in between.
void limited(Level level, std::string_view message, Fields fields = {}, int per_second = 1);

// Formats one log line without writing it (used by write and by tests).
std::string formatLine(Level level, std::string_view component, std::string_view message,
                       Fields fields, std::uint64_t suppressed);

}  // namespace txguard::log
