// Settings of `txguard api` and `txguard worker`, read from environment
// variables (docs/configuration.md lists them) and checked at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace txguard {

// Raised with every problem found, one per line, so that an operator fixes
// them all in one pass instead of one per restart.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// kReplay needs only RabbitMQ; kObjectTool (publish-model) only S3.
enum class ServiceRole { kApi, kWorker, kReplay, kObjectTool };

struct ServiceConfig {
  ServiceRole role = ServiceRole::kApi;

  std::uint16_t http_port = 8080;
  std::string log_level = "info";

  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string redis_password;

  std::string amqp_url = "amqp://txguard@127.0.0.1:5672/%2F";
  std::string amqp_password;

  std::string s3_endpoint = "http://127.0.0.1:9000";
  std::string s3_public_endpoint;  // defaults to s3_endpoint
  std::string s3_region = "us-east-1";
  std::string s3_access_key_id;
  std::string s3_secret_access_key;
  std::string bucket_reports = "txguard-reports";
  std::string bucket_archive = "txguard-archive";
  std::string bucket_models = "txguard-models";

  std::string model_name = "paysim";
  std::string rules_file = "/etc/txguard/rules/rules.yaml";
  std::string pan_hash_key;

  std::uint32_t worker_prefetch = 512;
  std::uint32_t worker_batch = 256;
  std::uint32_t worker_max_deliveries = 5;
  std::uint32_t worker_linger_ms = 5;
  std::uint32_t upload_concurrency = 8;
  std::uint32_t account_cache = 20000;
  // Lowest action that gets a fraud report object: "review" (reviewed and
  // blocked transactions) or "block" (blocked ones only).
  std::string reports_from = "review";
  std::chrono::seconds decision_ttl{86400};
  std::chrono::seconds shutdown_grace{25};
  std::uint64_t max_body_bytes = 1 << 20;
};

// Reads a variable; the environment is a parameter so tests can give their
// own. Returns nullopt when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvironmentLookup processEnvironment();

// Builds the configuration for `role`. A secret may come from NAME_FILE (a
// mounted Secret), which wins over NAME; the file's trailing newline is
// dropped. Throws ConfigError listing every invalid or missing value.
ServiceConfig loadServiceConfig(ServiceRole role, const EnvironmentLookup& environment);

// The configuration as log-safe key=value pairs: secrets show as "(set)"
// or "(empty)", never their value.
std::vector<std::pair<std::string, std::string>> describeConfig(const ServiceConfig& config);

}  // namespace txguard
