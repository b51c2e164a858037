#include "telemetry/log.h"

#include <chrono>
#include <mutex>
#include <unordered_map>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/pan.h"
#include "decision/text_format.h"

namespace txguard::log {
namespace {

struct LoggerState {
  std::shared_ptr<spdlog::logger> logger;
  std::string component = "txguard";
  Level level = Level::kInfo;
};

LoggerState& state() {
  static LoggerState instance;
  return instance;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

Level parseLevel(std::string_view name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return Level::kInfo;
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct RateWindow {
  std::int64_t second = 0;
  int printed = 0;
  std::uint64_t suppressed = 0;
};

}  // namespace

void initialize(std::string_view level, std::string_view component) {
  LoggerState& logger_state = state();
  logger_state.component = std::string(component);
  logger_state.level = parseLevel(level);
  // The line is already JSON; spdlog adds nothing but the newline and its
  // thread-safe sink.
  auto logger = spdlog::stdout_logger_mt("txguard-json");
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  logger_state.logger = std::move(logger);
}

bool enabled(Level level) { return level >= state().level; }

std::string formatLine(Level level, std::string_view component, std::string_view message,
                       Fields fields, std::uint64_t suppressed) {
  std::string line = "{\"time\":\"";
  appendRfc3339(line, nowMs());
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"component\":";
  appendJsonString(line, component);
  line += ",\"message\":";
  appendJsonString(line, maskPansInText(message));
  for (const auto& [name, value] : fields) {
    line.push_back(',');
    appendJsonString(line, name);
    line.push_back(':');
    appendJsonString(line, maskPansInText(value));
  }
  if (suppressed > 0) line += ",\"suppressed\":" + std::to_string(suppressed);
  line.push_back('}');
  return line;
}

namespace {

void emit(Level level, std::string_view message, Fields fields, std::uint64_t suppressed) {
  LoggerState& logger_state = state();
  const std::string line = formatLine(level, logger_state.component, message, fields, suppressed);
  if (logger_state.logger) {
    logger_state.logger->info(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace

void write(Level level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  emit(level, message, fields, 0);
}

void limited(Level level, std::string_view message, Fields fields, int per_second) {
  if (!enabled(level)) return;
  static std::mutex mutex;
  static std::unordered_map<std::string, RateWindow> windows;

  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex);
    RateWindow& window = windows[std::string(message)];
    const std::int64_t second = nowMs() / 1000;
    if (window.second != second) {
      window.second = second;
      window.printed = 0;
    }
    if (window.printed >= per_second) {
      ++window.suppressed;
      return;
    }
    ++window.printed;
    suppressed = window.suppressed;
    window.suppressed = 0;
  }
  emit(level, message, fields, suppressed);
}

}  // namespace txguard::log
