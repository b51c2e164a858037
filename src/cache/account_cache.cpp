#include "cache/account_cache.h"

namespace txguard {

std::optional<AccountSnapshot> AccountCache::find(std::string_view account) {
  if (generation_limit_ == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (auto it = young_.find(account); it != young_.end()) return it->second;
  auto it = old_.find(account);
  if (it == old_.end()) return std::nullopt;
  auto node = old_.extract(it);
  makeRoom();
  return young_.insert(std::move(node)).position->second;
}

void AccountCache::put(std::string_view account, AccountSnapshot snapshot) {
  if (generation_limit_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = young_.find(account); it != young_.end()) {
    if (snapshot.version >= it->second.version) it->second = std::move(snapshot);
    return;
  }
  if (auto it = old_.find(account); it != old_.end()) {
    if (snapshot.version < it->second.version) return;
    old_.erase(it);
  }
  makeRoom();
  young_.emplace(std::string(account), std::move(snapshot));
}

void AccountCache::erase(std::string_view account) {
  std::lock_guard lock(mutex_);
  if (auto it = young_.find(account); it != young_.end()) young_.erase(it);
  if (auto it = old_.find(account); it != old_.end()) old_.erase(it);
}

void AccountCache::clear() {
  std::lock_guard lock(mutex_);
  young_.clear();
  old_.clear();
}

std::size_t AccountCache::size() const {
  std::lock_guard lock(mutex_);
  return young_.size() + old_.size();
}

bool AccountCache::worthUsing() {
  if (generation_limit_ == 0) return false;
  std::lock_guard lock(mutex_);
  if (bypass_left_ == 0) return true;
  if (--bypass_left_ == 0) stale_share_ = 0.0;  // the next commit decides afresh
  return false;
}

void AccountCache::recordOutcome(std::size_t used, std::size_t stale) {
  if (used == 0) return;
  std::lock_guard lock(mutex_);
  stale_share_ = 0.8 * stale_share_ + 0.2 * static_cast<double>(stale) / static_cast<double>(used);
  if (stale_share_ > kStaleLimit) bypass_left_ = kBypassCalls;
}

void AccountCache::makeRoom() {
  if (young_.size() < generation_limit_) return;
  old_ = std::move(young_);
  young_ = Map{};
}

}  // namespace txguard
