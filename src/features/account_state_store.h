// Storage of account states between transactions. The batch CLI keeps them
// in process (InMemoryAccountStateStore). A Redis backend for the service
// implements the same interface on AccountState::encode() blobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

// Account states in process, for the batch CLI and tests. Not thread-safe:
// one thread owns the store.
//
// An open-addressing index of (hash, entry pointer) slots, at most half
// full, points at entries allocated in chunks that never move. A lookup
// reads one slot and the entry's key, which sits in the cache line before
// the state, so a cold account costs two memory loads where a node-based
// map costs three or more. statesFor() overlaps those loads for a batch.
class InMemoryAccountStateStore final : public AccountStateStore {
 public:
  InMemoryAccountStateStore() = default;
  InMemoryAccountStateStore(const InMemoryAccountStateStore&) = delete;
  InMemoryAccountStateStore& operator=(const InMemoryAccountStateStore&) = delete;

  // Returns the account's state for in-place update, inserting an empty
  // one first when the account is new. The reference stays valid until the
  // store is cleared or destroyed: growing the index moves slots, not
  // states.
  AccountState& stateFor(std::string_view account);

  // Sets out[i] to &stateFor(accounts[i]) for every i, prefetching the
  // index slots and entries of later accounts while looking up earlier
  // ones. Precondition: out.size() == accounts.size().
  void statesFor(std::span<const std::string_view> accounts, std::span<AccountState*> out);

  // Returns the account's state, or nullptr when the account is unknown.
  const AccountState* find(std::string_view account) const;

  AccountState load(std::string_view account) override;
  void save(std::string_view account, const AccountState& state) override;

  // Sizes the index for `accounts` accounts, so that loading a known
  // number of accounts does not grow it.
  void reserve(std::size_t accounts);
  std::size_t size() const { return size_; }
  void clear();

  // Estimates the heap bytes the store uses: one entry per account (key and
  // state), key bytes beyond the string's inline buffer, and the index.
  // Allocator headers and the unused tail of the newest chunk (fewer than
  // kMaxChunkEntries entries, 512 bytes each) are not counted, so the real
  // figure is somewhat higher.
  std::size_t memoryBytesEstimate() const;

 private:
  // The key is first, so that the line holding it is the one before the
  // state's first line.
  struct Entry {
    std::string key;
    AccountState state;
  };

  struct Slot {
    std::uint64_t hash = 0;
    Entry* entry = nullptr;  // null when the slot is free
  };

  // Entries per chunk: the first chunk holds kMinChunkEntries, and each
  // later one twice the previous, up to kMaxChunkEntries.
  static constexpr std::size_t kMinChunkEntries = 64;
  static constexpr std::size_t kMaxChunkEntries = 4096;
  static constexpr std::size_t kMinSlots = 64;

  static std::uint64_t hashOf(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }

  // Returns the index of the slot holding `key`, or of the free slot where
  // it would go. Precondition: slots_ is not empty.
  std::size_t probe(std::uint64_t hash, std::string_view key) const;
  // Prefetches the entry of the first slot matching `hash`, if the probe
  // meets one before a free slot. Reads slots only, not keys.
  void prefetchEntry(std::uint64_t hash) const;
  Entry* newEntry(std::string_view key);
  void growSlots(std::size_t min_slots);

  std::vector<Slot> slots_;  // size is 0 or a power of two
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::size_t last_chunk_entries_ = 0;  // capacity of chunks_.back()
  std::size_t last_chunk_used_ = 0;
  std::size_t size_ = 0;
  std::size_t key_heap_bytes_ = 0;
};

}  // namespace txguard
