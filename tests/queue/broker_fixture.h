// Shared set-up for the tests that run against the local stack's RabbitMQ:
// reads the stack's env file, gives each test its own suffixed topology, and
// drives the broker (restart, rabbitmqctl) for the fault tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "queue/amqp_config.h"
#include "queue/amqp_connection.h"
#include "queue/topology.h"
#include "support/stack_env.h"

namespace txguard::testing {

class BrokerTest : public ::testing::Test {
 public:
  void SetUp() override {
    const char* env_path = std::getenv("TXGUARD_STACK_ENV");
    if (env_path == nullptr) {
      GTEST_SKIP() << "TXGUARD_STACK_ENV is not set; run through ctest, whose local_stack "
                      "fixture starts RabbitMQ";
    }
    if (!std::filesystem::exists(env_path)) {
      GTEST_FAIL() << "TXGUARD_STACK_ENV names '" << env_path
                   << "', which does not exist; did scripts/local-stack.sh start succeed?";
    }
    env_path_ = env_path;
    env_ = test_support::readStackEnv(env_path_.string());
    config_ = parseAmqpUrl(test_support::requireStackValue(env_, "TXGUARD_AMQP_URL"),
                           test_support::requireStackValue(env_, "TXGUARD_AMQP_PASSWORD"));
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

  // Restarts RabbitMQ with the same ports and data.
  void restartBroker() {
    std::string command =
        stackScript() + " restart-rabbitmq '" + env_path_.parent_path().string() + "' 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "broker restart failed: " << command;
  }

  // Runs rabbitmqctl against the stack's node; returns its exit status.
  // NOTE: this repeats how scripts/local-stack.sh runs rabbitmqctl (HOME
  // for the Erlang cookie, a private epmd port, a fixed CLI distribution
  // port) and must change when the script does.
  int rabbitmqctl(const std::string& arguments) {
    std::string command =
        "env HOME='" + test_support::requireStackValue(env_, "TXGUARD_STACK_DIR") +
        "' ERL_EPMD_PORT=" + test_support::requireStackValue(env_, "TXGUARD_STACK_EPMD_PORT") +
        " RABBITMQ_CTL_DIST_PORT_MIN=" +
        test_support::requireStackValue(env_, "TXGUARD_STACK_RABBITMQ_CTL_PORT") +
        " RABBITMQ_CTL_DIST_PORT_MAX=" +
        test_support::requireStackValue(env_, "TXGUARD_STACK_RABBITMQ_CTL_PORT") +
        " /usr/lib/rabbitmq/bin/rabbitmqctl --node '" +
        test_support::requireStackValue(env_, "TXGUARD_STACK_RABBITMQ_NODENAME") + "' -q " +
        arguments + " 2>&1";
    return std::system(command.c_str());
  }

  static std::string stackScript() {
    return (std::filesystem::path(TXGUARD_SOURCE_DIR) / "scripts" / "local-stack.sh").string();
  }

  std::map<std::string, std::string> env_;
  std::filesystem::path env_path_;
  AmqpConfig config_;
  QueueTopology topology_;
};

}  // namespace txguard::testing
