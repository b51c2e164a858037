// Reconnection delays: capped exponential backoff with jitter, so that many
// workers losing the same broker do not reconnect in lock-step.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>

namespace txguard {

struct BackoffPolicy {
  std::chrono::milliseconds base{100};   // ceiling of the first delay
  std::chrono::milliseconds cap{30000};  // no delay exceeds this
};

// Called after each failed connection or lost connection, before waiting
// `delay`; `attempt` counts failures since the last successful connect,
// from 1. The service logs it and counts it in its metrics.
using RetryCallback =
    std::function<void(const std::string& error, int attempt, std::chrono::milliseconds delay)>;

// Returns the delay before reconnection attempt `attempt` (1 for the first
// retry). The ceiling doubles each attempt from `base` up to `cap`, and the
// delay is drawn uniformly from [ceiling / 2, ceiling]. The random half
// spreads clients apart, and the fixed half keeps a dead broker from being
// polled in a tight loop. Throws std::invalid_argument when attempt < 1,
// base <= 0 or cap < base.
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int attempt,
                                       std::mt19937_64& random);

}  // namespace txguard
