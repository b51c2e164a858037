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
    it->second = std::move(snapshot);
    return;
  }
  if (auto it = old_.find(account); it != old_.end()) old_.erase(it);
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

void AccountCache::makeRoom() {
  if (young_.size() < generation_limit_) return;
  old_ = std::move(young_);
  young_ = Map{};
}

}  // namespace txguard
