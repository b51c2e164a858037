#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txguard {

ProgressBar::ProgressBar(bool enabled)
    : active_(enabled && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done_bytes, std::uint64_t total_bytes, std::uint64_t rows) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;

  constexpr int kWidth = 30;
  const double fraction =
      total_bytes == 0 ? 0.0 : std::min(1.0, static_cast<double>(done_bytes) / total_bytes);
  const int filled = static_cast<int>(fraction * kWidth);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? rows / seconds : 0.0;
  fmt::print(stderr, "\r[{}{}] {:5.1f}%  {} rows  {:.0f} rows/s ", std::string(filled, '#'),
             std::string(kWidth - filled, '-'), fraction * 100.0, rows, rate);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (active_ && drawn_) {
    fmt::print(stderr, "\r{}\r", std::string(80, ' '));
    std::fflush(stderr);
  }
  drawn_ = false;
  active_ = false;
}

}  // namespace txguard
