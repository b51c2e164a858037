// Loads a labelled file for training and evaluation: every row in time
// order with its features computed from the account's history, exactly as
// the scorer would see them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "features/feature_vector.h"
#include "ingest/reader.h"
#include "rules/rule_set.h"

namespace txguard {

struct LabelledDataset {
  InputFormat format = InputFormat::kAuto;
  std::vector<FeatureVector> features;  // in event-time order
  std::vector<int> labels;              // 0 or 1
  std::vector<std::int64_t> timestamps_ms;
  std::string sha256;                   // of the input file's bytes
  std::uint64_t rejected = 0;
};

// Reads every row (rows without a label are a CliError naming the line),
// sorts by event time (ties keep file order), and replays the rows through
// the features and rules in that order. Memory grows with rows: training
// needs them all.
LabelledDataset loadLabelledDataset(const std::filesystem::path& input, const ReaderOptions& options,
                                    const RuleSet& rules, const std::filesystem::path& rejects_path);

// Hex SHA-256 of a file's bytes.
std::string sha256File(const std::filesystem::path& path);

}  // namespace txguard
