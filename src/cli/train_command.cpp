// `txguard train` and `txguard evaluate`: build and measure models on
// labelled files, with the same time-ordered split in both.
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/defaults.h"
#include "cli/labelled_dataset.h"
#include "model/trainer.h"

namespace txguard {
namespace {

struct DatasetOptions {
  std::string input;
  std::string format = "auto";
  std::string mapping;
  std::string rules = "default";
  std::string pan_key;
  std::string rejects = "txguard-out/train-rejects.csv";
  double test_fraction = 0.2;
};

struct TrainCommandOptions {
  DatasetOptions dataset;
  std::string out_dir;
  std::string name;
  std::string features;
  int rounds = 200;
  int max_depth = 6;
  double eta = 0.1;
  std::uint64_t seed = 0;
};

struct EvaluateCommandOptions {
  DatasetOptions dataset;
  std::string model = "auto";
  double threshold = -1;
  bool all_rows = false;
};

void addDatasetOptions(CLI::App* command, DatasetOptions& options) {
  command->add_option("file", options.input, "Labelled input file")
      ->required();
  command->add_option("--format", options.format,
                      "Input format: auto, acme-json, canonical, paysim, sparkov or mapped-csv")
      ->capture_default_str();
  command->add_option("--mapping", options.mapping, "Column mapping YAML for --format mapped-csv");
  command->add_option("--rules", options.rules,
                      "Rules YAML file or 'default'; rules that keep a transaction out of the "
                      "history change later rows' features, so they take part here too")
      ->capture_default_str();
  command->add_option("--pan-key", options.pan_key,
                      "HMAC key for card numbers (default: TXGUARD_PAN_HASH_KEY)");
  command->add_option("--rejects", options.rejects, "Where rejected rows are written")
      ->capture_default_str();
  command->add_option("--test-fraction", options.test_fraction,
                      "Share of rows, the latest by event time, held out (0-1, exclusive)")
      ->check(CLI::Range(0.01, 0.99))
      ->capture_default_str();
}

LabelledDataset loadDataset(const DatasetOptions& options) {
  ReaderOptions reader_options;
  if (options.format != "auto") {
    const auto format = parseFormatName(options.format);
    if (!format) throw CliError(fmt::format("unknown --format '{}'", options.format));
    reader_options.format = *format;
  }
  reader_options.mapping_file = options.mapping;
  bool is_demo_key = false;
  reader_options.pan_hash_key = resolvePanHashKey(options.pan_key, is_demo_key);
  std::filesystem::path rejects(options.rejects);
  if (rejects.has_parent_path()) std::filesystem::create_directories(rejects.parent_path());
  const RuleSet rules = resolveRules(options.rules);
  return loadLabelledDataset(options.input, reader_options, rules, rejects);
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

int runTrain(const TrainCommandOptions& options) {
  LabelledDataset dataset = loadDataset(options.dataset);
  const std::string kind(formatName(dataset.format));

  TrainingSet training;
  training.rows = std::move(dataset.features);
  training.labels = std::move(dataset.labels);
  training.timestamps_ms = std::move(dataset.timestamps_ms);

  TrainOptions train_options;
  train_options.name = options.name.empty() ? kind : options.name;
  train_options.dataset_kind = kind;
  train_options.features = splitList(options.features);
  train_options.test_fraction = options.dataset.test_fraction;
  train_options.rounds = options.rounds;
  train_options.max_depth = options.max_depth;
  train_options.eta = options.eta;
  train_options.seed = options.seed;

  Model model = train(training, train_options);
  const std::filesystem::path out_dir =
      options.out_dir.empty() ? std::filesystem::path("models") / train_options.name
                              : std::filesystem::path(options.out_dir);
  model.save(out_dir);

  const ModelMetadata& metadata = model.metadata();
  fmt::print("trained {} on {} rows ({} rejected), held out the latest {} by event time\n",
             metadata.version, metadata.train_rows, dataset.rejected, metadata.test_rows);
  fmt::print("input sha256 {}\n", dataset.sha256);
  fmt::print("saved to {}\n\n", out_dir.string());
  fmt::print("held-out slice at the review threshold:\n{}\n", formatMetrics(metadata.review_metrics));
  fmt::print("held-out slice at the block threshold:\n{}\n", formatMetrics(metadata.block_metrics));
  return 0;
}

int runEvaluate(const EvaluateCommandOptions& options) {
  LabelledDataset dataset = loadDataset(options.dataset);
  const std::optional<Model> model = resolveModel(options.model, dataset.format);
  if (!model) {
    throw CliError(fmt::format("no model for format '{}'; pass --model NAME or a model folder",
                               formatName(dataset.format)));
  }

  std::vector<float> probabilities;
  model->predict(dataset.features, probabilities);

  std::vector<std::size_t> rows;
  if (options.all_rows) {
    for (std::size_t i = 0; i < probabilities.size(); ++i) rows.push_back(i);
  } else {
    rows = splitByTime(dataset.timestamps_ms, options.dataset.test_fraction).test;
  }
  std::vector<float> scores;
  std::vector<int> labels;
  for (std::size_t row : rows) {
    scores.push_back(probabilities[row]);
    labels.push_back(dataset.labels[row]);
  }

  const double threshold =
      options.threshold >= 0 ? options.threshold : model->metadata().review_threshold;
  const QualityMetrics metrics = evaluateScores(scores, labels, threshold);
  fmt::print("model {} on {} ({} rows: {})\n", model->metadata().version,
             options.dataset.input, rows.size(),
             options.all_rows ? "every row"
                              : fmt::format("the latest {:.0f} % by event time",
                                            options.dataset.test_fraction * 100));
  fmt::print("{}\n", formatMetrics(metrics));
  return 0;
}

}  // namespace

void addTrainCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TrainCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "train", "Train an XGBoost model on a labelled file with a time-ordered split");
  addDatasetOptions(command, options->dataset);
  command->add_option("--out", options->out_dir,
                      "Model folder to write (model.json, metadata.json); default models/<name>");
  command->add_option("--name", options->name,
                      "Model name, first part of its version; default: the input format");
  command->add_option("--features", options->features,
                      "Comma-separated feature names; default: the set for the input format");
  command->add_option("--rounds", options->rounds, "Boosting rounds (trees), 1-5000")
      ->check(CLI::Range(1, 5000))
      ->capture_default_str();
  command->add_option("--max-depth", options->max_depth, "Maximum tree depth, 1-16")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  command->add_option("--eta", options->eta, "Learning rate, 0-1")
      ->check(CLI::Range(0.001, 1.0))
      ->capture_default_str();
  command->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  command->callback([options, &exit_code] { exit_code = runTrain(*options); });
}

void addEvaluateCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EvaluateCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "evaluate", "Print a model's precision, recall, F1, ROC-AUC, PR-AUC and confusion matrix");
  addDatasetOptions(command, options->dataset);
  command->add_option("--model", options->model,
                      "auto (embedded model for the input format), an embedded name or a folder")
      ->capture_default_str();
  command->add_option("--threshold", options->threshold,
                      "Probability at or above which a row counts as flagged, 0-1; default: the "
                      "model's review threshold");
  command->add_flag("--all", options->all_rows,
                    "Evaluate every row instead of the held-out latest --test-fraction");
  command->callback([options, &exit_code] { exit_code = runEvaluate(*options); });
}

}  // namespace txguard
