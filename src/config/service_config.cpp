#include "config/service_config.h"

#include <charconv>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace txguard {
namespace {

class ConfigReader {
 public:
  explicit ConfigReader(const EnvironmentLookup& environment) : environment_(environment) {}

  void text(const std::string& name, std::string& target) {
    if (auto value = environment_(name); value && !value->empty()) target = *value;
  }

  // Reads NAME_FILE (preferred) or NAME.
  void secret(const std::string& name, std::string& target, bool required) {
    if (auto path = environment_(name + "_FILE"); path && !path->empty()) {
      std::ifstream file(*path, std::ios::binary);
      if (!file) {
        problems_.push_back(fmt::format("{}_FILE: cannot read '{}'; mount the Secret there or unset "
                                        "{}_FILE",
                                        name, *path, name));
        return;
      }
      std::stringstream content;
      content << file.rdbuf();
      target = content.str();
      while (!target.empty() && (target.back() == '\n' || target.back() == '\r')) target.pop_back();
    } else if (auto value = environment_(name); value) {
      target = *value;
    }
    if (required && target.empty()) {
      problems_.push_back(fmt::format("{}: missing; set {} or {}_FILE", name, name, name));
    }
  }

  template <typename Integer>
  void integer(const std::string& name, Integer& target, std::int64_t min, std::int64_t max,
               const char* unit) {
    auto value = environment_(name);
    if (!value || value->empty()) return;
    std::int64_t parsed = 0;
    const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (error != std::errc() || end != value->data() + value->size() || parsed < min ||
        parsed > max) {
      problems_.push_back(fmt::format("{}: invalid value '{}'; expected a whole number of {} "
                                      "from {} to {}",
                                      name, *value, unit, min, max));
      return;
    }
    target = static_cast<Integer>(parsed);
  }

  void seconds(const std::string& name, std::chrono::seconds& target, std::int64_t min,
               std::int64_t max) {
    std::int64_t count = target.count();
    integer(name, count, min, max, "seconds");
    target = std::chrono::seconds(count);
  }

  void urlScheme(const std::string& name, const std::string& value,
                 std::initializer_list<const char*> schemes) {
    for (const char* scheme : schemes) {
      if (value.rfind(std::string(scheme) + "://", 0) == 0 && value.size() > std::strlen(scheme) + 3) {
        return;
      }
    }
    std::string expected;
    for (const char* scheme : schemes) expected += std::string(expected.empty() ? "" : " or ") + scheme + "://…";
    problems_.push_back(fmt::format("{}: invalid URL '{}'; expected {}", name, value, expected));
  }

  void oneOf(const std::string& name, const std::string& value,
             std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* item : allowed) {
      if (value == item) return;
      list += std::string(list.empty() ? "" : ", ") + item;
    }
    problems_.push_back(fmt::format("{}: invalid value '{}'; use one of {}", name, value, list));
  }

  void require(bool condition, std::string problem) {
    if (!condition) problems_.push_back(std::move(problem));
  }

  void throwIfProblems() const {
    if (problems_.empty()) return;
    std::string message = fmt::format("{} configuration problem{}:", problems_.size(),
                                      problems_.size() == 1 ? "" : "s");
    for (const std::string& problem : problems_) message += "\n  " + problem;
    throw ConfigError(message);
  }

 private:
  const EnvironmentLookup& environment_;
  std::vector<std::string> problems_;
};

}  // namespace

EnvironmentLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

ServiceConfig loadServiceConfig(ServiceRole role, const EnvironmentLookup& environment) {
  ServiceConfig config;
  config.role = role;
  config.http_port = role == ServiceRole::kWorker ? 9100 : 8080;
  ConfigReader reader(environment);

  reader.integer("TXGUARD_HTTP_PORT", config.http_port, 1, 65535, "TCP port");
  reader.text("TXGUARD_LOG_LEVEL", config.log_level);
  reader.oneOf("TXGUARD_LOG_LEVEL", config.log_level, {"trace", "debug", "info", "warn", "error"});

  if (role != ServiceRole::kObjectTool) {
    reader.text("TXGUARD_AMQP_URL", config.amqp_url);
    reader.urlScheme("TXGUARD_AMQP_URL", config.amqp_url, {"amqp"});
    reader.secret("TXGUARD_AMQP_PASSWORD", config.amqp_password, false);
  }

  if (role != ServiceRole::kReplay) {
    reader.text("TXGUARD_REDIS_URL", config.redis_url);
    reader.urlScheme("TXGUARD_REDIS_URL", config.redis_url, {"redis"});
    reader.secret("TXGUARD_REDIS_PASSWORD", config.redis_password, false);

    reader.text("TXGUARD_S3_ENDPOINT", config.s3_endpoint);
    reader.urlScheme("TXGUARD_S3_ENDPOINT", config.s3_endpoint, {"http", "https"});
    config.s3_public_endpoint = config.s3_endpoint;
    reader.text("TXGUARD_S3_PUBLIC_ENDPOINT", config.s3_public_endpoint);
    reader.urlScheme("TXGUARD_S3_PUBLIC_ENDPOINT", config.s3_public_endpoint, {"http", "https"});
    reader.text("TXGUARD_S3_REGION", config.s3_region);
    reader.secret("TXGUARD_S3_ACCESS_KEY_ID", config.s3_access_key_id, true);
    reader.secret("TXGUARD_S3_SECRET_ACCESS_KEY", config.s3_secret_access_key, true);
    reader.text("TXGUARD_S3_BUCKET_REPORTS", config.bucket_reports);
    reader.text("TXGUARD_S3_BUCKET_ARCHIVE", config.bucket_archive);
    reader.text("TXGUARD_S3_BUCKET_MODELS", config.bucket_models);

    reader.text("TXGUARD_MODEL_NAME", config.model_name);
    reader.text("TXGUARD_RULES_FILE", config.rules_file);
    reader.secret("TXGUARD_PAN_HASH_KEY", config.pan_hash_key, role != ServiceRole::kObjectTool);
    reader.require(config.pan_hash_key.empty() || config.pan_hash_key.size() >= 16,
                   "TXGUARD_PAN_HASH_KEY: too short; use at least 16 random characters");
    reader.seconds("TXGUARD_DECISION_TTL_SECONDS", config.decision_ttl, 60, 31'536'000);
    reader.integer("TXGUARD_ACCOUNT_CACHE", config.account_cache, 0, 1'000'000, "accounts");
    reader.text("TXGUARD_REPORTS_FROM", config.reports_from);
    reader.oneOf("TXGUARD_REPORTS_FROM", config.reports_from, {"review", "block"});
  }

  reader.integer("TXGUARD_WORKER_PREFETCH", config.worker_prefetch, 1, 65535, "messages");
  reader.integer("TXGUARD_WORKER_BATCH", config.worker_batch, 1, 65535, "transactions");
  reader.integer("TXGUARD_WORKER_MAX_DELIVERIES", config.worker_max_deliveries, 1, 100,
                 "deliveries");
  reader.integer("TXGUARD_WORKER_LINGER_MS", config.worker_linger_ms, 0, 1000, "milliseconds");
  reader.integer("TXGUARD_UPLOAD_CONCURRENCY", config.upload_concurrency, 1, 64, "uploads");
  reader.require(config.worker_batch <= config.worker_prefetch,
                 fmt::format("TXGUARD_WORKER_BATCH ({}) is larger than TXGUARD_WORKER_PREFETCH "
                             "({}); a batch can never fill, lower the batch or raise the prefetch",
                             config.worker_batch, config.worker_prefetch));
  reader.seconds("TXGUARD_SHUTDOWN_GRACE_SECONDS", config.shutdown_grace, 1, 3600);
  reader.integer("TXGUARD_MAX_BODY_BYTES", config.max_body_bytes, 1024, 64 << 20, "bytes");

  reader.throwIfProblems();
  return config;
}

std::vector<std::pair<std::string, std::string>> describeConfig(const ServiceConfig& config) {
  auto secret = [](const std::string& value) { return value.empty() ? "(empty)" : "(set)"; };
  return {
      {"http_port", std::to_string(config.http_port)},
      {"log_level", config.log_level},
      {"redis_url", config.redis_url},
      {"redis_password", secret(config.redis_password)},
      {"amqp_url", config.amqp_url},
      {"amqp_password", secret(config.amqp_password)},
      {"s3_endpoint", config.s3_endpoint},
      {"s3_public_endpoint", config.s3_public_endpoint},
      {"s3_region", config.s3_region},
      {"s3_access_key_id", secret(config.s3_access_key_id)},
      {"s3_secret_access_key", secret(config.s3_secret_access_key)},
      {"buckets", config.bucket_reports + "," + config.bucket_archive + "," + config.bucket_models},
      {"model_name", config.model_name},
      {"rules_file", config.rules_file},
      {"pan_hash_key", secret(config.pan_hash_key)},
      {"worker_prefetch", std::to_string(config.worker_prefetch)},
      {"worker_linger_ms", std::to_string(config.worker_linger_ms)},
      {"upload_concurrency", std::to_string(config.upload_concurrency)},
      {"account_cache", std::to_string(config.account_cache)},
      {"reports_from", config.reports_from},
      {"worker_batch", std::to_string(config.worker_batch)},
      {"worker_max_deliveries", std::to_string(config.worker_max_deliveries)},
      {"decision_ttl_seconds", std::to_string(config.decision_ttl.count())},
      {"shutdown_grace_seconds", std::to_string(config.shutdown_grace.count())},
  };
}

}  // namespace txguard
