#include "service/decision_service.h"

#include <chrono>
#include <unordered_map>

#include "decision/decision_format.h"
#include "common/pan.h"
#include "decision/scorer.h"
#include "decision/text_format.h"
#include "service/transaction_codec.h"

namespace txguard {
namespace {

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Action actionOfDecisionJson(std::string_view decision_json) {
  if (decision_json.find("\"action\":\"block\"") != std::string_view::npos) return Action::kBlock;
  if (decision_json.find("\"action\":\"review\"") != std::string_view::npos) return Action::kReview;
  return Action::kAllow;
}

DecisionService::DecisionService(DecisionStore& store, const ScoringSetupSource& setups,
                                 Metrics& metrics, AccountCache* cache, Action reports_from)
    : store_(store),
      setups_(setups),
      metrics_(metrics),
      cache_(cache),
      reports_from_(reports_from) {}

Action reportsFromAction(std::string_view name) {
  return name == "block" ? Action::kBlock : Action::kReview;
}

void DecisionService::score(std::span<const Transaction> transactions,
                            std::span<const std::int64_t> ingested_at_ms,
                            std::vector<ScoredTransaction>& out) {
  out.assign(transactions.size(), ScoredTransaction{});

  // A transaction id repeated inside one batch is decided once; the later
  // copies take the first one's decision.
  std::unordered_map<std::string_view, std::size_t> first_of_id;
  std::vector<std::size_t> remaining;
  std::vector<std::pair<std::size_t, std::size_t>> repeats;  // (copy, original)
  for (std::size_t i = 0; i < transactions.size(); ++i) {
    auto [it, inserted] = first_of_id.emplace(transactions[i].id, i);
    if (inserted) {
      remaining.push_back(i);
    } else {
      repeats.emplace_back(i, it->second);
    }
  }

  // The state each account is scored from: the cache's, what Redis returned
  // for the others, and after a conflict the state the commit found.
  std::unordered_map<std::string_view, AccountSnapshot> known;
  try {
    scoreRemaining(transactions, ingested_at_ms, remaining, known, out);
  } catch (const RedisError&) {
    // A commit whose reply was lost may or may not have been applied, so
    // no cached version can be trusted any more.
    if (cache_ != nullptr) cache_->clear();
    throw;
  }

  for (const auto& [copy, original] : repeats) {
    out[copy] = out[original];
    out[copy].duplicate = true;
  }
}

void DecisionService::scoreRemaining(
    std::span<const Transaction> transactions, std::span<const std::int64_t> ingested_at_ms,
    std::vector<std::size_t> remaining,
    std::unordered_map<std::string_view, AccountSnapshot>& known,
    std::vector<ScoredTransaction>& out) {
  const std::shared_ptr<const ScoringSetup> setup = setups_.current();
  for (int attempt = 1; !remaining.empty(); ++attempt) {
    if (attempt > kMaxAttempts) {
      throw ConflictError(std::to_string(remaining.size()) +
                          " transactions could not be committed: their accounts changed under "
                          "every attempt");
    }

    // Accounts of this attempt, in first-seen order. They are views into
    // `transactions`, which outlive every map here.
    std::vector<std::string_view> accounts;
    std::unordered_map<std::string_view, std::size_t> account_index;
    std::vector<std::string_view> unknown;  // not known from an earlier attempt
    for (std::size_t i : remaining) {
      const std::string_view account = transactions[i].account;
      if (!account_index.emplace(account, accounts.size()).second) continue;
      accounts.push_back(account);
      if (!known.contains(account)) unknown.push_back(account);
    }
    // The cache saves the read round trip, so it is used only when it
    // contains every account needed. When some must be read anyway, all
    // are read in the same pipeline. A cached state that another process
    // changed since would cost a conflict and a second commit, while one
    // more key in the read costs next to nothing.
    // NOTE: versions are counters, so a version Redis lost in a crash (AOF
    // everysec) can be reused by another writer for another state, and a
    // cached copy of the lost one would then pass the commit check.
    // So docs/architecture.md asks operators to restart workers after a
    // Redis crash. A random version token would close this gap.
    std::vector<std::pair<std::string_view, AccountSnapshot>> from_cache;
    if (cache_ != nullptr && cache_->worthUsing()) {
      for (std::string_view account : unknown) {
        auto cached = cache_->find(account);
        if (!cached) break;
        from_cache.emplace_back(account, std::move(*cached));
      }
    }
    std::vector<bool> cached_now(accounts.size(), false);
    if (from_cache.size() == unknown.size()) {
      for (auto& [account, snapshot] : from_cache) {
        cached_now[account_index.at(account)] = true;
        known.emplace(account, std::move(snapshot));
      }
    } else {
      const auto stage_start = std::chrono::steady_clock::now();
      const std::vector<std::string> to_read(unknown.begin(), unknown.end());
      auto read = store_.readAccounts(to_read);
      for (std::size_t k = 0; k < unknown.size(); ++k) {
        known.emplace(unknown[k], std::move(read.at(to_read[k])));
      }
      metrics_.stageSeconds("redis_read").Increment(secondsSince(stage_start));
    }

    // Score in order on copies of the states, so a conflict discards
    // nothing but these copies.
    auto stage_start = std::chrono::steady_clock::now();
    Scorer scorer(setup->rules, setup->model.get());
    std::vector<AccountSnapshot> states(accounts.size());
    for (std::size_t a = 0; a < accounts.size(); ++a) states[a] = known.at(accounts[a]);
    std::vector<Transaction> batch;
    std::vector<PendingDecision> pending(remaining.size());
    batch.reserve(remaining.size());
    for (std::size_t k = 0; k < remaining.size(); ++k) {
      const Transaction& transaction = transactions[remaining[k]];
      batch.push_back(transaction);
      scorer.prepare(transaction, states[account_index.at(transaction.account)].state, pending[k]);
    }
    std::vector<Decision> decisions;
    scorer.decide(batch, pending, decisions);

    std::vector<AccountWrite> account_writes(accounts.size());
    for (std::size_t a = 0; a < accounts.size(); ++a) {
      account_writes[a] =
          AccountWrite{std::string(accounts[a]), states[a].version, states[a].state.encode()};
    }
    std::vector<DecisionWrite> decision_writes(remaining.size());
    for (std::size_t k = 0; k < remaining.size(); ++k) {
      decision_writes[k] = decisionWrite(batch[k], decisions[k], pending[k]);
      decision_writes[k].account_index = account_index.at(batch[k].account);
    }
    metrics_.stageSeconds("score").Increment(secondsSince(stage_start));

    stage_start = std::chrono::steady_clock::now();
    CommitResult result = store_.commit(account_writes, decision_writes);
    metrics_.stageSeconds("redis_commit").Increment(secondsSince(stage_start));

    std::vector<bool> conflicted(accounts.size(), false);
    metrics_.commitConflicts().Increment(static_cast<double>(result.conflicts.size()));
    if (cache_ != nullptr && !from_cache.empty() && from_cache.size() == unknown.size()) {
      // An account that conflicted only because a transaction was decided
      // before (a redelivery) was not stale.
      std::size_t stale = 0;
      for (const AccountConflict& conflict : result.conflicts) {
        const bool version_moved =
            conflict.stored.version != account_writes[conflict.account].expected_version;
        stale += cached_now[conflict.account] && version_moved;
      }
      cache_->recordOutcome(from_cache.size(), stale);
    }
    for (AccountConflict& conflict : result.conflicts) {
      conflicted[conflict.account] = true;
      known[accounts[conflict.account]] = std::move(conflict.stored);
      if (cache_ != nullptr) cache_->erase(accounts[conflict.account]);
    }
    std::vector<bool> existed(remaining.size(), false);
    for (auto& [k, json] : result.existing) {
      const std::size_t i = remaining[k];
      existed[k] = true;
      out[i].decision_json = std::move(json);
      out[i].duplicate = true;
      out[i].action = actionOfDecisionJson(out[i].decision_json);
      metrics_.duplicates().Increment();
    }
    if (cache_ != nullptr) {
      for (std::size_t a = 0; a < accounts.size(); ++a) {
        if (!conflicted[a]) {
          cache_->put(accounts[a], AccountSnapshot{std::move(states[a].state), states[a].version + 1});
        }
      }
    }

    const std::int64_t now = nowMs();
    std::vector<std::size_t> retry;
    for (std::size_t k = 0; k < remaining.size(); ++k) {
      const std::size_t i = remaining[k];
      if (existed[k]) continue;
      if (conflicted[decision_writes[k].account_index]) {
        retry.push_back(i);
        continue;
      }
      out[i].decision_json = std::move(decision_writes[k].decision_json);
      out[i].action = decisions[k].action;
      metrics_.decided(decisions[k].action).Increment();
      if (!ingested_at_ms.empty() && ingested_at_ms[i] > 0) {
        metrics_.ingestToDecision().Observe(static_cast<double>(now - ingested_at_ms[i]) / 1000.0);
      }
    }
    remaining = std::move(retry);
  }
}

DecisionWrite DecisionService::decisionWrite(const Transaction& transaction,
                                             const Decision& decision,
                                             const PendingDecision& pending) const {
  DecisionWrite write;
  write.transaction_id = transaction.id;
  write.alert = decision.action != Action::kAllow;

  std::string json;
  appendDecisionJson(json, decision);
  if (write.alert && decision.action >= reports_from_) {
    write.report_key = fraudReportKey(transaction);
    write.report_body = renderFraudReport(transaction, pending.previous, decision);
    json.pop_back();
    json += ",\"report_key\":";
    appendJsonString(json, write.report_key);
    json.push_back('}');
  }
  // The archive line is the decision plus the transaction as txguard
  // received it (canonical JSON), so `txguard replay` can re-send it and
  // retraining has the inputs.
  write.archive_line.reserve(json.size() + 512);
  write.archive_line = json;
  write.archive_line.pop_back();
  write.archive_line += ",\"transaction\":";
  // The transaction's free-text fields may hold a card number. Its id and
  // account (a keyed hash for cards) are identifiers that replay and
  // readers deduplicating by id need unchanged.
  Transaction archived = transaction;
  archived.location = maskPansInText(archived.location);
  archived.counterparty = maskPansInText(archived.counterparty);
  archived.category = maskPansInText(archived.category);
  appendCanonicalJson(write.archive_line, archived);
  write.archive_line.push_back('}');
  write.decision_json = std::move(json);
  return write;
}

}  // namespace txguard
