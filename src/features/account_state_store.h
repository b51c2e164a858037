// Storage of account states between transactions. The batch CLI keeps them
// in process (InMemoryAccountStateStore). A Redis backend for the service
// implements the same interface on AccountState::encode() blobs.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "features/account_state.h"

namespace txguard {

// Raised by a store backend that fails after its own retries. The message
// names the account key and the backend's error.
class AccountStateStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AccountStateStore {
 public:
  virtual ~AccountStateStore() = default;

  // Returns the account's state, or an empty state when the store has none.
  virtual AccountState load(std::string_view account) = 0;

  // Stores `state` as the account's state, replacing the earlier one.
  virtual void save(std::string_view account, const AccountState& state) = 0;

  // Loads several accounts: out[i] receives the state of accounts[i]. A
  // remote backend overrides this to fetch them in one round trip.
  // Precondition: out.size() == accounts.size().
  virtual void loadMany(std::span<const std::string_view> accounts, std::span<AccountState> out) {
    for (std::size_t i = 0; i < accounts.size(); ++i) out[i] = load(accounts[i]);
  }

  // Saves states[i] for accounts[i]. Remote backends override it as above.
  virtual void saveMany(std::span<const std::string_view> accounts,
                        std::span<const AccountState> states) {
    for (std::size_t i = 0; i < accounts.size(); ++i) save(accounts[i], states[i]);
  }
};

// Account states in an unordered_map, for the batch CLI and tests. Not
// thread-safe: one thread owns the store.
class InMemoryAccountStateStore final : public AccountStateStore {
 public:
  // Returns the account's state for in-place update, inserting an empty
  // one first when the account is new. The reference stays valid until the
  // account is erased or the store is cleared or destroyed (rehashing moves
  // buckets, not elements).
  AccountState& stateFor(std::string_view account);

  // Returns the account's state, or nullptr when the account is unknown.
  const AccountState* find(std::string_view account) const;

  AccountState load(std::string_view account) override;
  void save(std::string_view account, const AccountState& state) override;

  // Reserves buckets for `accounts` accounts, so that loading a known
  // number of accounts does not rehash.
  void reserve(std::size_t accounts) { states_.reserve(accounts); }
  std::size_t size() const { return states_.size(); }
  void clear();

  // Estimates the heap bytes the store uses: one node per account (next
  // pointer, key and state), key bytes beyond the string's inline buffer,
  // and the bucket array. Allocator headers are not counted, so the real
  // figure is somewhat higher.
  std::size_t memoryBytesEstimate() const;

 private:
  // Transparent hash and equality, so lookups by string_view do not build a
  // std::string.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  void insertKeyBytes(const std::string& key);

  std::unordered_map<std::string, AccountState, KeyHash, std::equal_to<>> states_;
  std::size_t key_heap_bytes_ = 0;
};

}  // namespace txguard
