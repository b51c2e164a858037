// Runs the built txguard binary in a fresh temporary folder and captures
// its exit code, stdout and stderr, for end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace txguard::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

inline std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// A temporary folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "txguard-e2e-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string txguardBinary() { return std::string(TXGUARD_BINARY_DIR) + "/txguard"; }

inline std::string sourcePath(const std::string& relative) {
  return std::string(TXGUARD_SOURCE_DIR) + "/" + relative;
}

// Runs `txguard ARGS...` with the working directory `dir`.
inline CliResult runTxguard(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  std::string command = "cd " + shellQuote(dir.string()) + " && " + shellQuote(txguardBinary());
  for (const std::string& arg : args) command += " " + shellQuote(arg);
  const std::string out_path = (dir / ".stdout").string();
  const std::string err_path = (dir / ".stderr").string();
  command += " >" + shellQuote(out_path) + " 2>" + shellQuote(err_path) + " </dev/null";
  CliResult result;
  const int status = std::system(command.c_str());
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = readFile(out_path);
  result.err = readFile(err_path);
  return result;
}

inline std::vector<nlohmann::json> readJsonLines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

}  // namespace txguard::testing
