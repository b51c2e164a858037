#include "queue/backoff.h"

#include <stdexcept>
#include <string>

namespace txguard {

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int attempt,
                                       std::mt19937_64& random) {
  if (attempt < 1) {
    throw std::invalid_argument("backoff attempt must be >= 1, got " + std::to_string(attempt));
  }
  if (policy.base.count() <= 0 || policy.cap < policy.base) {
    throw std::invalid_argument("backoff needs 0 < base <= cap, got base " +
                                std::to_string(policy.base.count()) + " ms and cap " +
                                std::to_string(policy.cap.count()) + " ms");
  }

  // Doubling stops once the ceiling reaches the cap, so it stays below
  // 2 * cap and cannot overflow for any cap a caller would set.
  std::int64_t ceiling = policy.base.count();
  for (int i = 1; i < attempt && ceiling < policy.cap.count(); ++i) {
    ceiling *= 2;
  }
  if (ceiling > policy.cap.count()) {
    ceiling = policy.cap.count();
  }

  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  return std::chrono::milliseconds(jitter(random));
}

}  // namespace txguard
