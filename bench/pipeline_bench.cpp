// Throughput of the scoring engine as `txguard score` runs it, on one
// thread, without writing any output: the real readers parse a file, the
// in-memory state store finds each account, and Scorer::prepareBatch
// computes the features, evaluates config/rules/default.yaml and records
// the state.
// The model benchmarks add Scorer::decide with the shipped PaySim model
// (models/paysim) on batches of 4,096, the CLI's default --batch-size.
//
// The inputs are written to a temporary folder at start-up:
// - PaySim CSV resampled from data/paysim/paysim_sample.csv, as
//   scripts/bench/make-paysim.py does (same scheme, not the same bytes):
//   type, amount, balances, nameDest and isFraud of a random sample row, a
//   nameOrig from the account pool, and steps rising over 743 hours;
// - ACME JSON Lines with amounts from the same sample, a state code, and
//   dates rising over 30 days.
// Every account appears at least once and the rest are drawn uniformly, so
// each account has about rows / accounts transactions spread over the file.
//
// One iteration reads the whole file with an empty state store, as one run
// of `txguard score` does; items_per_second is rows per second.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "decision/scorer.h"
#include "features/account_state_store.h"
#include "ingest/reader.h"
#include "model/model.h"
#include "rules/rule_set.h"

namespace txguard {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kSeed = 20240301;
constexpr std::size_t kBatchSize = 4096;
constexpr std::int64_t kPaysimSteps = 743;
constexpr std::int64_t kAcmeSpanSeconds = 30 * 86'400;
constexpr std::time_t kAcmeStart = 1'709'251'200;  // 2024-03-01T00:00:00Z
constexpr std::uint64_t kFirstAccountId = 1'000'000'000;

constexpr const char* kStates[] = {"SP", "RJ", "MG", "RS", "PR", "BA", "SC", "PE", "CE", "DF"};

// One row of the bundled PaySim sample, split where the generated rows
// change it: "type,amount" before nameOrig, and the five columns from
// oldbalanceOrg to newbalanceDest plus isFraud after it.
struct SampleRow {
  std::string type_and_amount;
  std::string after_account;
  double amount = 0.0;
};

std::vector<SampleRow> loadSample() {
  const fs::path path = fs::path(TXGUARD_SOURCE_DIR) / "data/paysim/paysim_sample.csv";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) {
    throw std::runtime_error(fmt::format("cannot read the PaySim sample '{}'", path.string()));
  }
  std::vector<SampleRow> rows;
  while (std::getline(in, line)) {
    // step,type,amount,nameOrig,oldbalanceOrg,...,isFraud,isFlaggedFraud
    std::vector<std::string_view> fields;
    std::size_t begin = 0;
    for (std::size_t comma; (comma = line.find(',', begin)) != std::string::npos;) {
      fields.emplace_back(line.data() + begin, comma - begin);
      begin = comma + 1;
    }
    fields.emplace_back(line.data() + begin, line.size() - begin);
    if (fields.size() != 11) {
      throw std::runtime_error(
          fmt::format("'{}' has a row with {} columns, expected 11", path.string(), fields.size()));
    }
    SampleRow row;
    row.type_and_amount = fmt::format("{},{}", fields[1], fields[2]);
    row.after_account = fmt::format("{},{},{},{},{},{}", fields[4], fields[5], fields[6], fields[7],
                                    fields[8], fields[9]);
    row.amount = std::stod(std::string(fields[2]));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Each account index once, then uniform draws up to `rows`, shuffled.
std::vector<std::uint32_t> accountSequence(std::size_t rows, std::size_t accounts,
                                           std::mt19937_64& random) {
  std::vector<std::uint32_t> sequence(rows);
  std::uniform_int_distribution<std::uint32_t> any(0, static_cast<std::uint32_t>(accounts - 1));
  for (std::size_t i = 0; i < rows; ++i) {
    sequence[i] = i < accounts ? static_cast<std::uint32_t>(i) : any(random);
  }
  std::shuffle(sequence.begin(), sequence.end(), random);
  return sequence;
}

void writePaysim(const fs::path& path, std::size_t rows, std::size_t accounts) {
  static const std::vector<SampleRow> sample = loadSample();
  std::mt19937_64 random(kSeed);
  const std::vector<std::uint32_t> sequence = accountSequence(rows, accounts, random);
  std::uniform_int_distribution<std::size_t> pick(0, sample.size() - 1);

  std::string text =
      "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
      "newbalanceDest,isFraud,isFlaggedFraud\n";
  for (std::size_t i = 0; i < rows; ++i) {
    const std::int64_t step =
        1 + static_cast<std::int64_t>(i) * kPaysimSteps / static_cast<std::int64_t>(rows);
    const SampleRow& row = sample[pick(random)];
    fmt::format_to(std::back_inserter(text), "{},{},C{},{},0.0\n", step, row.type_and_amount,
                   kFirstAccountId + sequence[i], row.after_account);
  }
  std::ofstream(path, std::ios::binary) << text;
}

void writeAcme(const fs::path& path, std::size_t rows, std::size_t accounts) {
  static const std::vector<SampleRow> sample = loadSample();
  std::mt19937_64 random(kSeed);
  const std::vector<std::uint32_t> sequence = accountSequence(rows, accounts, random);
  std::uniform_int_distribution<std::size_t> pick(0, sample.size() - 1);
  std::uniform_int_distribution<std::size_t> state_code(0, std::size(kStates) - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  std::string text;
  for (std::size_t i = 0; i < rows; ++i) {
    const double offset_s =
        static_cast<double>(kAcmeSpanSeconds) * static_cast<double>(i) / static_cast<double>(rows);
    const std::time_t seconds = kAcmeStart + static_cast<std::time_t>(offset_s);
    const auto micros = static_cast<int>((offset_s - std::floor(offset_s)) * 1e6);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    // Nine in ten transactions come from the account's home state.
    const std::uint32_t account = sequence[i];
    const char* state =
        unit(random) < 0.9 ? kStates[account % std::size(kStates)] : kStates[state_code(random)];
    fmt::format_to(
        std::back_inserter(text),
        "{{\"transaction_id\": \"tx-{}\", \"account_number\": \"{}\", \"value\": "
        "{:.2f}, \"state\": \"{}\", \"date\": \"{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}"
        "\"}}\n",
        i, kFirstAccountId + account, sample[pick(random)].amount / 100.0, state,
        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
        micros);
  }
  std::ofstream(path, std::ios::binary) << text;
}

// Generated inputs, one per (format, rows, accounts), deleted at exit.
class InputFiles {
 public:
  InputFiles()
      : dir_(fs::temp_directory_path() / fmt::format("txguard-pipeline-bench-{}", ::getpid())) {
    fs::create_directories(dir_);
  }
  ~InputFiles() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  InputFiles(const InputFiles&) = delete;
  InputFiles& operator=(const InputFiles&) = delete;

  const fs::path& get(InputFormat format, std::size_t rows, std::size_t accounts) {
    const auto key = std::make_tuple(format, rows, accounts);
    auto found = paths_.find(key);
    if (found != paths_.end()) return found->second;

    const bool paysim = format == InputFormat::kPaysimCsv;
    fs::path path = dir_ / fmt::format("{}-{}-{}.{}", paysim ? "paysim" : "acme", rows, accounts,
                                       paysim ? "csv" : "jsonl");
    if (paysim) {
      writePaysim(path, rows, accounts);
    } else {
      writeAcme(path, rows, accounts);
    }
    return paths_.emplace(key, std::move(path)).first->second;
  }

 private:
  fs::path dir_;
  std::map<std::tuple<InputFormat, std::size_t, std::size_t>, fs::path> paths_;
};

InputFiles& inputFiles() {
  static InputFiles files;
  return files;
}

const RuleSet& defaultRules() {
  static const RuleSet rules =
      RuleSet::loadFile(fs::path(TXGUARD_SOURCE_DIR) / "config/rules/default.yaml");
  return rules;
}

// Leaked on purpose: destroying a Model during static destruction crashes
// inside XGBoost 1.7 (see model/model.h).
const Model& paysimModel() {
  static const Model* model =
      new Model(Model::load(fs::path(TXGUARD_SOURCE_DIR) / "models/paysim"));
  return *model;
}

ReaderOptions readerOptions(InputFormat format) {
  ReaderOptions options;
  options.format = format;
  return options;
}

// The CLI's batch loop (src/cli/score_command.cpp) up to Scorer::decide:
// read a batch, look up its states, then Scorer::prepareBatch.
struct Batch {
  std::vector<Transaction> transactions = std::vector<Transaction>(kBatchSize);
  std::vector<std::string_view> accounts = std::vector<std::string_view>(kBatchSize);
  std::vector<AccountState*> states = std::vector<AccountState*>(kBatchSize);
  std::vector<PendingDecision> pending = std::vector<PendingDecision>(kBatchSize);

  // Returns the number of rows read and prepared, 0 at the end of the input.
  std::size_t prepareNext(TransactionReader& reader, InMemoryAccountStateStore& store,
                          const Scorer& scorer) {
    std::size_t filled = 0;
    while (filled < kBatchSize && reader.next(transactions[filled])) {
      accounts[filled] = transactions[filled].account;
      ++filled;
    }
    store.statesFor(std::span(accounts.data(), filled), std::span(states.data(), filled));
    scorer.prepareBatch(std::span(transactions.data(), filled), std::span(states.data(), filled),
                        std::span(pending.data(), filled));
    return filled;
  }
};

void reportRows(benchmark::State& bench, std::uint64_t rows_per_pass, std::size_t accounts) {
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations() * rows_per_pass));
  bench.counters["accounts"] = static_cast<double>(accounts);
}

// Parsing alone: the reader's next() over the whole file.
void BM_Parse(benchmark::State& bench, InputFormat format) {
  const auto rows = static_cast<std::size_t>(bench.range(0));
  const auto accounts = static_cast<std::size_t>(bench.range(1));
  const fs::path& path = inputFiles().get(format, rows, accounts);
  RejectList rejects;
  Transaction transaction;
  std::uint64_t rows_per_pass = 0;

  for (auto _ : bench) {
    auto reader = openReader(path, readerOptions(format), rejects);
    while (reader->next(transaction)) benchmark::DoNotOptimize(transaction.amount);
    rows_per_pass = reader->rowsRead();
  }
  if (!rejects.rows().empty()) bench.SkipWithError("the generated input has rejected rows");
  reportRows(bench, rows_per_pass, accounts);
}

// Parsing, state lookup, features, rules and state update: the first pass
// of Scorer, without the model.
void BM_Rules(benchmark::State& bench, InputFormat format) {
  const auto rows = static_cast<std::size_t>(bench.range(0));
  const auto accounts = static_cast<std::size_t>(bench.range(1));
  const fs::path& path = inputFiles().get(format, rows, accounts);
  const Scorer scorer(defaultRules(), nullptr);
  RejectList rejects;
  Batch batch;
  std::unique_ptr<InMemoryAccountStateStore> states;
  std::uint64_t rows_per_pass = 0;
  std::uint64_t fired = 0;

  for (auto _ : bench) {
    bench.PauseTiming();
    states = std::make_unique<InMemoryAccountStateStore>();
    bench.ResumeTiming();

    auto reader = openReader(path, readerOptions(format), rejects);
    while (const std::size_t filled = batch.prepareNext(*reader, *states, scorer)) {
      for (std::size_t i = 0; i < filled; ++i) fired += batch.pending[i].rules.fired.size();
    }
    rows_per_pass = reader->rowsRead();
  }
  if (!rejects.rows().empty()) bench.SkipWithError("the generated input has rejected rows");
  reportRows(bench, rows_per_pass, states ? states->size() : 0);
  bench.counters["rules_fired_per_row"] =
      static_cast<double>(fired) / static_cast<double>(bench.iterations() * rows_per_pass);
}

// Everything `txguard score` does before writing output: the batch loop of
// the CLI with Scorer::prepareBatch and Scorer::decide per batch, with the
// PaySim model (one batched prediction, decisions, and SHAP
// contributions for the reviewed and blocked rows).
void BM_RulesAndModel(benchmark::State& bench, InputFormat format) {
  const auto rows = static_cast<std::size_t>(bench.range(0));
  const auto accounts = static_cast<std::size_t>(bench.range(1));
  const fs::path& path = inputFiles().get(format, rows, accounts);
  Scorer scorer(defaultRules(), &paysimModel());
  RejectList rejects;
  Batch batch;
  std::vector<Decision> decisions;
  std::unique_ptr<InMemoryAccountStateStore> states;
  std::uint64_t rows_per_pass = 0;
  std::uint64_t flagged = 0;

  for (auto _ : bench) {
    bench.PauseTiming();
    states = std::make_unique<InMemoryAccountStateStore>();
    bench.ResumeTiming();

    auto reader = openReader(path, readerOptions(format), rejects);
    while (const std::size_t filled = batch.prepareNext(*reader, *states, scorer)) {
      scorer.decide(std::span(batch.transactions.data(), filled),
                    std::span(batch.pending.data(), filled), decisions);
      for (std::size_t i = 0; i < filled; ++i) flagged += decisions[i].action != Action::kAllow;
    }
    rows_per_pass = reader->rowsRead();
  }
  if (!rejects.rows().empty()) bench.SkipWithError("the generated input has rejected rows");
  reportRows(bench, rows_per_pass, states ? states->size() : 0);
  bench.counters["flagged_share"] =
      static_cast<double>(flagged) / static_cast<double>(bench.iterations() * rows_per_pass);
}

// 1,000,000 rows over 100,000 accounts is the memory target's file; 1,000
// accounts keeps every state in cache and shows what the misses cost.
void fileSizes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"rows", "accounts"});
  bench->Args({1'000'000, 100'000});
  bench->Args({1'000'000, 1'000});
  bench->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(BM_Parse, paysim, InputFormat::kPaysimCsv)->Apply(fileSizes);
BENCHMARK_CAPTURE(BM_Parse, acme, InputFormat::kAcmeJson)->Apply(fileSizes);
BENCHMARK_CAPTURE(BM_Rules, paysim, InputFormat::kPaysimCsv)->Apply(fileSizes);
BENCHMARK_CAPTURE(BM_Rules, acme, InputFormat::kAcmeJson)->Apply(fileSizes);
BENCHMARK_CAPTURE(BM_RulesAndModel, paysim, InputFormat::kPaysimCsv)->Apply(fileSizes);

}  // namespace
}  // namespace txguard

BENCHMARK_MAIN();
