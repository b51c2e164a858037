// The worker's memory of the account states it committed last, so that a
// batch reads from Redis only the accounts it has not seen recently. An
// entry may be stale (another worker or /v1/score changed the account
// since): the commit's version check catches that, and the conflict brings
// the stored state back, so a stale entry costs one more commit and never a
// wrong decision.
//
// Bounded: entries live in two generations of at most `capacity / 2`
// accounts each. When the young one fills up, the old one is dropped and
// the young one becomes old. A lookup that finds an account in the old
// generation moves it back to the young one, so recently used accounts
// stay, with one hash lookup and no per-entry bookkeeping.
//
// When other processes change the same accounts (several workers on one
// queue see the same accounts), cached states are often stale, and each
// stale one costs a second commit. So the cache watches how often the
// states it gave out were stale, and stops giving them out for a while
// when that is more than a few percent (worthUsing()), then tries again.
//
// Thread-safe: the API's request threads share one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/decision_store.h"

namespace txguard {

class AccountCache {
 public:
  // A capacity of 0 turns the cache off: find() then finds nothing.
  explicit AccountCache(std::size_t capacity)
      : generation_limit_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / 2)) {}

  // Returns a copy of the cached snapshot, if any.
  std::optional<AccountSnapshot> find(std::string_view account);

  // Keeps the higher version when the account is cached already, because
  // threads committing the same account can finish in either order.
  void put(std::string_view account, AccountSnapshot snapshot);
  void erase(std::string_view account);

  // Removes every entry, for example after a commit whose outcome is unknown.
  void clear();

  // Returns false while cached states have lately been stale too often.
  // Callers then read from Redis instead, and still put() what they commit.
  bool worthUsing();
  // Reports that a commit used `used` cached states, of which `stale` had
  // changed in Redis.
  void recordOutcome(std::size_t used, std::size_t stale);

  // Share of stale states (a moving average) above which the next
  // kBypassCalls calls of worthUsing() return false.
  static constexpr double kStaleLimit = 0.02;
  static constexpr int kBypassCalls = 200;

  std::size_t size() const;

 private:
  // Heterogeneous lookup by string_view.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  using Map = std::unordered_map<std::string, AccountSnapshot, Hash, std::equal_to<>>;

  void makeRoom();

  const std::size_t generation_limit_;
  mutable std::mutex mutex_;
  Map young_;
  Map old_;
  double stale_share_ = 0.0;  // moving average of the stale share per commit
  int bypass_left_ = 0;
};

}  // namespace txguard
