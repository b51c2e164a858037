// The rules and model the service scores with, swapped without a restart:
// the rules when their file changes, the model when the S3 pointer
// models/<name>/current names another version.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "model/model.h"
#include "rules/rule_set.h"
#include "store/object_store.h"

namespace txguard {

struct ScoringSetup {
  RuleSet rules;
  std::shared_ptr<const Model> model;  // null: rules only
  std::string model_source;            // "s3://…/<version>" or "embedded"
};

class ScoringSetupSource {
 public:
  // `models` may be null (no S3): the embedded model named `model_name` is
  // used, or none when `model_name` is "none". Throws when the rules file
  // cannot be loaded at start-up.
  ScoringSetupSource(std::filesystem::path rules_file, std::string model_name,
                     ObjectStore* models);
  ~ScoringSetupSource();

  std::shared_ptr<const ScoringSetup> current() const;

  // Reloads what changed. A rules file or model that fails to load is
  // logged and the previous one stays in use. Returns true when swapped.
  bool refresh();

  // Calls refresh() every `interval` on a background thread until stop().
  void startWatching(std::chrono::seconds interval);
  void stop();

  // Object keys of a model version and of the pointer to the current one.
  static std::string modelKey(const std::string& name, const std::string& version,
                              std::string_view file);
  static std::string pointerKey(const std::string& name);

 private:
  RuleSet loadRules() const;
  std::shared_ptr<const Model> loadModel(std::string& source, std::string& version);

  std::filesystem::path rules_file_;
  std::string model_name_;
  ObjectStore* models_;

  mutable std::mutex mutex_;
  std::shared_ptr<const ScoringSetup> current_;
  std::filesystem::file_time_type rules_mtime_{};
  std::uintmax_t rules_size_ = 0;
  std::string model_version_;

  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

// Uploads a model folder to `models` as models/<name>/<version>/… and then
// points models/<name>/current at it, in that order, so a reader never sees
// a pointer to a model that is not there.
void publishModel(ObjectStore& models, const std::filesystem::path& model_dir);

}  // namespace txguard
