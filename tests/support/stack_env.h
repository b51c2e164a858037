// Reads the env file that scripts/local-stack.sh writes, so integration tests
// find the servers of the stack that CTest started for them.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace txguard::test_support {

// Returns NAME -> VALUE for every `export NAME=VALUE` line of `path`. Values
// may use the quoting that bash's printf %q emits for plain strings (single
// quotes or backslash escapes). Throws std::runtime_error when the file
// cannot be read.
inline std::map<std::string, std::string> readStackEnv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read stack env file '" + path +
                             "': start the stack with scripts/local-stack.sh start DIR");
  }
  std::map<std::string, std::string> values;
  const std::string prefix = "export ";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) {
      continue;
    }
    std::size_t equals = line.find('=', prefix.size());
    if (equals == std::string::npos) {
      continue;
    }
    std::string name = line.substr(prefix.size(), equals - prefix.size());
    std::string raw = line.substr(equals + 1);
    std::string value;
    bool in_quotes = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\'') {
        in_quotes = !in_quotes;
      } else if (c == '\\' && !in_quotes && i + 1 < raw.size()) {
        value.push_back(raw[++i]);
      } else {
        value.push_back(c);
      }
    }
    values[name] = value;
  }
  return values;
}

// Reads the file named by TXGUARD_STACK_ENV, which the integration tests'
// CTest properties set; nullopt when the variable is unset.
inline std::optional<std::map<std::string, std::string>> loadStackEnv() {
  const char* path = std::getenv("TXGUARD_STACK_ENV");
  if (path == nullptr || *path == '\0') {
    return std::nullopt;
  }
  return readStackEnv(path);
}

// Returns values[name], or throws std::runtime_error naming the missing
// variable and the file it should be in.
inline const std::string& requireStackValue(const std::map<std::string, std::string>& values,
                                            const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) {
    throw std::runtime_error(name +
                             " missing from the stack env file; was it written by "
                             "scripts/local-stack.sh start?");
  }
  return it->second;
}

}  // namespace txguard::test_support
