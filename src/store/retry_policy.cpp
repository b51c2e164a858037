#include "store/retry_policy.h"

#include <algorithm>

namespace txguard {

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry,
                                       std::mt19937_64& random) {
  using std::chrono::milliseconds;
  const std::int64_t cap = std::max<std::int64_t>(policy.max_delay.count(), 0);
  std::int64_t ceiling = std::max<std::int64_t>(policy.base_delay.count(), 0);
  // Doubling stops at the cap, which also keeps the shift from overflowing.
  for (int i = 1; i < retry && ceiling < cap; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, cap);

  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  return milliseconds(jitter(random));
}

}  // namespace txguard
