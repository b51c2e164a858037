// A child process started with fork and exec, its output in a log file, and
// stopped by its PID: SIGTERM first, SIGKILL after a timeout. The service
// tests run `txguard api`, `txguard worker` and `txguard replay` this way.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace txguard::service_test {

using Environment = std::map<std::string, std::string>;

// Returns the environment of this process, for a child to start from.
inline Environment currentEnvironment() {
  Environment variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto equals = text.find('=');
    if (equals != std::string::npos) variables[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return variables;
}

inline std::string readWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class ChildProcess {
 public:
  // Starts `argv` with exactly `environment`; stdin is /dev/null, stdout and
  // stderr go to `log_path` (appended). The child gets SIGKILL when the test
  // process dies, so a crashed test leaves no worker consuming the shared
  // queue. Throws std::runtime_error when fork fails; a failed exec shows
  // as exit code 127.
  ChildProcess(std::string name, const std::vector<std::string>& argv,
               const Environment& environment, std::filesystem::path log_path)
      : name_(std::move(name)), log_path_(std::move(log_path)) {
    // Everything the child needs is built before fork: after fork it may
    // only make async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : environment) env_strings.push_back(key + "=" + value);
    std::vector<char*> env_pointers;
    for (std::string& entry : env_strings) env_pointers.push_back(entry.data());
    env_pointers.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> arg_pointers;
    for (std::string& arg : args) arg_pointers.push_back(arg.data());
    arg_pointers.push_back(nullptr);
    const std::string log_file = log_path_.string();
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("cannot start " + argv[0] + ": fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (in < 0 || out < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
      ::_exit(127);
    }
  }

  ~ChildProcess() { stop(std::chrono::seconds(5)); }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& logPath() const { return log_path_; }
  std::string log() const { return readWholeFile(log_path_); }

  // True until the process has exited (and then it is reaped here).
  bool running() {
    if (exit_status_) return false;
    int status = 0;
    const pid_t result = waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      exit_status_ = decode(status);
      return false;
    }
    return result == 0;
  }

  // Waits up to `timeout` for the exit. Returns the exit code, or 128 plus
  // the signal number when a signal ended it; nullopt while still running.
  std::optional<int> waitExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }

  // Sends `signal` to this child only, if it has not exited yet.
  void signal(int signal_number) {
    if (running()) ::kill(pid_, signal_number);
  }

  // SIGTERM, then SIGKILL when it is still running after `grace`. Returns
  // the exit status as waitExit() does.
  int stop(std::chrono::milliseconds grace) {
    if (!running()) return exit_status_.value_or(-1);
    ::kill(pid_, SIGTERM);
    if (auto status = waitExit(grace)) return *status;
    ::kill(pid_, SIGKILL);
    return waitExit(std::chrono::seconds(30)).value_or(-1);
  }

  // Resident memory from /proc/<pid>/status, in KiB; 0 when unreadable.
  std::uint64_t residentKib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
  }

 private:
  static int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }

  std::string name_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace txguard::service_test
