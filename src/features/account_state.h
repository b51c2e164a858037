// Per-account history that the velocity features are computed from. One
// AccountState is kept for each account, in process for the batch CLI and in
// Redis for the service, so it is fixed-size in memory and its binary
// encoding is at most kMaxEncodedSize bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "transaction/transaction.h"

namespace txguard {

// Raised when an encoded state cannot be decoded (wrong version, wrong
// length, inconsistent fields) or when record() receives an amount that is
// not a finite number.
class AccountStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One recorded transaction in the ring of recent events.
struct RecentEvent {
  std::int64_t timestamp_ms = 0;
  float amount = 0.0f;
};

// Number and amount sum of the recent events inside one velocity window.
struct WindowTotals {
  std::size_t count = 0;
  double amount_sum = 0.0;
};

// 512-bit Bloom filter of the counterparties an account has paid, with 3
// hash functions. The false-positive rate, estimated as (1 - e^(-3n/512))^3
// for n distinct counterparties, is about 1.6 % at n = 50, 8.7 % at n = 100
// and 33 % at n = 200. A false positive reads as "seen before", so
// new_counterparty under-reports for accounts with many counterparties.
class CounterpartyFilter {
 public:
  static constexpr std::size_t kBits = 512;
  static constexpr int kHashCount = 3;
  static constexpr std::size_t kWords = kBits / 64;

  void add(std::string_view counterparty);
  bool mayContain(std::string_view counterparty) const;
  bool empty() const;

  const std::array<std::uint64_t, kWords>& words() const { return words_; }
  void setWords(const std::array<std::uint64_t, kWords>& words) { words_ = words; }

  friend bool operator==(const CounterpartyFilter&, const CounterpartyFilter&) = default;

 private:
  std::array<std::uint64_t, kWords> words_{};
};

// Aligned to a cache line so that the members computeFeatures reads first
// share one line.
class alignas(64) AccountState {
 public:
  // Number of recent events kept for the 1m/1h/24h windows. A window that
  // contains more events than this reports this many (see totalsInWindows).
  static constexpr std::size_t kRingCapacity = 20;

  // Longer ids and locations are truncated to these many bytes, at a UTF-8
  // character boundary, so that the encoding stays within kMaxEncodedSize.
  static constexpr std::size_t kMaxIdBytes = 64;
  static constexpr std::size_t kMaxLocationBytes = 16;

  // Events older than the newest event by more than this are dropped from
  // the ring, because the encoding stores each event's age relative to the
  // newest as an unsigned 32-bit number of milliseconds (about 49.7 days).
  static constexpr std::int64_t kMaxEventAgeMs = 0xFFFFFFFFLL;

  static constexpr std::uint8_t kEncodingVersion = 1;

  // Largest encode() output: a 53-byte fixed header (version byte, 4-byte
  // count, six 8-byte numbers), the id and location with a length byte
  // each, the Bloom filter and the ring with a count byte. That leaves about
  // 150 of the 512 bytes per account for the Redis key and Redis's per-key
  // overhead.
  static constexpr std::size_t kMaxEncodedSize = 53 + (1 + kMaxIdBytes) + (1 + kMaxLocationBytes) +
                                                 CounterpartyFilter::kBits / 8 +
                                                 (1 + kRingCapacity * 8);

  // Adds an accepted transaction to the history. Callers skip this for
  // transactions a rule keeps out of the history.
  //
  // A late transaction (timestamp older than the newest recorded) updates
  // the count, the amount statistics, the counterparty filter and the ring,
  // where it is inserted in time order. It is left out of the ring when the
  // ring is full and it is older than every event there. It does not
  // replace the last_* fields, which always describe the newest transaction
  // by event time (the latest recorded one on a tie).
  //
  // Throws AccountStateError when the amount is NaN or infinite.
  void record(const Transaction& transaction);

  // Fills out[j] with the ring events e inside windows_ms[j]: those with
  // e.timestamp_ms <= now_ms and now_ms - e.timestamp_ms < windows_ms[j].
  // Events newer than now_ms (seen only for late transactions) do not count.
  // One pass serves all windows. Preconditions: windows_ms is ascending and
  // out.size() == windows_ms.size().
  void totalsInWindows(std::int64_t now_ms, std::span<const std::int64_t> windows_ms,
                       std::span<WindowTotals> out) const;

  WindowTotals totalsInWindow(std::int64_t now_ms, std::int64_t window_ms) const;

  // Versioned little-endian binary encoding, at most kMaxEncodedSize bytes.
  std::string encode() const;

  // Parses encode() output without reading past the input. Throws
  // AccountStateError on a wrong version, a wrong length or inconsistent
  // fields.
  static AccountState decode(std::string_view bytes);

  // Number of transactions recorded. It stops at 2^32 - 1, which is over a
  // century at one transaction a second.
  std::uint32_t historyCount() const { return history_count_; }
  double amountMean() const { return amount_mean_; }
  // Sum of squared deviations from the mean (Welford's M2).
  double amountM2() const { return amount_m2_; }
  // Sample standard deviation of the recorded amounts, NaN with fewer than 2.
  double amountStddev() const;

  bool hasLast() const { return history_count_ > 0; }
  std::string_view lastId() const { return {last_id_.data(), last_id_size_}; }
  std::int64_t lastTimestampMs() const { return last_timestamp_ms_; }
  double lastAmount() const { return last_amount_; }
  std::string_view lastLocation() const { return {last_location_.data(), last_location_size_}; }
  double lastLatitude() const { return last_latitude_; }
  double lastLongitude() const { return last_longitude_; }

  const CounterpartyFilter& counterparties() const { return counterparties_; }

  std::size_t recentEventCount() const { return ring_size_; }
  // Returns the i-th retained event, oldest first (i < recentEventCount()).
  RecentEvent recentEvent(std::size_t i) const {
    const std::size_t slot = ringSlot(i);
    return {ring_timestamps_ms_[slot], ring_amounts_[slot]};
  }

  // Truncates `text` to at most `max_bytes` bytes without splitting a UTF-8
  // character, the same way record() shortens ids and locations.
  static std::string_view truncateUtf8(std::string_view text, std::size_t max_bytes);

  friend bool operator==(const AccountState& a, const AccountState& b);

 private:
  // Maps the i-th oldest event to its array slot without a division.
  std::size_t ringSlot(std::size_t i) const {
    const std::size_t slot = ring_head_ + i;
    return slot < kRingCapacity ? slot : slot - kRingCapacity;
  }
  void setEvent(std::size_t i, RecentEvent event);
  void insertEvent(RecentEvent event);
  void dropOldestEvent();
  void dropEventsOlderThan(std::int64_t oldest_kept_ms);

  // The first 64-byte line contains every scalar that computeFeatures reads.
  // The filter and the ring follow, with the ring's timestamps and amounts in
  // separate arrays, so a state that is cold in cache costs few line loads.
  // last_amount_ and the id are written but not read when scoring.
  std::uint32_t history_count_ = 0;
  std::uint8_t ring_head_ = 0;
  std::uint8_t ring_size_ = 0;
  std::uint8_t last_location_size_ = 0;
  double amount_mean_ = 0.0;
  double amount_m2_ = 0.0;
  std::int64_t last_timestamp_ms_ = 0;
  double last_latitude_ = kMissing;
  double last_longitude_ = kMissing;
  std::array<char, kMaxLocationBytes> last_location_{};

  CounterpartyFilter counterparties_;

  // Circular buffer sorted by timestamp, oldest at ring_head_.
  std::array<std::int64_t, kRingCapacity> ring_timestamps_ms_{};
  std::array<float, kRingCapacity> ring_amounts_{};

  double last_amount_ = 0.0;
  std::uint8_t last_id_size_ = 0;
  std::array<char, kMaxIdBytes> last_id_{};
};

}  // namespace txguard
