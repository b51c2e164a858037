// Account state, decisions and recent alerts in Redis, laid out so that a
// worker decides each transaction exactly once on an at-least-once queue.
//
// Keys: txg:acct:<account> holds "<version>|<AccountState::encode()>";
// txg:dec:<transaction id> holds the decision JSON with a TTL;
// txg:alerts is a list of the newest alert JSON documents, capped;
// txg:stats:decided counts the decisions ever committed;
// txg:outbox:archive, txg:outbox:reports and txg:outbox:alerts are the
// transactional outbox: archive lines, fraud reports and alert messages
// committed with their decision. The outbox uploader moves the first two to
// object storage and the alert relay the alerts to RabbitMQ. So an S3 or
// broker outage loses nothing, and decisions go on until the outbox reaches
// the worker's pause limit.
//
// A batch is one commit (a Lua script, atomic in Redis), preceded by a
// pipelined read of the accounts the caller does not already know. The
// commit writes an account's decisions and new state only if the account's
// version is the one expected and no decision of its transactions exists
// yet. Otherwise the account is reported as a conflict, with its stored
// state and the decisions found, and the caller scores it again from there
// without another read.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/redis_client.h"
#include "features/account_state.h"

namespace txguard {

struct AccountSnapshot {
  AccountState state;
  std::uint64_t version = 0;  // 0: the account has no state in Redis yet
};

// An account the commit did not write, and why.
struct AccountConflict {
  std::size_t account = 0;  // index into the AccountWrite list
  AccountSnapshot stored;   // the account as stored in Redis now
};

struct CommitResult {
  std::vector<AccountConflict> conflicts;
  // Decisions that existed before this commit (a redelivery or a repeated
  // request): index into the DecisionWrite list and the stored JSON. Their
  // accounts are among the conflicts, because their new state counted the
  // transaction a second time.
  std::vector<std::pair<std::size_t, std::string>> existing;
};

struct AccountWrite {
  std::string account;
  std::uint64_t expected_version = 0;
  std::string encoded_state;
};

struct DecisionWrite {
  std::string transaction_id;
  std::size_t account_index = 0;  // into the AccountWrite list
  std::string decision_json;
  bool alert = false;  // also pushed to the recent-alerts list and the alerts outbox
  std::string archive_line;  // pushed to the archive outbox when not empty
  std::string report_key;    // with report_body: pushed to the reports outbox
  std::string report_body;
};

// One outbox entry: an object to write, oldest first.
struct OutboxEntry {
  std::string key;   // object key (reports) or empty (archive lines)
  std::string body;
};

class DecisionStore {
 public:
  static constexpr std::size_t kRecentAlertsKept = 10000;

  DecisionStore(RedisClient& redis, std::chrono::seconds decision_ttl,
                std::chrono::seconds account_ttl = std::chrono::hours(24 * 90));

  // One pipelined round trip: the stored state of each account (version 0
  // and an empty state when it has none). `accounts` must be distinct.
  std::unordered_map<std::string, AccountSnapshot> readAccounts(
      std::span<const std::string> accounts);

  // One atomic round trip. Nothing of a conflicted account is written. The
  // archive lines of the decisions written go to the archive outbox as one
  // entry, joined by newlines.
  CommitResult commit(const std::vector<AccountWrite>& accounts,
                      const std::vector<DecisionWrite>& decisions);

  std::optional<std::string> decision(const std::string& transaction_id);

  // Newest first.
  std::vector<std::string> recentAlerts(std::size_t offset, std::size_t limit);

  bool ping() { return redis_.ping(); }

  // Outbox access for the uploader and the alert relay. peekOutbox returns
  // up to `count` of the oldest entries, oldest first, after leaving out
  // the `skip` oldest.
  std::vector<std::string> peekOutbox(std::string_view list, std::size_t count,
                                      std::size_t skip = 0);
  // Removes the `count` oldest entries, but only while `holder` still has
  // the lease `lease` (see tryLeadership), in one atomic step. Returns
  // false, with nothing removed, when the lease has passed to another
  // process, which then handles the same entries itself.
  bool dropOutboxAsHolder(std::string_view list, std::size_t count, std::string_view lease,
                          std::string_view holder);
  std::uint64_t outboxLength(std::string_view list);
  // Memory Redis uses for the list (MEMORY USAGE), in bytes.
  std::uint64_t outboxBytes(std::string_view list);

  // Takes or renews a lease named `name` for `holder`, expiring after `ttl`
  // unless renewed. Returns true while `holder` has it.
  bool tryLeadership(std::string_view name, std::string_view holder, std::chrono::milliseconds ttl);
  // Gives the lease up if `holder` has it, so another process can take it
  // at once instead of after the TTL.
  void releaseLeadership(std::string_view name, std::string_view holder);

  // Decisions ever committed: each new decision adds 1 in the same atomic
  // commit, so it equals the number of distinct transactions decided.
  std::uint64_t decidedCount();

  static constexpr std::string_view kDecidedCounter = "txg:stats:decided";
  static constexpr std::string_view kArchiveOutbox = "txg:outbox:archive";
  static constexpr std::string_view kReportsOutbox = "txg:outbox:reports";
  static constexpr std::string_view kAlertsOutbox = "txg:outbox:alerts";

  static std::string accountKey(std::string_view account);
  static std::string decisionKey(std::string_view transaction_id);

  // Parses a stored account value, "<version>|<state>". `key` names the
  // key in the error for a malformed value.
  static AccountSnapshot parseAccount(std::string_view key, std::string_view value);

 private:
  RedisClient& redis_;
  std::chrono::seconds decision_ttl_;
  std::chrono::seconds account_ttl_;
};

}  // namespace txguard
