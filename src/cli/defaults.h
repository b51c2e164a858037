// Resolution of the CLI's rules, model and card-number key from options,
// the environment and the embedded defaults.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "ingest/reader.h"
#include "model/model.h"
#include "rules/rule_set.h"

namespace txguard {

// A usage or set-up problem reported as one line, exit code 1.
class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "default" loads the embedded default rules; anything else is a file path.
RuleSet resolveRules(const std::string& option);

// "auto" picks the embedded model matching the input format (paysim,
// sparkov) or none; "none" disables the model; an embedded model's name
// loads it; anything else is a model folder (model.json + metadata.json).
std::optional<Model> resolveModel(const std::string& option, InputFormat input_format);

// The HMAC key for card numbers: the option, else TXGUARD_PAN_HASH_KEY,
// else a fixed demonstration key so that a first run needs no set-up
// (`is_demo_key` is set to true then). Accounts hashed with different keys
// do not match.
std::string resolvePanHashKey(const std::string& option, bool& is_demo_key);

// Warns on stderr when the demonstration key is in use for a format that
// can carry card numbers.
void warnAboutDemoKey(bool is_demo_key, InputFormat format);

}  // namespace txguard
