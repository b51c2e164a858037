#include "service/scoring_setup.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "embedded/embedded_files.h"
#include "telemetry/log.h"

namespace txguard {

ScoringSetupSource::ScoringSetupSource(std::filesystem::path rules_file, std::string model_name,
                                       ObjectStore* models)
    : rules_file_(std::move(rules_file)), model_name_(std::move(model_name)), models_(models) {
  auto setup = std::make_shared<ScoringSetup>(ScoringSetup{loadRules(), nullptr, ""});
  std::string version;
  setup->model = loadModel(setup->model_source, version);
  model_version_ = version;
  current_ = std::move(setup);
}

ScoringSetupSource::~ScoringSetupSource() { stop(); }

std::string ScoringSetupSource::modelKey(const std::string& name, const std::string& version,
                                         std::string_view file) {
  return fmt::format("models/{}/{}/{}", name, version, file);
}

std::string ScoringSetupSource::pointerKey(const std::string& name) {
  return fmt::format("models/{}/current", name);
}

RuleSet ScoringSetupSource::loadRules() const { return RuleSet::loadFile(rules_file_); }

std::shared_ptr<const Model> ScoringSetupSource::loadModel(std::string& source,
                                                           std::string& version) {
  if (model_name_ == "none") {
    source = "none";
    version.clear();
    return nullptr;
  }
  if (models_ != nullptr) {
    if (auto pointer = models_->get(pointerKey(model_name_))) {
      version = *pointer;
      while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) {
        version.pop_back();
      }
      const auto model_json = models_->get(modelKey(model_name_, version, kModelFileName));
      const auto metadata_json = models_->get(modelKey(model_name_, version, kMetadataFileName));
      if (!model_json || !metadata_json) {
        throw ModelError(fmt::format("{} points at version '{}' but {} or {} is missing",
                                     pointerKey(model_name_), version,
                                     modelKey(model_name_, version, kModelFileName),
                                     modelKey(model_name_, version, kMetadataFileName)));
      }
      source = "s3:" + modelKey(model_name_, version, "");
      return std::make_shared<const Model>(Model::loadFromMemory(*model_json, *metadata_json));
    }
  }
  const auto model_json = embeddedFile("models/" + model_name_ + "/model.json");
  const auto metadata_json = embeddedFile("models/" + model_name_ + "/metadata.json");
  if (!model_json || !metadata_json) {
    throw ModelError(fmt::format(
        "model '{}' has no {} in object storage and is not embedded; publish one with "
        "`txguard publish-model DIR` or set TXGUARD_MODEL_NAME to paysim, sparkov or none",
        model_name_, pointerKey(model_name_)));
  }
  source = "embedded";
  version = "embedded";
  return std::make_shared<const Model>(Model::loadFromMemory(*model_json, *metadata_json));
}

std::shared_ptr<const ScoringSetup> ScoringSetupSource::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool ScoringSetupSource::refresh() {
  std::shared_ptr<const ScoringSetup> previous = current();
  std::optional<RuleSet> rules;
  std::shared_ptr<const Model> model = previous->model;
  std::string model_source = previous->model_source;

  std::error_code error;
  const auto mtime = std::filesystem::last_write_time(rules_file_, error);
  const auto size = std::filesystem::file_size(rules_file_, error);
  if (!error && (mtime != rules_mtime_ || size != rules_size_)) {
    try {
      RuleSet loaded = loadRules();
      rules_mtime_ = mtime;
      rules_size_ = size;
      if (loaded.version() != previous->rules.version()) {
        log::info("rules reloaded", {{"rules_version", loaded.version()},
                                     {"previous_rules_version", previous->rules.version()}});
        rules.emplace(std::move(loaded));
      }
    } catch (const std::exception& exception) {
      log::limited(log::Level::kError, "rules reload failed; keeping the previous rules",
                   {{"error", exception.what()}, {"rules_file", rules_file_.string()}});
    }
  }

  bool model_changed = false;
  if (models_ != nullptr && model_name_ != "none") {
    try {
      const auto pointer = models_->get(pointerKey(model_name_));
      std::string version = pointer ? *pointer : "embedded";
      while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) {
        version.pop_back();
      }
      if (version != model_version_) {
        std::string loaded_version;
        model = loadModel(model_source, loaded_version);
        log::info("model swapped", {{"model_version", model ? model->metadata().version : ""},
                                    {"source", model_source}});
        model_version_ = loaded_version;
        model_changed = true;
      }
    } catch (const std::exception& exception) {
      log::limited(log::Level::kError, "model reload failed; keeping the previous model",
                   {{"error", exception.what()}, {"model_name", model_name_}});
    }
  }

  if (!rules && !model_changed) return false;
  auto next = std::make_shared<ScoringSetup>(
      ScoringSetup{rules ? std::move(*rules) : previous->rules, model, model_source});
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  return true;
}

void ScoringSetupSource::startWatching(std::chrono::seconds interval) {
  watcher_ = std::thread([this, interval] {
    auto next = std::chrono::steady_clock::now() + interval;
    while (!stopping_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (std::chrono::steady_clock::now() < next) continue;
      refresh();
      next = std::chrono::steady_clock::now() + interval;
    }
  });
}

void ScoringSetupSource::stop() {
  stopping_ = true;
  if (watcher_.joinable()) watcher_.join();
}

void publishModel(ObjectStore& models, const std::filesystem::path& model_dir) {
  const Model model = Model::load(model_dir);
  const ModelMetadata& metadata = model.metadata();
  auto read = [&](std::string_view file) {
    std::ifstream in(model_dir / file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  };
  models.put(ScoringSetupSource::modelKey(metadata.name, metadata.version, kModelFileName),
             read(kModelFileName), "application/json");
  models.put(ScoringSetupSource::modelKey(metadata.name, metadata.version, kMetadataFileName),
             read(kMetadataFileName), "application/json");
  models.put(ScoringSetupSource::pointerKey(metadata.name), metadata.version + "\n", "text/plain");
}

}  // namespace txguard
