// Scores transactions against the account state in Redis, so that each
// transaction id is decided exactly once however often it is delivered.
// The worker calls it per batch, the API's /v1/score per request.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/account_cache.h"
#include "cache/decision_store.h"
#include "decision/decision.h"
#include "decision/scorer.h"
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

  // `cache` (optional, may be shared between threads) keeps the states
  // this service committed, so that a later call reads only the other
  // accounts from Redis. Decisions of `reports_from` or a stronger action
  // get a fraud report. Every flagged decision gets an alert.
  DecisionService(DecisionStore& store, const ScoringSetupSource& setups, Metrics& metrics,
                  AccountCache* cache = nullptr, Action reports_from = Action::kReview);

  // Decides every transaction in order. `ingested_at_ms` (same length, or
  // empty) feeds the ingest-to-decision latency. Throws RedisError when
  // Redis is unreachable and ConflictError as described above; in both
  // cases nothing is half-written for an account. After a RedisError the
  // cache is cleared.
  void score(std::span<const Transaction> transactions, std::span<const std::int64_t> ingested_at_ms,
             std::vector<ScoredTransaction>& out);

 private:
  void scoreRemaining(std::span<const Transaction> transactions,
                      std::span<const std::int64_t> ingested_at_ms,
                      std::vector<std::size_t> remaining,
                      std::unordered_map<std::string_view, AccountSnapshot>& known,
                      std::vector<ScoredTransaction>& out);
  DecisionWrite decisionWrite(const Transaction& transaction, const Decision& decision,
                              const PendingDecision& pending) const;

  DecisionStore& store_;
  const ScoringSetupSource& setups_;
  Metrics& metrics_;
  AccountCache* cache_;
  Action reports_from_;
};

// Returns the action named by TXGUARD_REPORTS_FROM ("review" or "block").
Action reportsFromAction(std::string_view name);

// Parses the action out of a stored decision JSON.
Action actionOfDecisionJson(std::string_view decision_json);

}  // namespace txguard
