#include "cli/defaults.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "embedded/embedded_files.h"

namespace txguard {

RuleSet resolveRules(const std::string& option) {
  if (option == "default") {
    const auto text = embeddedFile("config/rules/default.yaml");
    if (!text) throw CliError("the default rules were not embedded in this build; pass --rules FILE");
    return RuleSet::parse(*text, "embedded config/rules/default.yaml");
  }
  if (!std::filesystem::exists(option)) {
    throw CliError(fmt::format("rules file '{}' not found; pass an existing YAML file or 'default'",
                               option));
  }
  return RuleSet::loadFile(option);
}

std::optional<Model> resolveModel(const std::string& option, InputFormat input_format) {
  if (option == "none") return std::nullopt;

  std::string name = option;
  if (option == "auto") {
    if (input_format == InputFormat::kPaysimCsv) {
      name = "paysim";
    } else if (input_format == InputFormat::kSparkovCsv) {
      name = "sparkov";
    } else {
      return std::nullopt;
    }
  }

  const auto model_json = embeddedFile("models/" + name + "/model.json");
  const auto metadata_json = embeddedFile("models/" + name + "/metadata.json");
  if (model_json && metadata_json) return Model::loadFromMemory(*model_json, *metadata_json);

  if (std::filesystem::is_directory(name)) return Model::load(name);

  std::string known;
  for (std::string_view embedded : embeddedModelNames()) {
    known += known.empty() ? "" : ", ";
    known += embedded;
  }
  if (option == "auto") return std::nullopt;
  throw CliError(fmt::format(
      "model '{}' is neither an embedded model ({}) nor a folder with model.json and "
      "metadata.json; pass --model auto, none, an embedded name or a folder",
      option, known.empty() ? "none embedded" : known));
}

std::string resolvePanHashKey(const std::string& option, bool& is_demo_key) {
  is_demo_key = false;
  if (!option.empty()) return option;
  if (const char* key = std::getenv("TXGUARD_PAN_HASH_KEY"); key != nullptr && *key != '\0') {
    return key;
  }
  is_demo_key = true;
  return "txguard-demo-key-not-secret";
}

void warnAboutDemoKey(bool is_demo_key, InputFormat format) {
  const bool may_carry_cards = format == InputFormat::kSparkovCsv ||
                               format == InputFormat::kCanonicalJsonl ||
                               format == InputFormat::kMappedCsv;
  if (!is_demo_key || !may_carry_cards) return;
  fmt::print(stderr,
             "txguard: warning: TXGUARD_PAN_HASH_KEY is not set, so card numbers are hashed with "
             "the public demonstration key; set a secret key of your own for real data\n");
}

}  // namespace txguard
