// A one-line progress bar on stderr, drawn only when stderr is a terminal,
// so that piped and CI runs stay quiet and machine-readable.
#pragma once

#include <chrono>
#include <cstdint>

namespace txguard {

class ProgressBar {
 public:
  // enabled=false draws nothing; otherwise it draws only on a terminal.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();

  // Redraws at most every 100 ms; cheap to call per batch.
  void update(std::uint64_t done_bytes, std::uint64_t total_bytes, std::uint64_t rows);
  void finish();

 private:
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace txguard
