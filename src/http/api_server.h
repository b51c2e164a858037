// The HTTP server of `txguard api` (the /v1 routes plus health and
// metrics) and of `txguard worker` (health and metrics only).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cache/account_cache.h"
#include "cache/redis_client.h"
#include "config/service_config.h"
#include "http/pool.h"
#include "queue/publisher.h"
#include "service/scoring_setup.h"
#include "store/s3_store.h"
#include "telemetry/metrics.h"

namespace httplib {
class Server;
}

namespace txguard {

struct ApiContext {
  const ServiceConfig& config;
  Metrics& metrics;
  const ScoringSetupSource& setups;
  Pool<RedisClient>& redis;
  Pool<Publisher>* publishers = nullptr;  // null on the worker
  S3Store* reports = nullptr;             // reports bucket; null when S3 is not used
  // Extra readiness check of the process, e.g. the worker's consumer
  // connection; returns an empty string when ready, else the problem.
  std::function<std::string()> extra_readiness;
  // Account states /v1/score committed last, shared by the request
  // threads, so a repeat customer costs one Redis round trip instead of
  // two. Null: always read.
  AccountCache* account_cache = nullptr;
};

class ApiServer {
 public:
  // `with_api` registers the /v1 routes; without it only /healthz, /readyz
  // and /metrics exist.
  ApiServer(ApiContext context, bool with_api);
  ~ApiServer();

  // Binds to 0.0.0.0:`port` (0 picks a free port) and serves on a
  // background thread. Throws std::runtime_error when the port is taken.
  void start(int port, int threads);
  // Stops accepting, finishes in-flight requests, joins the thread.
  void stop();
  int port() const { return port_; }

  // Pending connections the kernel queues before accept().
  static constexpr int kListenBacklog = 1024;

 private:
  void registerRoutes(bool with_api);

  ApiContext context_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int listening_socket_ = -1;  // set by the socket-options hook during bind
};

}  // namespace txguard
