#include "cache/decision_store.h"

#include <charconv>

#include <fmt/format.h>

namespace txguard {
namespace {

constexpr std::string_view kAlertsKey = "txg:alerts";

// KEYS: alerts list, archive outbox, reports outbox, decided counter,
// alerts outbox.
// ARGV: decision TTL, account TTL, alerts cap, account count A, then per
// account (key, expected version, state), then decision count D, then per
// decision (key, account number 1..A, body, alert flag, archive line,
// report entry).
// Returns {conflicted account numbers (1-based), their stored values ('' when
// none), numbers of decisions that existed already, their stored bodies}.
constexpr std::string_view kCommitScript = R"lua(
local decision_ttl = ARGV[1]
local account_ttl = ARGV[2]
local alerts_cap = tonumber(ARGV[3])
local account_count = tonumber(ARGV[4])
local decisions_at = 5 + 3 * account_count
local decision_count = tonumber(ARGV[decisions_at])
local find, sub, call = string.find, string.sub, redis.call

-- MGET of many keys in chunks: one call each instead of one per key, and
-- well under Lua's stack limit.
local function get_all(keys)
  local values = {}
  for first = 1, #keys, 1000 do
    local chunk = call('MGET', unpack(keys, first, math.min(first + 999, #keys)))
    for k = 1, #chunk do values[first + k - 1] = chunk[k] end
  end
  return values
end

-- ARGV is read in place: no table per account or decision.
local account_keys = {}
for i = 1, account_count do account_keys[i] = ARGV[2 + 3 * i] end
local decision_keys = {}
for j = 1, decision_count do decision_keys[j] = ARGV[decisions_at + 6 * j - 5] end
local currents = get_all(account_keys)
local bodies = get_all(decision_keys)

local conflict = {}
local stored = {}
for i = 1, account_count do
  local current = currents[i]
  local version = '0'
  if current then version = sub(current, 1, find(current, '|', 1, true) - 1) end
  stored[i] = current or ''
  conflict[i] = version ~= ARGV[3 + 3 * i]
end
local existing_numbers = {}
local existing_bodies = {}
for j = 1, decision_count do
  local body = bodies[j]
  if body then
    conflict[tonumber(ARGV[decisions_at + 6 * j - 4])] = true
    existing_numbers[#existing_numbers + 1] = j
    existing_bodies[#existing_bodies + 1] = body
  end
end

local conflict_numbers = {}
local conflict_values = {}
for i = 1, account_count do
  local at = 2 + 3 * i
  if conflict[i] then
    conflict_numbers[#conflict_numbers + 1] = i
    conflict_values[#conflict_values + 1] = stored[i]
  else
    call('SET', ARGV[at], (tonumber(ARGV[at + 1]) + 1) .. '|' .. ARGV[at + 2], 'EX', account_ttl)
  end
end
local alerts = {}
local archive = {}
local reports = {}
local decided = 0
for j = 1, decision_count do
  local at = decisions_at + 6 * j - 5
  if not conflict[tonumber(ARGV[at + 1])] then
    decided = decided + 1
    local body = ARGV[at + 2]
    call('SET', ARGV[at], body, 'EX', decision_ttl)
    if ARGV[at + 3] == '1' then alerts[#alerts + 1] = body end
    local line = ARGV[at + 4]
    if line ~= '' then archive[#archive + 1] = line end
    local report = ARGV[at + 5]
    if report ~= '' then reports[#reports + 1] = report end
  end
end
-- LPUSH takes many values at once; chunks stay well under Lua's stack limit.
local function push_all(key, values)
  for first = 1, #values, 1000 do
    call('LPUSH', key, unpack(values, first, math.min(first + 999, #values)))
  end
end
if #alerts > 0 then
  push_all(KEYS[1], alerts)
  call('LTRIM', KEYS[1], 0, alerts_cap - 1)
  push_all(KEYS[5], alerts)
end
if #archive > 0 then call('LPUSH', KEYS[2], table.concat(archive, '\n')) end
push_all(KEYS[3], reports)
if decided > 0 then call('INCRBY', KEYS[4], decided) end
return {conflict_numbers, conflict_values, existing_numbers, existing_bodies}
)lua";

const std::string& commitScript() {
  static const std::string script(kCommitScript);
  return script;
}

const std::string& commitScriptSha() {
  static const std::string sha = scriptSha1(kCommitScript);
  return sha;
}

std::string replyText(const redisReply& reply) { return std::string(reply.str, reply.len); }

}  // namespace

DecisionStore::DecisionStore(RedisClient& redis, std::chrono::seconds decision_ttl,
                             std::chrono::seconds account_ttl)
    : redis_(redis), decision_ttl_(decision_ttl), account_ttl_(account_ttl) {}

std::string DecisionStore::accountKey(std::string_view account) {
  return fmt::format("txg:acct:{}", account);
}

std::string DecisionStore::decisionKey(std::string_view transaction_id) {
  return fmt::format("txg:dec:{}", transaction_id);
}

AccountSnapshot DecisionStore::parseAccount(std::string_view key, std::string_view value) {
  AccountSnapshot snapshot;
  const auto bar = value.find('|');
  if (bar == std::string_view::npos ||
      std::from_chars(value.data(), value.data() + bar, snapshot.version).ptr !=
          value.data() + bar) {
    throw RedisError(fmt::format("account state {} is malformed (no version); delete the key "
                                 "to start the account's history again",
                                 key));
  }
  snapshot.state = AccountState::decode(value.substr(bar + 1));
  return snapshot;
}

std::unordered_map<std::string, AccountSnapshot> DecisionStore::readAccounts(
    std::span<const std::string> accounts) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(accounts.size());
  for (const std::string& account : accounts) commands.push_back({"GET", accountKey(account)});
  const auto replies = redis_.pipeline(commands);

  std::unordered_map<std::string, AccountSnapshot> result;
  result.reserve(accounts.size());
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const redisReply& reply = *replies[i];
    AccountSnapshot snapshot;
    if (reply.type == REDIS_REPLY_STRING) {
      snapshot = parseAccount(commands[i][1], std::string_view(reply.str, reply.len));
    } else if (reply.type == REDIS_REPLY_ERROR) {
      throw RedisError(fmt::format("GET {} failed: {}", commands[i][1], replyText(reply)));
    }
    result.emplace(accounts[i], std::move(snapshot));
  }
  return result;
}

CommitResult DecisionStore::commit(const std::vector<AccountWrite>& accounts,
                                   const std::vector<DecisionWrite>& decisions) {
  std::vector<std::string> arguments = {std::to_string(decision_ttl_.count()),
                                        std::to_string(account_ttl_.count()),
                                        std::to_string(kRecentAlertsKept),
                                        std::to_string(accounts.size())};
  arguments.reserve(5 + accounts.size() * 3 + decisions.size() * 6);
  for (const AccountWrite& account : accounts) {
    arguments.push_back(accountKey(account.account));
    arguments.push_back(std::to_string(account.expected_version));
    arguments.push_back(account.encoded_state);
  }
  arguments.push_back(std::to_string(decisions.size()));
  for (const DecisionWrite& decision : decisions) {
    arguments.push_back(decisionKey(decision.transaction_id));
    arguments.push_back(std::to_string(decision.account_index + 1));
    arguments.push_back(decision.decision_json);
    arguments.push_back(decision.alert ? "1" : "0");
    arguments.push_back(decision.archive_line);
    // A report entry is "<key>\n<body>"; keys never contain a newline.
    arguments.push_back(decision.report_key.empty() ? std::string()
                                                    : decision.report_key + "\n" +
                                                          decision.report_body);
  }

  RedisReply reply = redis_.evalScript(
      commitScript(), commitScriptSha(),
      {std::string(kAlertsKey), std::string(kArchiveOutbox), std::string(kReportsOutbox),
       std::string(kDecidedCounter), std::string(kAlertsOutbox)},
      arguments);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisError(fmt::format("commit script failed: {}", replyText(*reply)));
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
    throw RedisError("commit script returned an unexpected reply; is another txguard version "
                     "sharing this Redis database?");
  }
  const redisReply& conflict_numbers = *reply->element[0];
  const redisReply& conflict_values = *reply->element[1];
  const redisReply& existing_numbers = *reply->element[2];
  const redisReply& existing_bodies = *reply->element[3];

  CommitResult result;
  for (std::size_t k = 0; k < conflict_numbers.elements; ++k) {
    AccountConflict conflict;
    conflict.account = static_cast<std::size_t>(conflict_numbers.element[k]->integer - 1);
    const redisReply& value = *conflict_values.element[k];
    if (value.type == REDIS_REPLY_STRING && value.len > 0) {
      conflict.stored = parseAccount(accountKey(accounts.at(conflict.account).account),
                                     std::string_view(value.str, value.len));
    }
    result.conflicts.push_back(std::move(conflict));
  }
  for (std::size_t k = 0; k < existing_numbers.elements; ++k) {
    result.existing.emplace_back(static_cast<std::size_t>(existing_numbers.element[k]->integer - 1),
                                 replyText(*existing_bodies.element[k]));
  }
  return result;
}

std::optional<std::string> DecisionStore::decision(const std::string& transaction_id) {
  RedisReply reply = redis_.command({"GET", decisionKey(transaction_id)});
  if (reply->type == REDIS_REPLY_STRING) return replyText(*reply);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisError(fmt::format("GET {} failed: {}", decisionKey(transaction_id), replyText(*reply)));
  }
  return std::nullopt;
}

std::vector<std::string> DecisionStore::recentAlerts(std::size_t offset, std::size_t limit) {
  if (limit == 0) return {};
  RedisReply reply = redis_.command({"LRANGE", std::string(kAlertsKey), std::to_string(offset),
                                     std::to_string(offset + limit - 1)});
  std::vector<std::string> alerts;
  if (reply->type != REDIS_REPLY_ARRAY) return alerts;
  for (std::size_t i = 0; i < reply->elements; ++i) alerts.push_back(replyText(*reply->element[i]));
  return alerts;
}

std::vector<std::string> DecisionStore::peekOutbox(std::string_view list, std::size_t count,
                                                   std::size_t skip) {
  if (count == 0) return {};
  // LPUSH adds at the head, so the oldest entries are at the tail; LRANGE
  // returns them newest first, hence the reversal.
  const auto last = -static_cast<std::int64_t>(skip) - 1;
  RedisReply reply = redis_.command({"LRANGE", std::string(list),
                                     std::to_string(last - static_cast<std::int64_t>(count) + 1),
                                     std::to_string(last)});
  std::vector<std::string> entries;
  if (reply->type != REDIS_REPLY_ARRAY) return entries;
  for (std::size_t i = reply->elements; i > 0; --i) entries.push_back(replyText(*reply->element[i - 1]));
  return entries;
}

bool DecisionStore::dropOutboxAsHolder(std::string_view list, std::size_t count,
                                       std::string_view lease, std::string_view holder) {
  if (count == 0) return true;
  static constexpr std::string_view kDropScript = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[1], 0, -tonumber(ARGV[2]) - 1)
return 1
)lua";
  static const std::string script(kDropScript);
  static const std::string sha = scriptSha1(kDropScript);
  RedisReply reply = redis_.evalScript(script, sha,
                                       {std::string(list), fmt::format("txg:lease:{}", lease)},
                                       {std::string(holder), std::to_string(count)});
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisError(fmt::format("dropping from {} failed: {}", list, replyText(*reply)));
  }
  return reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

std::uint64_t DecisionStore::outboxLength(std::string_view list) {
  RedisReply reply = redis_.command({"LLEN", std::string(list)});
  return reply->type == REDIS_REPLY_INTEGER ? static_cast<std::uint64_t>(reply->integer) : 0;
}

std::uint64_t DecisionStore::decidedCount() {
  RedisReply reply = redis_.command({"GET", std::string(kDecidedCounter)});
  if (reply->type != REDIS_REPLY_STRING) return 0;
  return std::stoull(replyText(*reply));
}

std::uint64_t DecisionStore::outboxBytes(std::string_view list) {
  RedisReply reply = redis_.command({"MEMORY", "USAGE", std::string(list)});
  return reply->type == REDIS_REPLY_INTEGER ? static_cast<std::uint64_t>(reply->integer) : 0;
}

bool DecisionStore::tryLeadership(std::string_view name, std::string_view holder,
                                  std::chrono::milliseconds ttl) {
  // Take the lease if free, or extend it if this holder already has it.
  static constexpr std::string_view kLeaseScript = R"lua(
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
)lua";
  static const std::string script(kLeaseScript);
  static const std::string sha = scriptSha1(kLeaseScript);
  RedisReply reply = redis_.evalScript(script, sha, {fmt::format("txg:lease:{}", name)},
                                       {std::string(holder), std::to_string(ttl.count())});
  return reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

void DecisionStore::releaseLeadership(std::string_view name, std::string_view holder) {
  static constexpr std::string_view kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";
  static const std::string script(kReleaseScript);
  static const std::string sha = scriptSha1(kReleaseScript);
  redis_.evalScript(script, sha, {fmt::format("txg:lease:{}", name)}, {std::string(holder)});
}

}  // namespace txguard
