// Scores transactions against the account state in Redis, so that each
// transaction id is decided exactly once however often it is delivered.
// The worker calls it per batch, the API's /v1/score per request.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/decision_store.h"
#include "decision/decision.h"
#include "service/scoring_setup.h"
#include "telemetry/metrics.h"
#include "transaction/transaction.h"

namespace txguard {

// Raised when accounts kept changing under this batch (other writers) after
// all attempts; the caller retries the transactions later.
class ConflictError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScoredTransaction {
  // The stored decision JSON: the new one, or the one stored earlier when
  // `duplicate` is true.
  std::string decision_json;
  bool duplicate = false;
  Action action = Action::kAllow;
};

class DecisionService {
 public:
  static constexpr int kMaxAttempts = 5;

  DecisionService(DecisionStore& store, const ScoringSetupSource& setups, Metrics& metrics);

  // Decides every transaction in order. `ingested_at_ms` (same length, or
  // empty) feeds the ingest-to-decision latency. Throws RedisError when
  // Redis is unreachable and ConflictError as described above; in both
  // cases nothing is half-written for an account.
  void score(std::span<const Transaction> transactions, std::span<const std::int64_t> ingested_at_ms,
             std::vector<ScoredTransaction>& out);

 private:
  DecisionStore& store_;
  const ScoringSetupSource& setups_;
  Metrics& metrics_;
};

// Parses the action out of a stored decision JSON.
Action actionOfDecisionJson(std::string_view decision_json);

}  // namespace txguard
