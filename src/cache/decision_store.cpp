#include "cache/decision_store.h"

#include <charconv>

#include <fmt/format.h>

namespace txguard {
namespace {

constexpr std::string_view kAlertsKey = "txg:alerts";

// KEYS: alerts list, archive outbox, reports outbox, decided counter.
// ARGV: decision TTL, account TTL, alerts cap, account count A, then per
// account (key, expected version, state), then decision count D, then per
// decision (key, account number 1..A, body, alert flag, archive line,
// report entry).
// Returns the numbers (1-based) of conflicted accounts.
constexpr std::string_view kCommitScript = R"lua(
local decision_ttl = tonumber(ARGV[1])
local account_ttl = tonumber(ARGV[2])
local alerts_cap = tonumber(ARGV[3])
local account_count = tonumber(ARGV[4])
local position = 5
local accounts = {}
for i = 1, account_count do
  accounts[i] = {key = ARGV[position], expected = tonumber(ARGV[position + 1]),
                 state = ARGV[position + 2], conflict = false}
  position = position + 3
end
local decision_count = tonumber(ARGV[position])
position = position + 1
local decisions = {}
for j = 1, decision_count do
  decisions[j] = {key = ARGV[position], account = tonumber(ARGV[position + 1]),
                  body = ARGV[position + 2], alert = ARGV[position + 3] == '1',
                  archive = ARGV[position + 4], report = ARGV[position + 5]}
  position = position + 6
end

for i = 1, account_count do
  local current = redis.call('GET', accounts[i].key)
  local version = 0
  if current then
    local bar = string.find(current, '|', 1, true)
    version = tonumber(string.sub(current, 1, bar - 1))
  end
  if version ~= accounts[i].expected then accounts[i].conflict = true end
end
for j = 1, decision_count do
  local account = accounts[decisions[j].account]
  if not account.conflict and redis.call('EXISTS', decisions[j].key) == 1 then
    account.conflict = true
  end
end

local conflicts = {}
for i = 1, account_count do
  local account = accounts[i]
  if account.conflict then
    table.insert(conflicts, i)
  else
    redis.call('SET', account.key, tostring(account.expected + 1) .. '|' .. account.state,
               'EX', account_ttl)
  end
end
local alerts = 0
local decided = 0
for j = 1, decision_count do
  local decision = decisions[j]
  if not accounts[decision.account].conflict then
    decided = decided + 1
    redis.call('SET', decision.key, decision.body, 'EX', decision_ttl)
    if decision.alert then
      redis.call('LPUSH', KEYS[1], decision.body)
      alerts = alerts + 1
    end
    if decision.archive ~= '' then redis.call('LPUSH', KEYS[2], decision.archive) end
    if decision.report ~= '' then redis.call('LPUSH', KEYS[3], decision.report) end
  end
end
if alerts > 0 then redis.call('LTRIM', KEYS[1], 0, alerts_cap - 1) end
if decided > 0 then redis.call('INCRBY', KEYS[4], decided) end
return conflicts
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

BatchRead DecisionStore::read(std::span<const std::string> accounts,
                              std::span<const std::string> transaction_ids) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(accounts.size() + transaction_ids.size());
  for (const std::string& account : accounts) commands.push_back({"GET", accountKey(account)});
  for (const std::string& id : transaction_ids) commands.push_back({"GET", decisionKey(id)});
  const auto replies = redis_.pipeline(commands);

  BatchRead result;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const redisReply& reply = *replies[i];
    AccountSnapshot snapshot;
    if (reply.type == REDIS_REPLY_STRING) {
      const std::string_view value(reply.str, reply.len);
      const auto bar = value.find('|');
      if (bar == std::string_view::npos) {
        throw RedisError(fmt::format("account state {} is malformed (no version); delete the key "
                                     "to start the account's history again",
                                     accountKey(accounts[i])));
      }
      std::from_chars(value.data(), value.data() + bar, snapshot.version);
      snapshot.state = AccountState::decode(value.substr(bar + 1));
    } else if (reply.type == REDIS_REPLY_ERROR) {
      throw RedisError(fmt::format("GET {} failed: {}", accountKey(accounts[i]), replyText(reply)));
    }
    result.accounts.emplace(accounts[i], std::move(snapshot));
  }
  result.existing_decisions.resize(transaction_ids.size());
  for (std::size_t j = 0; j < transaction_ids.size(); ++j) {
    const redisReply& reply = *replies[accounts.size() + j];
    if (reply.type == REDIS_REPLY_STRING) result.existing_decisions[j] = replyText(reply);
  }
  return result;
}

std::vector<std::size_t> DecisionStore::commit(const std::vector<AccountWrite>& accounts,
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
       std::string(kDecidedCounter)},
      arguments);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisError(fmt::format("commit script failed: {}", replyText(*reply)));
  }
  std::vector<std::size_t> conflicts;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    conflicts.push_back(static_cast<std::size_t>(reply->element[i]->integer - 1));
  }
  return conflicts;
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

std::vector<std::string> DecisionStore::peekOutbox(std::string_view list, std::size_t count) {
  if (count == 0) return {};
  // LPUSH adds at the head, so the oldest entries are at the tail; LRANGE
  // returns them newest first, hence the reversal.
  RedisReply reply = redis_.command(
      {"LRANGE", std::string(list), std::to_string(-static_cast<std::int64_t>(count)), "-1"});
  std::vector<std::string> entries;
  if (reply->type != REDIS_REPLY_ARRAY) return entries;
  for (std::size_t i = reply->elements; i > 0; --i) entries.push_back(replyText(*reply->element[i - 1]));
  return entries;
}

void DecisionStore::dropOutbox(std::string_view list, std::size_t count) {
  if (count == 0) return;
  RedisReply reply = redis_.command(
      {"LTRIM", std::string(list), "0", std::to_string(-static_cast<std::int64_t>(count) - 1)});
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisError(fmt::format("LTRIM {} failed: {}", list, replyText(*reply)));
  }
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
