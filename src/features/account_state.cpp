#include "features/account_state.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "fmt/format.h"

namespace txguard {
namespace {

// FNV-1a, then the SplitMix64 finalizer to spread FNV's weak high bits. The
// bit positions are stored in Redis, so this function is part of encoding
// version 1: changing it needs a new kEncodingVersion.
std::uint64_t hashCounterparty(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash;
}

// Double hashing (Kirsch and Mitzenmacher): bit i = h1 + i * h2, with an odd
// h2 so the positions differ.
template <typename Visit>
void forEachBit(std::string_view counterparty, Visit visit) {
  const std::uint64_t hash = hashCounterparty(counterparty);
  const std::uint32_t h1 = static_cast<std::uint32_t>(hash);
  const std::uint32_t h2 = static_cast<std::uint32_t>(hash >> 32) | 1U;
  for (int i = 0; i < CounterpartyFilter::kHashCount; ++i) {
    const std::uint32_t bit = (h1 + static_cast<std::uint32_t>(i) * h2) % CounterpartyFilter::kBits;
    visit(bit / 64, std::uint64_t{1} << (bit % 64));
  }
}

bool sameBits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void u32(std::uint32_t value) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  void u64(std::uint64_t value) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  void f32(float value) { u32(std::bit_cast<std::uint32_t>(value)); }
  void f64(double value) { u64(std::bit_cast<std::uint64_t>(value)); }
  void bytes(std::string_view text) {
    u8(static_cast<std::uint8_t>(text.size()));
    out_.append(text);
  }

 private:
  std::string& out_;
};

// Bounds-checked reader: every read checks the remaining length first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint32_t u32() {
    need(4);
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      value |= std::uint32_t{static_cast<unsigned char>(in_[pos_++])} << (8 * i);
    }
    return value;
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
      value |= std::uint64_t{static_cast<unsigned char>(in_[pos_++])} << (8 * i);
    }
    return value;
  }
  float f32() { return std::bit_cast<float>(u32()); }
  double f64() { return std::bit_cast<double>(u64()); }
  std::string_view bytes(std::size_t max_size, const char* field) {
    const std::size_t size = u8();
    if (size > max_size) {
      throw AccountStateError(fmt::format(
          "invalid account state: {} length {} exceeds the maximum of {} bytes; the stored "
          "value is corrupt or from another program, delete the key to start a fresh history",
          field, size, max_size));
    }
    need(size);
    std::string_view text = in_.substr(pos_, size);
    pos_ += size;
    return text;
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  void need(std::size_t size) const {
    if (in_.size() - pos_ < size) {
      throw AccountStateError(fmt::format(
          "invalid account state: truncated at byte {} of {} (needed {} more); the stored "
          "value is corrupt, delete the key to start a fresh history",
          pos_, in_.size(), size));
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

[[noreturn]] void throwInconsistent(const std::string& what) {
  throw AccountStateError(fmt::format(
      "invalid account state: {}; the stored value is corrupt, delete the key to start a "
      "fresh history",
      what));
}

}  // namespace

void CounterpartyFilter::add(std::string_view counterparty) {
  forEachBit(counterparty, [this](std::size_t word, std::uint64_t mask) { words_[word] |= mask; });
}

bool CounterpartyFilter::mayContain(std::string_view counterparty) const {
  bool all_set = true;
  forEachBit(counterparty, [&](std::size_t word, std::uint64_t mask) {
    all_set = all_set && (words_[word] & mask) != 0;
  });
  return all_set;
}

bool CounterpartyFilter::empty() const {
  for (std::uint64_t word : words_) {
    if (word != 0) return false;
  }
  return true;
}

std::string_view AccountState::truncateUtf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t size = max_bytes;
  // Back off while the first dropped byte is a continuation byte (10xxxxxx),
  // so the kept prefix ends on a whole character.
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
  return text.substr(0, size);
}

double AccountState::amountStddev() const {
  if (history_count_ < 2) return kMissing;
  return std::sqrt(amount_m2_ / static_cast<double>(history_count_ - 1));
}

void AccountState::record(const Transaction& transaction) {
  const double amount = transaction.amount;
  if (!std::isfinite(amount)) {
    throw AccountStateError(
        fmt::format("transaction '{}' has amount {}, which cannot be added to the account history; "
                    "reject it at ingest",
                    transaction.id, amount));
  }
  const bool is_newest = history_count_ == 0 || transaction.timestamp_ms >= last_timestamp_ms_;

  // Welford's update keeps the mean and M2 accurate for long histories and
  // does not depend on arrival order.
  if (history_count_ < std::numeric_limits<std::uint32_t>::max()) ++history_count_;
  const double delta = amount - amount_mean_;
  amount_mean_ += delta / static_cast<double>(history_count_);
  amount_m2_ += delta * (amount - amount_mean_);

  if (!transaction.counterparty.empty()) counterparties_.add(transaction.counterparty);

  if (is_newest) {
    last_timestamp_ms_ = transaction.timestamp_ms;
    last_amount_ = amount;
    last_latitude_ = transaction.latitude;
    last_longitude_ = transaction.longitude;
    const std::string_view id = truncateUtf8(transaction.id, kMaxIdBytes);
    std::memcpy(last_id_.data(), id.data(), id.size());
    last_id_size_ = static_cast<std::uint8_t>(id.size());
    const std::string_view location = truncateUtf8(transaction.location, kMaxLocationBytes);
    std::memcpy(last_location_.data(), location.data(), location.size());
    last_location_size_ = static_cast<std::uint8_t>(location.size());
  }

  const RecentEvent event{transaction.timestamp_ms, static_cast<float>(amount)};
  if (last_timestamp_ms_ - event.timestamp_ms <= kMaxEventAgeMs) insertEvent(event);
  if (is_newest) dropEventsOlderThan(last_timestamp_ms_ - kMaxEventAgeMs);
}

void AccountState::setEvent(std::size_t i, RecentEvent event) {
  const std::size_t slot = ringSlot(i);
  ring_timestamps_ms_[slot] = event.timestamp_ms;
  ring_amounts_[slot] = event.amount;
}

void AccountState::dropOldestEvent() {
  ring_head_ = static_cast<std::uint8_t>(ringSlot(1));
  --ring_size_;
}

void AccountState::insertEvent(RecentEvent event) {
  if (ring_size_ == 0 || event.timestamp_ms >= recentEvent(ring_size_ - 1).timestamp_ms) {
    if (ring_size_ == kRingCapacity) dropOldestEvent();
    setEvent(ring_size_, event);
    ++ring_size_;
    return;
  }

  // Late event: insert after every event with the same or an earlier time.
  std::size_t position = ring_size_;
  while (position > 0 && recentEvent(position - 1).timestamp_ms > event.timestamp_ms) --position;
  if (ring_size_ == kRingCapacity) {
    // NOTE: a late event older than all of a full ring is lost, so windows
    // evaluated at an even later-arriving, older timestamp can undercount.
    if (position == 0) return;
    dropOldestEvent();
    --position;
  }
  for (std::size_t i = ring_size_; i > position; --i) setEvent(i, recentEvent(i - 1));
  setEvent(position, event);
  ++ring_size_;
}

void AccountState::dropEventsOlderThan(std::int64_t oldest_kept_ms) {
  while (ring_size_ > 0 && ring_timestamps_ms_[ring_head_] < oldest_kept_ms) dropOldestEvent();
}

void AccountState::totalsInWindows(std::int64_t now_ms, std::span<const std::int64_t> windows_ms,
                                   std::span<WindowTotals> out) const {
  for (WindowTotals& totals : out) totals = WindowTotals{};
  if (windows_ms.empty()) return;
  const std::int64_t widest_ms = windows_ms.back();

  // The ring is sorted, so walking from the newest event stops at the first
  // one outside the widest window.
  for (std::size_t i = ring_size_; i > 0; --i) {
    const std::size_t slot = ringSlot(i - 1);
    const std::int64_t timestamp_ms = ring_timestamps_ms_[slot];
    if (timestamp_ms > now_ms) continue;
    const std::int64_t age_ms = now_ms - timestamp_ms;
    if (age_ms >= widest_ms) break;
    for (std::size_t j = windows_ms.size(); j > 0 && age_ms < windows_ms[j - 1]; --j) {
      ++out[j - 1].count;
      out[j - 1].amount_sum += ring_amounts_[slot];
    }
  }
  // NOTE: when every event of a full ring is inside a window, older events
  // evicted from the ring may have been inside it too: the count then means
  // "at least kRingCapacity" and the sum is a lower bound.
}

WindowTotals AccountState::totalsInWindow(std::int64_t now_ms, std::int64_t window_ms) const {
  WindowTotals totals;
  totalsInWindows(now_ms, std::span(&window_ms, 1), std::span(&totals, 1));
  return totals;
}

std::string AccountState::encode() const {
  std::string out;
  out.reserve(kMaxEncodedSize);
  Writer writer(out);

  writer.u8(kEncodingVersion);
  writer.u32(history_count_);
  writer.f64(amount_mean_);
  writer.f64(amount_m2_);
  writer.u64(static_cast<std::uint64_t>(last_timestamp_ms_));
  writer.f64(last_amount_);
  writer.f64(last_latitude_);
  writer.f64(last_longitude_);
  writer.bytes(lastId());
  writer.bytes(lastLocation());
  for (std::uint64_t word : counterparties_.words()) writer.u64(word);

  // Ages relative to the newest event, oldest first. record() keeps every
  // age within 32 bits.
  writer.u8(ring_size_);
  for (std::size_t i = 0; i < ring_size_; ++i) {
    const RecentEvent event = recentEvent(i);
    writer.u32(static_cast<std::uint32_t>(last_timestamp_ms_ - event.timestamp_ms));
    writer.f32(event.amount);
  }
  return out;
}

AccountState AccountState::decode(std::string_view bytes) {
  Reader reader(bytes);
  AccountState state;

  const std::uint8_t version = reader.u8();
  if (version != kEncodingVersion) {
    throw AccountStateError(fmt::format(
        "invalid account state: encoding version {} is not supported (expected {}); delete "
        "the key or run the txguard version that wrote it",
        version, kEncodingVersion));
  }
  state.history_count_ = reader.u32();
  state.amount_mean_ = reader.f64();
  state.amount_m2_ = reader.f64();
  state.last_timestamp_ms_ = static_cast<std::int64_t>(reader.u64());
  state.last_amount_ = reader.f64();
  state.last_latitude_ = reader.f64();
  state.last_longitude_ = reader.f64();

  const std::string_view id = reader.bytes(kMaxIdBytes, "last transaction id");
  std::memcpy(state.last_id_.data(), id.data(), id.size());
  state.last_id_size_ = static_cast<std::uint8_t>(id.size());
  const std::string_view location = reader.bytes(kMaxLocationBytes, "last location");
  std::memcpy(state.last_location_.data(), location.data(), location.size());
  state.last_location_size_ = static_cast<std::uint8_t>(location.size());

  std::array<std::uint64_t, CounterpartyFilter::kWords> words{};
  for (std::uint64_t& word : words) word = reader.u64();
  state.counterparties_.setWords(words);

  const std::size_t ring_size = reader.u8();
  if (ring_size > kRingCapacity) {
    throwInconsistent(
        fmt::format("{} recent events exceed the ring capacity of {}", ring_size, kRingCapacity));
  }
  if (ring_size > state.history_count_ || (state.history_count_ > 0 && ring_size == 0)) {
    throwInconsistent(fmt::format("{} recent events do not fit a history of {} transactions",
                                  ring_size, state.history_count_));
  }
  std::uint32_t previous_age = 0;
  for (std::size_t i = 0; i < ring_size; ++i) {
    const std::uint32_t age = reader.u32();
    const float amount = reader.f32();
    if (i > 0 && age > previous_age) {
      throwInconsistent(fmt::format("recent event {} is older than the one before it", i));
    }
    if (i + 1 == ring_size && age != 0) {
      throwInconsistent("the newest recent event is not the last transaction");
    }
    previous_age = age;
    state.ring_timestamps_ms_[i] = state.last_timestamp_ms_ - static_cast<std::int64_t>(age);
    state.ring_amounts_[i] = amount;
  }
  state.ring_size_ = static_cast<std::uint8_t>(ring_size);

  if (reader.remaining() != 0) {
    throwInconsistent(
        fmt::format("{} unexpected bytes after the recent events", reader.remaining()));
  }
  return state;
}

bool operator==(const AccountState& a, const AccountState& b) {
  if (a.history_count_ != b.history_count_ || !sameBits(a.amount_mean_, b.amount_mean_) ||
      !sameBits(a.amount_m2_, b.amount_m2_) || a.last_timestamp_ms_ != b.last_timestamp_ms_ ||
      !sameBits(a.last_amount_, b.last_amount_) || !sameBits(a.last_latitude_, b.last_latitude_) ||
      !sameBits(a.last_longitude_, b.last_longitude_) || a.lastId() != b.lastId() ||
      a.lastLocation() != b.lastLocation() || !(a.counterparties_ == b.counterparties_) ||
      a.ring_size_ != b.ring_size_) {
    return false;
  }
  for (std::size_t i = 0; i < a.ring_size_; ++i) {
    const RecentEvent x = a.recentEvent(i);
    const RecentEvent y = b.recentEvent(i);
    if (x.timestamp_ms != y.timestamp_ms ||
        std::bit_cast<std::uint32_t>(x.amount) != std::bit_cast<std::uint32_t>(y.amount)) {
      return false;
    }
  }
  return true;
}

}  // namespace txguard
