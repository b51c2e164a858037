// Files compiled into the binary so that `txguard score FILE` works with no
// other file: the default rules and the shipped models.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace txguard {

// Returns the embedded file's bytes by its repository path, e.g.
// "config/rules/default.yaml" or "models/paysim/model.json".
std::optional<std::string_view> embeddedFile(std::string_view path);

// Names of the embedded models (folders under models/ with both files).
std::vector<std::string_view> embeddedModelNames();

}  // namespace txguard
