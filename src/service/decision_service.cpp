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
                                 Metrics& metrics)
    : store_(store), setups_(setups), metrics_(metrics) {}

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

  const std::shared_ptr<const ScoringSetup> setup = setups_.current();
  for (int attempt = 1; !remaining.empty(); ++attempt) {
    if (attempt > kMaxAttempts) {
      throw ConflictError(std::to_string(remaining.size()) +
                          " transactions could not be committed: their accounts changed under "
                          "every attempt");
    }

    std::vector<std::string> accounts;
    std::unordered_map<std::string_view, std::size_t> account_index;
    std::vector<std::string> ids;
    for (std::size_t i : remaining) {
      const Transaction& transaction = transactions[i];
      if (account_index.emplace(transaction.account, accounts.size()).second) {
        accounts.push_back(transaction.account);
      }
      ids.push_back(transaction.id);
    }
    // account_index contains views into `transactions`, which outlive it.
    BatchRead read = store_.read(accounts, ids);

    std::vector<std::size_t> todo;
    for (std::size_t k = 0; k < remaining.size(); ++k) {
      const std::size_t i = remaining[k];
      if (read.existing_decisions[k]) {
        out[i].decision_json = std::move(*read.existing_decisions[k]);
        out[i].duplicate = true;
        out[i].action = actionOfDecisionJson(out[i].decision_json);
        metrics_.duplicates().Increment();
      } else {
        todo.push_back(i);
      }
    }
    if (todo.empty()) break;

    // First pass in order on copies of the states, so a conflict discards
    // nothing but these copies.
    Scorer scorer(setup->rules, setup->model.get());
    std::vector<AccountSnapshot> states(accounts.size());
    for (std::size_t a = 0; a < accounts.size(); ++a) states[a] = read.accounts.at(accounts[a]);
    std::vector<Transaction> batch;
    std::vector<PendingDecision> pending(todo.size());
    batch.reserve(todo.size());
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const Transaction& transaction = transactions[todo[k]];
      batch.push_back(transaction);
      scorer.prepare(transaction, states[account_index.at(transaction.account)].state, pending[k]);
    }
    std::vector<Decision> decisions;
    scorer.decide(batch, pending, decisions);

    std::vector<AccountWrite> account_writes(accounts.size());
    for (std::size_t a = 0; a < accounts.size(); ++a) {
      account_writes[a] = AccountWrite{accounts[a], states[a].version, states[a].state.encode()};
    }
    std::vector<DecisionWrite> decision_writes(todo.size());
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const Transaction& transaction = batch[k];
      const Decision& decision = decisions[k];
      DecisionWrite& write = decision_writes[k];
      write.transaction_id = transaction.id;
      write.account_index = account_index.at(transaction.account);
      write.alert = decision.action != Action::kAllow;

      std::string json;
      appendDecisionJson(json, decision);
      if (write.alert) {
        write.report_key = fraudReportKey(transaction);
        write.report_body = renderFraudReport(transaction, pending[k].previous, decision);
        json.pop_back();
        json += ",\"report_key\":";
        appendJsonString(json, write.report_key);
        json.push_back('}');
      }
      // The archive line is the decision plus the transaction as txguard
      // received it (canonical JSON), so `txguard replay` can re-send it
      // and retraining has the inputs.
      write.archive_line = json;
      write.archive_line.pop_back();
      write.archive_line += ",\"transaction\":";
      // The transaction's free-text fields may hold a card number. Its id
      // and account (a keyed hash for cards) are identifiers that replay
      // and readers deduplicating by id need unchanged.
      Transaction archived = transaction;
      archived.location = maskPansInText(archived.location);
      archived.counterparty = maskPansInText(archived.counterparty);
      archived.category = maskPansInText(archived.category);
      appendCanonicalJson(write.archive_line, archived);
      write.archive_line.push_back('}');
      write.decision_json = std::move(json);
    }

    const std::vector<std::size_t> conflicts = store_.commit(account_writes, decision_writes);
    std::vector<bool> conflicted(accounts.size(), false);
    for (std::size_t a : conflicts) conflicted[a] = true;

    const std::int64_t now = nowMs();
    std::vector<std::size_t> retry;
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::size_t i = todo[k];
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

  for (const auto& [copy, original] : repeats) {
    out[copy] = out[original];
    out[copy].duplicate = true;
  }
}

}  // namespace txguard
