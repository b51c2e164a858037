#include "features/account_state_store.h"

#include <algorithm>
#include <bit>

namespace txguard {
namespace {

// Maximum length that libstdc++ (GCC) keeps inside the std::string object.
// Longer keys take a heap block of capacity + 1 bytes.
constexpr std::size_t kInlineStringBytes = 15;

// How many accounts ahead statesFor() prefetches: the slot for the account
// kLookahead * 2 rows ahead, and the entry for the one kLookahead rows
// ahead, whose slot was prefetched earlier. Eight lookups in flight cover
// the memory latency of a 2-4 GHz core without evicting what is in use.
constexpr std::size_t kLookahead = 8;

inline void prefetchLine(const void* address) { __builtin_prefetch(address, 1, 3); }

}  // namespace

std::size_t InMemoryAccountStateStore::probe(std::uint64_t hash, std::string_view key) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    // The index is never full, so the loop ends at a free slot at the latest.
    const Slot& slot = slots_[i];
    if (slot.entry == nullptr) return i;
    if (slot.hash == hash && slot.entry->key == key) return i;
  }
}

void InMemoryAccountStateStore::prefetchEntry(std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.entry == nullptr) return;
    if (slot.hash == hash) {
      // The key's line, and the lines of the state that computeFeatures
      // and record() touch first.
      const char* begin = reinterpret_cast<const char*>(slot.entry);
      for (std::size_t offset = 0; offset < sizeof(Entry); offset += 64) {
        prefetchLine(begin + offset);
      }
      return;
    }
  }
}

AccountState& InMemoryAccountStateStore::stateFor(std::string_view account) {
  // Grow before probing, so the slot found stays valid for the insert and
  // the index is at most half full.
  if ((size_ + 1) * 2 > slots_.size()) growSlots((size_ + 1) * 2);
  const std::uint64_t hash = hashOf(account);
  Slot& slot = slots_[probe(hash, account)];
  if (slot.entry == nullptr) {
    slot.hash = hash;
    slot.entry = newEntry(account);
    ++size_;
  }
  return slot.entry->state;
}

void InMemoryAccountStateStore::statesFor(std::span<const std::string_view> accounts,
                                          std::span<AccountState*> out) {
  // Growing first means that no insert below moves the slots that were
  // prefetched. Duplicates in `accounts` make this an overestimate.
  if ((size_ + accounts.size()) * 2 > slots_.size()) {
    growSlots((size_ + accounts.size()) * 2);
  }
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    if (i + 2 * kLookahead < accounts.size()) {
      prefetchLine(&slots_[hashOf(accounts[i + 2 * kLookahead]) & mask]);
    }
    if (i + kLookahead < accounts.size()) prefetchEntry(hashOf(accounts[i + kLookahead]));
    out[i] = &stateFor(accounts[i]);
  }
}

const AccountState* InMemoryAccountStateStore::find(std::string_view account) const {
  if (size_ == 0) return nullptr;
  const Slot& slot = slots_[probe(hashOf(account), account)];
  return slot.entry == nullptr ? nullptr : &slot.entry->state;
}

AccountState InMemoryAccountStateStore::load(std::string_view account) {
  const AccountState* state = find(account);
  return state != nullptr ? *state : AccountState{};
}

void InMemoryAccountStateStore::save(std::string_view account, const AccountState& state) {
  stateFor(account) = state;
}

void InMemoryAccountStateStore::reserve(std::size_t accounts) {
  if (accounts * 2 > slots_.size()) growSlots(accounts * 2);
}

void InMemoryAccountStateStore::clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  chunks_.clear();
  last_chunk_entries_ = 0;
  last_chunk_used_ = 0;
  size_ = 0;
  key_heap_bytes_ = 0;
}

InMemoryAccountStateStore::Entry* InMemoryAccountStateStore::newEntry(std::string_view key) {
  if (last_chunk_used_ == last_chunk_entries_) {
    last_chunk_entries_ =
        chunks_.empty() ? kMinChunkEntries : std::min(last_chunk_entries_ * 2, kMaxChunkEntries);
    chunks_.push_back(std::make_unique<Entry[]>(last_chunk_entries_));
    last_chunk_used_ = 0;
  }
  Entry* entry = &chunks_.back()[last_chunk_used_++];
  entry->key.assign(key);
  if (entry->key.size() > kInlineStringBytes) key_heap_bytes_ += entry->key.capacity() + 1;
  return entry;
}

void InMemoryAccountStateStore::growSlots(std::size_t min_slots) {
  const std::size_t count = std::bit_ceil(std::max(min_slots, kMinSlots));
  if (count <= slots_.size()) return;
  std::vector<Slot> grown(count);
  const std::size_t mask = count - 1;
  for (const Slot& slot : slots_) {
    if (slot.entry == nullptr) continue;
    std::size_t i = slot.hash & mask;
    while (grown[i].entry != nullptr) i = (i + 1) & mask;
    grown[i] = slot;
  }
  slots_ = std::move(grown);
}

std::size_t InMemoryAccountStateStore::memoryBytesEstimate() const {
  return size_ * sizeof(Entry) + key_heap_bytes_ + slots_.capacity() * sizeof(Slot) +
         chunks_.capacity() * sizeof(chunks_[0]);
}

}  // namespace txguard
