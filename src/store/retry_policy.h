// Backoff between attempts of a remote call.
#pragma once

#include <chrono>
#include <random>

namespace txguard {

struct RetryPolicy {
  // Total attempts including the first; 1 disables retries.
  int max_attempts = 5;
  // Delay ceiling before the first retry; doubles with each further retry.
  std::chrono::milliseconds base_delay{100};
  // Upper bound of any single delay, so a long outage is polled at a steady
  // rate instead of with ever longer gaps.
  std::chrono::milliseconds max_delay{5000};
};

// Returns the delay before retry number `retry` (1 for the first retry):
// d = min(max_delay, base_delay * 2^(retry-1)), then a uniform pick in
// [d/2, d]. The random half spreads out clients that failed together so they
// do not retry in lockstep; the fixed half keeps the delays growing.
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry,
                                       std::mt19937_64& random);

}  // namespace txguard
