#include "config/service_config.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace txguard {
namespace {

EnvironmentLookup fakeEnvironment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::map<std::string, std::string> minimalWorkerEnvironment() {
  return {{"TXGUARD_S3_ACCESS_KEY_ID", "access"},
          {"TXGUARD_S3_SECRET_ACCESS_KEY", "secret-value-123"},
          {"TXGUARD_PAN_HASH_KEY", "0123456789abcdef0123"}};
}

TEST(ServiceConfig, DefaultsFollowTheRole) {
  const auto environment = fakeEnvironment(minimalWorkerEnvironment());
  EXPECT_EQ(loadServiceConfig(ServiceRole::kApi, environment).http_port, 8080);
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, environment).http_port, 9100);
}

TEST(ServiceConfig, ListsEveryProblemAtOnce) {
  auto values = minimalWorkerEnvironment();
  values.erase("TXGUARD_S3_SECRET_ACCESS_KEY");
  values["TXGUARD_HTTP_PORT"] = "70000";
  values["TXGUARD_LOG_LEVEL"] = "loud";
  values["TXGUARD_REDIS_URL"] = "localhost:6379";
  try {
    loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("4 configuration problems"), std::string::npos) << message;
    EXPECT_NE(message.find("TXGUARD_HTTP_PORT: invalid value '70000'"), std::string::npos);
    EXPECT_NE(message.find("TXGUARD_LOG_LEVEL: invalid value 'loud'"), std::string::npos);
    EXPECT_NE(message.find("TXGUARD_REDIS_URL: invalid URL"), std::string::npos);
    EXPECT_NE(message.find("TXGUARD_S3_SECRET_ACCESS_KEY: missing"), std::string::npos);
  }
}

TEST(ServiceConfig, SecretFileWinsAndLosesItsNewline) {
  const auto path = std::filesystem::temp_directory_path() / "txguard-config-test-secret";
  std::ofstream(path) << "from-the-file\n";
  auto values = minimalWorkerEnvironment();
  values["TXGUARD_REDIS_PASSWORD"] = "from-the-variable";
  values["TXGUARD_REDIS_PASSWORD_FILE"] = path.string();
  const ServiceConfig config = loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
  EXPECT_EQ(config.redis_password, "from-the-file");
  std::filesystem::remove(path);
}

TEST(ServiceConfig, UnreadableSecretFileIsNamed) {
  auto values = minimalWorkerEnvironment();
  values["TXGUARD_AMQP_PASSWORD_FILE"] = "/nonexistent/secret";
  EXPECT_THROW(
      {
        try {
          loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
        } catch (const ConfigError& error) {
          EXPECT_NE(std::string(error.what()).find("/nonexistent/secret"), std::string::npos);
          throw;
        }
      },
      ConfigError);
}

TEST(ServiceConfig, BatchLargerThanPrefetchIsRejected) {
  auto values = minimalWorkerEnvironment();
  values["TXGUARD_WORKER_PREFETCH"] = "100";
  values["TXGUARD_WORKER_BATCH"] = "200";
  EXPECT_THROW(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)), ConfigError);
}

TEST(ServiceConfig, AccountCacheSizeIsChecked) {
  auto values = minimalWorkerEnvironment();
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).account_cache, 20000u);
  values["TXGUARD_ACCOUNT_CACHE"] = "0";
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).account_cache, 0u);
  values["TXGUARD_ACCOUNT_CACHE"] = "2000000";
  try {
    loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
    ADD_FAILURE() << "2000000 accounts accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("TXGUARD_ACCOUNT_CACHE"), std::string::npos)
        << error.what();
  }
}

TEST(ServiceConfig, UploadConcurrencyIsChecked) {
  auto values = minimalWorkerEnvironment();
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).upload_concurrency, 8u);
  values["TXGUARD_UPLOAD_CONCURRENCY"] = "1";
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).upload_concurrency, 1u);
  for (const char* wrong : {"0", "65", "many"}) {
    values["TXGUARD_UPLOAD_CONCURRENCY"] = wrong;
    try {
      loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
      ADD_FAILURE() << wrong << " accepted";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("TXGUARD_UPLOAD_CONCURRENCY"), std::string::npos)
          << error.what();
    }
  }
}

TEST(ServiceConfig, ReportsFromIsReviewOrBlock) {
  auto values = minimalWorkerEnvironment();
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).reports_from, "review");
  values["TXGUARD_REPORTS_FROM"] = "block";
  EXPECT_EQ(loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values)).reports_from, "block");
  values["TXGUARD_REPORTS_FROM"] = "allow";
  try {
    loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(values));
    ADD_FAILURE() << "allow accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("TXGUARD_REPORTS_FROM: invalid value 'allow'; use one of review, block"), std::string::npos)
        << error.what();
  }
}

TEST(ServiceConfig, DescriptionHidesSecrets) {
  const ServiceConfig config =
      loadServiceConfig(ServiceRole::kWorker, fakeEnvironment(minimalWorkerEnvironment()));
  for (const auto& [key, value] : describeConfig(config)) {
    EXPECT_EQ(value.find("secret-value-123"), std::string::npos) << key;
    EXPECT_EQ(value.find("0123456789abcdef0123"), std::string::npos) << key;
  }
}

TEST(ServiceConfig, ReplayNeedsNoStorageSecrets) {
  EXPECT_NO_THROW(loadServiceConfig(ServiceRole::kReplay, fakeEnvironment({})));
}

}  // namespace
}  // namespace txguard
