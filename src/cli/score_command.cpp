// `txguard score FILE`: streams a file through the scoring engine with an
// in-memory account state and writes decisions, rejects, fraud reports and
// a summary.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/defaults.h"
#include "cli/progress.h"
#include "decision/decision_format.h"
#include "decision/scorer.h"
#include "features/account_state_store.h"
#include "ingest/reader.h"
#include "model/metrics.h"
#include "store/local_folder_store.h"

namespace txguard {
namespace {

struct ScoreOptions {
  std::string input;
  std::string format = "auto";
  std::string mapping;
  std::string rules = "default";
  std::string model = "auto";
  std::string out_dir = "txguard-out";
  std::string decisions_format = "jsonl";
  std::string pan_key;
  std::uint64_t max_rejects = UINT64_MAX;
  std::size_t batch_size = 4096;
  bool no_reports = false;
  bool json_summary = false;
  bool quiet = false;
};

struct ScoreTotals {
  std::uint64_t rows = 0;
  std::map<Action, std::uint64_t> by_action{
      {Action::kAllow, 0}, {Action::kReview, 0}, {Action::kBlock, 0}};
  std::uint64_t reports = 0;
  std::uint64_t excluded_from_history = 0;
  // NOTE: kept per labelled row (8 bytes each) so the summary can give exact
  // AUCs; 1,000,000 rows add about 8 MB.
  std::vector<float> scores;
  std::vector<int> labels;
  // Labelled rows by outcome, where flagged means review or block.
  ConfusionMatrix confusion;
};

InputFormat parseFormatOption(const std::string& value) {
  if (value == "auto") return InputFormat::kAuto;
  if (auto format = parseFormatName(value)) return *format;
  throw CliError(fmt::format(
      "unknown --format '{}'; use auto, acme-json, canonical, paysim, sparkov or mapped-csv", value));
}

class ScoreRun {
 public:
  explicit ScoreRun(const ScoreOptions& options) : options_(options) {}

  int run() {
    namespace fs = std::filesystem;
    const fs::path out_dir(options_.out_dir);
    fs::create_directories(out_dir);
    const fs::path decisions_path =
        out_dir / (options_.decisions_format == "csv" ? "decisions.csv" : "decisions.jsonl");
    const fs::path rejects_path = out_dir / "rejects.csv";

    ReaderOptions reader_options;
    reader_options.format = parseFormatOption(options_.format);
    reader_options.mapping_file = options_.mapping;
    bool is_demo_key = false;
    reader_options.pan_hash_key = resolvePanHashKey(options_.pan_key, is_demo_key);
    reader_options.max_rejects = options_.max_rejects;

    RejectsFile rejects(rejects_path);
    auto reader = openReader(options_.input, reader_options, rejects);
    warnAboutDemoKey(is_demo_key, reader->format());
    const RuleSet rules = resolveRules(options_.rules);
    const std::optional<Model> model = resolveModel(options_.model, reader->format());
    Scorer scorer(rules, model ? &*model : nullptr);
    LocalFolderStore reports(out_dir, /*sync_writes=*/false);

    std::ofstream decisions_file(decisions_path, std::ios::binary | std::ios::trunc);
    if (!decisions_file) {
      throw CliError(fmt::format("cannot write decisions file '{}'", decisions_path.string()));
    }
    if (options_.decisions_format == "csv") decisions_file << decisionCsvHeader();

    InMemoryAccountStateStore states;
    ProgressBar progress(!options_.quiet);
    std::vector<Transaction> batch(options_.batch_size);
    std::vector<std::string_view> accounts(options_.batch_size);
    std::vector<AccountState*> account_states(options_.batch_size);
    std::vector<PendingDecision> pending(options_.batch_size);
    std::vector<Decision> decisions;
    std::string buffer;
    ScoreTotals totals;

    const auto start = std::chrono::steady_clock::now();
    bool more = true;
    while (more) {
      // Read the whole batch first, so that the state lookups and the
      // scoring can prefetch the accounts of later rows.
      std::size_t filled = 0;
      while (filled < batch.size() && (more = reader->next(batch[filled]))) {
        accounts[filled] = batch[filled].account;
        ++filled;
      }
      if (filled == 0) break;

      states.statesFor(std::span(accounts.data(), filled),
                       std::span(account_states.data(), filled));
      scorer.prepareBatch(std::span(batch.data(), filled), std::span(account_states.data(), filled),
                          std::span(pending.data(), filled));
      scorer.decide(std::span(batch.data(), filled), std::span(pending.data(), filled), decisions);
      writeBatch(std::span(batch.data(), filled), std::span(pending.data(), filled), decisions,
                 reports, buffer, totals);
      decisions_file.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      progress.update(reader->bytesRead(), reader->totalBytes(), totals.rows);
    }
    decisions_file.flush();
    if (!decisions_file) {
      throw CliError(fmt::format("writing decisions file '{}' failed (disk full?)",
                                 decisions_path.string()));
    }
    progress.finish();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    nlohmann::json summary = makeSummary(*reader, rejects, scorer, totals, seconds, states.size());
    summary["files"] = {{"decisions", decisions_path.string()},
                        {"rejects", rejects_path.string()},
                        {"reports", (out_dir / "reports").string()}};
    std::ofstream(out_dir / "summary.json") << summary.dump(2) << '\n';
    if (options_.json_summary) {
      fmt::print("{}\n", summary.dump(2));
    } else {
      printSummary(summary);
    }
    return 0;
  }

 private:
  void writeBatch(std::span<const Transaction> transactions, std::span<const PendingDecision> pending,
                  const std::vector<Decision>& decisions, ObjectStore& reports, std::string& buffer,
                  ScoreTotals& totals) {
    for (std::size_t i = 0; i < transactions.size(); ++i) {
      const Decision& decision = decisions[i];
      if (options_.decisions_format == "csv") {
        appendDecisionCsv(buffer, decision);
      } else {
        appendDecisionJson(buffer, decision);
        buffer.push_back('\n');
      }
      ++totals.rows;
      ++totals.by_action[decision.action];
      if (decision.excluded_from_history) ++totals.excluded_from_history;
      if (decision.label >= 0) {
        totals.scores.push_back(static_cast<float>(decision.score));
        totals.labels.push_back(decision.label);
        const bool flagged = decision.action != Action::kAllow;
        const bool fraud = decision.label == 1;
        ++(flagged ? (fraud ? totals.confusion.tp : totals.confusion.fp)
                   : (fraud ? totals.confusion.fn : totals.confusion.tn));
      }
      if (decision.action != Action::kAllow && !options_.no_reports) {
        reports.put(fraudReportKey(transactions[i]),
                    renderFraudReport(transactions[i], pending[i].previous, decision),
                    "text/plain; charset=utf-8");
        ++totals.reports;
      }
    }
  }

  nlohmann::json makeSummary(const TransactionReader& reader, const RejectsFile& rejects,
                             const Scorer& scorer, const ScoreTotals& totals, double seconds,
                             std::size_t accounts) const {
    nlohmann::json summary;
    summary["input"] = options_.input;
    summary["format"] = std::string(formatName(reader.format()));
    summary["rows_read"] = reader.rowsRead();
    summary["rows_scored"] = totals.rows;
    summary["rows_rejected"] = rejects.count();
    summary["accounts"] = accounts;
    summary["decisions"] = {{"allow", totals.by_action.at(Action::kAllow)},
                            {"review", totals.by_action.at(Action::kReview)},
                            {"block", totals.by_action.at(Action::kBlock)}};
    summary["excluded_from_history"] = totals.excluded_from_history;
    summary["reports_written"] = totals.reports;
    summary["model_version"] = scorer.modelVersion();
    summary["rules_version"] = scorer.rulesVersion();
    summary["review_threshold"] = scorer.reviewThreshold();
    summary["block_threshold"] = scorer.blockThreshold();
    summary["seconds"] = seconds;
    summary["rows_per_second"] = seconds > 0 ? totals.rows / seconds : 0.0;
    if (!totals.labels.empty()) summary["quality"] = qualityJson(totals);
    return summary;
  }

  static nlohmann::json qualityJson(const ScoreTotals& totals) {
    auto number = [](double value) -> nlohmann::json {
      return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    };
    auto ratio = [](std::uint64_t part, std::uint64_t whole) {
      return whole == 0 ? std::nan("") : static_cast<double>(part) / static_cast<double>(whole);
    };
    // The areas rank the reported score; the threshold argument does not
    // affect them.
    const QualityMetrics ranking = evaluateScores(totals.scores, totals.labels, 0.5);
    const ConfusionMatrix& confusion = totals.confusion;
    const double precision = ratio(confusion.tp, confusion.tp + confusion.fp);
    const double recall = ratio(confusion.tp, confusion.tp + confusion.fn);
    const double f1 = 2 * precision * recall / (precision + recall);
    return {{"flagged_means", "action review or block"},
            {"precision", number(precision)},
            {"recall", number(recall)},
            {"f1", number(f1)},
            {"roc_auc", number(ranking.roc_auc)},
            {"pr_auc", number(ranking.pr_auc)},
            {"true_positives", confusion.tp},
            {"false_positives", confusion.fp},
            {"true_negatives", confusion.tn},
            {"false_negatives", confusion.fn}};
  }

  void printSummary(const nlohmann::json& summary) const {
    const auto& decisions = summary["decisions"];
    fmt::print("txguard score: {} (format {})\n", summary["input"].get<std::string>(),
               summary["format"].get<std::string>());
    fmt::print("  rows scored     {:>10}  of {} read, {} accounts\n",
               summary["rows_scored"].get<std::uint64_t>(), summary["rows_read"].get<std::uint64_t>(),
               summary["accounts"].get<std::uint64_t>());
    fmt::print("  rows rejected   {:>10}  see {}\n", summary["rows_rejected"].get<std::uint64_t>(),
               summary["files"]["rejects"].get<std::string>());
    fmt::print("  decisions       allow {}  review {}  block {}\n",
               decisions["allow"].get<std::uint64_t>(), decisions["review"].get<std::uint64_t>(),
               decisions["block"].get<std::uint64_t>());
    fmt::print("  fraud reports   {:>10}  in {}\n", summary["reports_written"].get<std::uint64_t>(),
               summary["files"]["reports"].get<std::string>());
    fmt::print("  decisions file  {}\n", summary["files"]["decisions"].get<std::string>());
    const std::string model_version = summary["model_version"].get<std::string>();
    fmt::print("  model           {}\n", model_version.empty() ? "none (rules only)" : model_version);
    fmt::print("  rules           {}\n", summary["rules_version"].get<std::string>());
    fmt::print("  throughput      {:.0f} rows/s ({:.3f} s)\n",
               summary["rows_per_second"].get<double>(), summary["seconds"].get<double>());
    if (summary.contains("quality")) {
      const auto& quality = summary["quality"];
      auto show = [](const nlohmann::json& value) {
        return value.is_null() ? std::string("n/a") : fmt::format("{:.4f}", value.get<double>());
      };
      fmt::print("  quality against the input's labels (flagged = review or block):\n");
      fmt::print("    precision {}  recall {}  F1 {}  ROC-AUC {}  PR-AUC {} (of the score)\n",
                 show(quality["precision"]), show(quality["recall"]), show(quality["f1"]),
                 show(quality["roc_auc"]), show(quality["pr_auc"]));
      fmt::print("    confusion: TP {}  FP {}  TN {}  FN {}\n",
                 quality["true_positives"].get<std::uint64_t>(),
                 quality["false_positives"].get<std::uint64_t>(),
                 quality["true_negatives"].get<std::uint64_t>(),
                 quality["false_negatives"].get<std::uint64_t>());
    }
  }

  const ScoreOptions& options_;
};

}  // namespace

void addScoreCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ScoreOptions>();
  CLI::App* command = app.add_subcommand(
      "score", "Score a file of transactions: decisions, rejects, fraud reports and a summary");
  command->add_option("file", options->input, "Input file (CSV, JSON or JSON Lines)")
      ->required();
  command->add_option("--format", options->format,
                      "Input format: auto (detect from the header or content), acme-json, "
                      "canonical, paysim, sparkov or mapped-csv")
      ->capture_default_str();
  command->add_option("--mapping", options->mapping,
                      "Column mapping YAML for --format mapped-csv (see docs/input-formats.md)");
  command->add_option("--rules", options->rules,
                      "Rules YAML file, or 'default' for the embedded default rules")
      ->capture_default_str();
  command->add_option("--model", options->model,
                      "Model: auto (embedded model matching the input format), none (rules only), "
                      "an embedded name (paysim, sparkov) or a model folder")
      ->capture_default_str();
  command->add_option("--out-dir", options->out_dir,
                      "Folder for decisions, rejects.csv, reports/ and summary.json")
      ->capture_default_str();
  command->add_option("--decisions-format", options->decisions_format,
                      "Decisions file format: jsonl (one JSON object a line) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  command->add_option("--max-rejects", options->max_rejects,
                      "Abort when more than this many rows are rejected (rows; default: no limit)");
  command->add_option("--batch-size", options->batch_size,
                      "Transactions per model prediction batch (rows, 1-1000000)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  command->add_option("--pan-key", options->pan_key,
                      "HMAC key turning card numbers into account keys (default: "
                      "TXGUARD_PAN_HASH_KEY, else a public demonstration key)");
  command->add_flag("--no-reports", options->no_reports,
                    "Do not write fraud reports for reviewed and blocked transactions");
  command->add_flag("--json", options->json_summary, "Print the summary as JSON on stdout");
  command->add_flag("--quiet,-q", options->quiet, "No progress bar");
  command->callback([options, &exit_code] { exit_code = ScoreRun(*options).run(); });
}

}  // namespace txguard
