// Throughput of the feature stage over a synthetic stream: 100,000 accounts,
// 1,000,000 transactions in time order, generated in memory from a fixed
// seed. A fifth of the traffic comes from 1,000 busy accounts, about 200
// transactions each, so their rings fill and wrap.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "features/account_state.h"
#include "features/account_state_store.h"
#include "features/category.h"
#include "features/feature_extractor.h"

namespace txguard {
namespace {

constexpr std::size_t kAccounts = 100'000;
constexpr std::size_t kBusyAccounts = 1'000;
constexpr std::size_t kTransactions = 1'000'000;
constexpr std::size_t kMerchants = 50'000;
constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::uint64_t kSeed = 20240301;

constexpr const char* kStates[] = {"SP", "RJ", "MG", "RS", "PR", "BA", "SC", "PE", "CE", "DF"};

// Builds ids such as "C100000042" by appending, because GCC 12 reports a
// false -Wrestrict warning on "C" + std::to_string(n) at -O2 (a known bug).
std::string prefixedNumber(char prefix, std::size_t number) {
  std::string text(1, prefix);
  text += std::to_string(number);
  return text;
}

struct Stream {
  std::vector<Transaction> transactions;
  std::int64_t span_ms = 0;  // first to last timestamp, plus one average gap
};

Stream& stream() {
  static Stream generated = [] {
    std::mt19937_64 random(kSeed);
    std::uniform_int_distribution<std::size_t> any_account(0, kAccounts - 1);
    std::uniform_int_distribution<std::size_t> busy_account(0, kBusyAccounts - 1);
    std::uniform_int_distribution<std::size_t> merchant(0, kMerchants - 1);
    std::uniform_int_distribution<std::size_t> state_code(0, std::size(kStates) - 1);
    std::uniform_int_distribution<std::size_t> category(0, kCategoryNames.size() - 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::lognormal_distribution<double> amount(4.0, 1.2);
    // About 30 days of traffic: a mean gap of 2.6 s between transactions.
    std::exponential_distribution<double> gap_ms(1.0 / 2'600.0);

    Stream result;
    result.transactions.reserve(kTransactions);
    double now_ms = static_cast<double>(kStartMs);
    for (std::size_t i = 0; i < kTransactions; ++i) {
      Transaction transaction;
      const std::size_t account = unit(random) < 0.2 ? busy_account(random) : any_account(random);
      transaction.id = prefixedNumber('T', i);
      transaction.account = prefixedNumber('C', 100'000'000 + account);
      now_ms += gap_ms(random);
      transaction.timestamp_ms = static_cast<std::int64_t>(now_ms);
      transaction.amount = amount(random);
      transaction.location = kStates[state_code(random)];
      transaction.latitude = -33.0 + 30.0 * unit(random);
      transaction.longitude = -73.0 + 38.0 * unit(random);
      transaction.counterparty = prefixedNumber('M', 1'000'000'000 + merchant(random));
      transaction.category = kCategoryNames[category(random)];
      if (i % 2 == 0) {
        transaction.balance_before = 5'000.0 * unit(random);
        transaction.balance_after = std::max(0.0, transaction.balance_before - transaction.amount);
        transaction.counterparty_balance_before = 0.0;
        transaction.counterparty_balance_after = transaction.amount;
      }
      result.transactions.push_back(std::move(transaction));
    }
    result.span_ms = static_cast<std::int64_t>(now_ms) - kStartMs + 2'600;
    return result;
  }();
  return generated;
}

void shiftTimestamps(Stream& input, std::int64_t shift_ms) {
  for (Transaction& transaction : input.transactions) transaction.timestamp_ms += shift_ms;
}

// The batch loop: look up the account, compute features, record the
// transaction. After each pass the stream's timestamps move forward by its
// span (untimed), so later passes stay in time order instead of becoming
// late events. The timestamps are moved back at the end.
void BM_ComputeFeaturesAndRecord(benchmark::State& bench) {
  Stream& input = stream();
  InMemoryAccountStateStore store;
  store.reserve(kAccounts);
  FeatureVector features;
  std::size_t index = 0;
  std::int64_t total_shift_ms = 0;

  for (auto _ : bench) {
    const Transaction& transaction = input.transactions[index];
    AccountState& state = store.stateFor(transaction.account);
    computeFeatures(transaction, state, features);
    state.record(transaction);
    benchmark::DoNotOptimize(features);

    if (++index == input.transactions.size()) {
      bench.PauseTiming();
      index = 0;
      shiftTimestamps(input, input.span_ms);
      total_shift_ms += input.span_ms;
      bench.ResumeTiming();
    }
  }
  shiftTimestamps(input, -total_shift_ms);
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations()));
  bench.counters["accounts"] = static_cast<double>(store.size());
  bench.counters["store_MiB"] = static_cast<double>(store.memoryBytesEstimate()) / (1 << 20);
}
BENCHMARK(BM_ComputeFeaturesAndRecord);

// States warmed by one pass over the stream, with each transaction's state
// resolved in advance, so only computeFeatures is timed.
struct WarmStates {
  InMemoryAccountStateStore store;
  std::vector<const AccountState*> state_of;  // per transaction
};

const WarmStates& warmStates() {
  static const WarmStates* warmed = [] {
    auto* result = new WarmStates;
    const Stream& input = stream();
    result->store.reserve(kAccounts);
    for (const Transaction& transaction : input.transactions) {
      result->store.stateFor(transaction.account).record(transaction);
    }
    for (const Transaction& transaction : input.transactions) {
      result->state_of.push_back(result->store.find(transaction.account));
    }
    return result;
  }();
  return *warmed;
}

void BM_ComputeFeatures(benchmark::State& bench) {
  const Stream& input = stream();
  const WarmStates& warm = warmStates();
  FeatureVector features;
  std::size_t index = 0;
  for (auto _ : bench) {
    computeFeatures(input.transactions[index], *warm.state_of[index], features);
    benchmark::DoNotOptimize(features);
    if (++index == input.transactions.size()) index = 0;
  }
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations()));
}
BENCHMARK(BM_ComputeFeatures);

// The same transactions, each scored against one of only 1,000 warmed
// states (about 440 KiB), so the states stay in cache. The difference from
// BM_ComputeFeatures is the cost of loading a state from memory.
void BM_ComputeFeaturesCachedStates(benchmark::State& bench) {
  constexpr std::size_t kCachedStates = 1'000;
  const Stream& input = stream();
  const WarmStates& warm = warmStates();
  FeatureVector features;
  std::size_t index = 0;
  for (auto _ : bench) {
    computeFeatures(input.transactions[index], *warm.state_of[index % kCachedStates], features);
    benchmark::DoNotOptimize(features);
    if (++index == input.transactions.size()) index = 0;
  }
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations()));
}
BENCHMARK(BM_ComputeFeaturesCachedStates);

// The Redis store's per-transaction cost on top of the features: decode the
// stored blob, then encode the updated state.
void BM_EncodeDecode(benchmark::State& bench) {
  const Stream& input = stream();
  const WarmStates& warm = warmStates();
  std::vector<std::string> blobs;
  blobs.reserve(kBusyAccounts);
  for (std::size_t i = 0; blobs.size() < kBusyAccounts; ++i) {
    blobs.push_back(warm.state_of[i % input.transactions.size()]->encode());
  }
  std::size_t index = 0;
  std::size_t bytes = 0;
  for (auto _ : bench) {
    const AccountState state = AccountState::decode(blobs[index]);
    std::string encoded = state.encode();
    bytes += encoded.size();
    benchmark::DoNotOptimize(encoded);
    if (++index == blobs.size()) index = 0;
  }
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations()));
  bench.counters["mean_encoded_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(bench.iterations());
}
BENCHMARK(BM_EncodeDecode);

}  // namespace
}  // namespace txguard

BENCHMARK_MAIN();
