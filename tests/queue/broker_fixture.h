// Shared set-up for the tests that run against a real RabbitMQ: reads the
// local stack's env file, gives each test its own suffixed topology, and
// restarts the broker for the fault tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "queue/amqp_config.h"
#include "queue/amqp_connection.h"
#include "queue/topology.h"

namespace txguard::testing {

// Reads `export NAME=value` (or `NAME=value`) lines, with optional single
// or double quotes around the value, as scripts/local-stack.sh writes them.
inline std::map<std::string, std::string> readEnvFile(const std::filesystem::path& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("export ")) {
      line.erase(0, 7);
    }
    std::size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) {
      continue;
    }
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    values[line.substr(0, eq)] = value;
  }
  return values;
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env_path = std::getenv("TXGUARD_STACK_ENV");
    if (env_path == nullptr || !std::filesystem::exists(env_path)) {
      GTEST_SKIP() << "TXGUARD_STACK_ENV does not name the local stack's env file; run through "
                      "ctest, whose local_stack fixture starts RabbitMQ";
    }
    env_path_ = env_path;
    auto env = readEnvFile(env_path_);
    config_ = parseAmqpUrl(env["TXGUARD_AMQP_URL"], env["TXGUARD_AMQP_PASSWORD"]);
    config_.connection_name = "txguard-queue-test";
    config_.reconnect = {std::chrono::milliseconds(50), std::chrono::milliseconds(1000)};
    config_.connect_timeout = std::chrono::milliseconds(2000);

    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    topology_ =
        QueueTopology::withSuffix(".test-" + std::to_string(::getpid()) + "-" + info->name());
    AmqpConnection connection(config_);
    declareTopology(connection, topology_);
  }

  void TearDown() override {
    if (env_path_.empty()) {
      return;
    }
    try {
      AmqpConnection connection(config_);
      deleteTopology(connection, topology_);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot delete the test topology: " << error.what();
    }
  }

  // Restarts RabbitMQ with the same ports and data, through the local
  // stack script, or TXGUARD_RABBITMQ_RESTART_COMMAND when set.
  void restartBroker() {
    std::string command;
    if (const char* custom = std::getenv("TXGUARD_RABBITMQ_RESTART_COMMAND")) {
      command = custom;
    } else {
      std::filesystem::path script =
          std::filesystem::path(TXGUARD_SOURCE_DIR) / "scripts" / "local-stack.sh";
      ASSERT_TRUE(std::filesystem::exists(script)) << script << " is missing";
      command = script.string() + " restart-rabbitmq '" + env_path_.parent_path().string() + "'";
    }
    ASSERT_EQ(std::system(command.c_str()), 0) << "broker restart failed: " << command;
  }

  std::filesystem::path env_path_;
  AmqpConfig config_;
  QueueTopology topology_;
};

}  // namespace txguard::testing
