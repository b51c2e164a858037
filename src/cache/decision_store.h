// Account state, decisions and recent alerts in Redis, laid out so that a
// worker decides each transaction exactly once on an at-least-once queue.
//
// Keys: txg:acct:<account> holds "<version>|<AccountState::encode()>";
// txg:dec:<transaction id> holds the decision JSON with a TTL;
// txg:alerts is a list of the newest alert JSON documents, capped;
// txg:stats:decided counts the decisions ever committed;
// txg:outbox:archive and txg:outbox:reports are the transactional outbox:
// archive lines and fraud reports committed with their decision, which the
// outbox uploader moves to object storage (so an S3 outage never blocks or
// loses a decision).
//
// A batch is one read (states and existing decisions, pipelined) and one
// commit (a Lua script, atomic in Redis): the commit writes an account's
// decisions and new state only if the account's version is the one read,
// and no decision of its transactions exists yet. Otherwise the account
// is reported as a conflict and the caller reads and scores it again.
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

struct BatchRead {
  std::unordered_map<std::string, AccountSnapshot> accounts;
  // Per transaction id: the stored decision JSON when it was decided before.
  std::vector<std::optional<std::string>> existing_decisions;
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
  bool alert = false;  // also pushed to the recent-alerts list
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

  // One round trip. `accounts` must be distinct.
  BatchRead read(std::span<const std::string> accounts,
                 std::span<const std::string> transaction_ids);

  // One atomic round trip. Returns the indices (into `accounts`) of the
  // accounts that conflicted; nothing of theirs was written.
  std::vector<std::size_t> commit(const std::vector<AccountWrite>& accounts,
                                  const std::vector<DecisionWrite>& decisions);

  std::optional<std::string> decision(const std::string& transaction_id);

  // Newest first.
  std::vector<std::string> recentAlerts(std::size_t offset, std::size_t limit);

  bool ping() { return redis_.ping(); }

  // Outbox access for the uploader. peek returns up to `count` of the
  // oldest entries, oldest first; drop removes that many from the old end.
  // Only one uploader at a time may drop (see tryLeadership).
  std::vector<std::string> peekOutbox(std::string_view list, std::size_t count);
  void dropOutbox(std::string_view list, std::size_t count);
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

  static std::string accountKey(std::string_view account);
  static std::string decisionKey(std::string_view transaction_id);

 private:
  RedisClient& redis_;
  std::chrono::seconds decision_ttl_;
  std::chrono::seconds account_ttl_;
};

}  // namespace txguard
