#include "features/account_state_store.h"

namespace txguard {
namespace {

// Maximum length that libstdc++ (GCC) keeps inside the std::string object.
// Longer keys take a heap block of capacity + 1 bytes.
constexpr std::size_t kInlineStringBytes = 15;

}  // namespace

AccountState& InMemoryAccountStateStore::stateFor(std::string_view account) {
  auto found = states_.find(account);
  if (found != states_.end()) return found->second;
  auto [inserted, unused] = states_.emplace(std::string(account), AccountState{});
  insertKeyBytes(inserted->first);
  return inserted->second;
}

const AccountState* InMemoryAccountStateStore::find(std::string_view account) const {
  auto found = states_.find(account);
  return found == states_.end() ? nullptr : &found->second;
}

AccountState InMemoryAccountStateStore::load(std::string_view account) {
  const AccountState* state = find(account);
  return state != nullptr ? *state : AccountState{};
}

void InMemoryAccountStateStore::save(std::string_view account, const AccountState& state) {
  stateFor(account) = state;
}

void InMemoryAccountStateStore::clear() {
  states_.clear();
  key_heap_bytes_ = 0;
}

void InMemoryAccountStateStore::insertKeyBytes(const std::string& key) {
  if (key.size() > kInlineStringBytes) key_heap_bytes_ += key.capacity() + 1;
}

std::size_t InMemoryAccountStateStore::memoryBytesEstimate() const {
  // A libstdc++ node is the next pointer, padded to the value's alignment,
  // then the key and state. KeyHash is noexcept, so no hash is cached.
  using Value = std::pair<const std::string, AccountState>;
  constexpr std::size_t kAlign = alignof(Value);
  constexpr std::size_t kNodeBytes = (sizeof(void*) + kAlign - 1) / kAlign * kAlign + sizeof(Value);
  return states_.size() * kNodeBytes + key_heap_bytes_ + states_.bucket_count() * sizeof(void*);
}

}  // namespace txguard
