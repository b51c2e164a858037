#include "http/api_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "cache/decision_store.h"
#include "http/request_validation.h"
#include "queue/errors.h"
#include "queue/topology.h"
#include "service/decision_service.h"
#include "service/transaction_codec.h"
#include "telemetry/log.h"

namespace txguard {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void sendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

// `rejects` lists the problems of single items of a request body, as
// {"line"|"item", "field"?, "reason"} objects.
void sendError(httplib::Response& response, int status, const std::string& message,
               nlohmann::json rejects = nullptr) {
  nlohmann::json body = {{"error", message}};
  if (!rejects.is_null()) body["rejects"] = std::move(rejects);
  sendJson(response, status, body);
}

// Parses a whole non-negative decimal number; std::stoul would take "-1"
// (as its two's complement) and "12abc" (as 12).
std::optional<std::size_t> parseCount(const std::string& text) {
  std::size_t value = 0;
  const char* end = text.data() + text.size();
  const auto [next, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || next != end) return std::nullopt;
  return value;
}

// The route template a path belongs to, for metric labels: ids must not
// become label values (unbounded cardinality).
std::string routeOf(const std::string& path) {
  if (path.starts_with("/v1/transactions/")) return "/v1/transactions/{id}";
  if (path.starts_with("/v1/reports/")) return "/v1/reports/{id}";
  for (const char* route :
       {"/v1/transactions", "/v1/score", "/v1/alerts", "/healthz", "/readyz", "/metrics"}) {
    if (path == route) return route;
  }
  return "other";
}

bool isJsonContentType(const httplib::Request& request) {
  const std::string type = request.get_header_value("Content-Type");
  return type.starts_with("application/json") || type.starts_with("application/x-ndjson") ||
         type.starts_with("application/jsonl");
}

thread_local Clock::time_point request_start;

// Parses and validates a request body into transactions. On failure writes
// the 4xx response and returns false.
bool parseBody(const ApiContext& context, const httplib::Request& request,
               httplib::Response& response, std::vector<Transaction>& transactions) {
  if (!isJsonContentType(request)) {
    sendError(response, 415,
              fmt::format("unsupported Content-Type '{}'; send application/json or "
                          "application/x-ndjson",
                          request.get_header_value("Content-Type")));
    return false;
  }
  ReaderOptions options;
  options.pan_hash_key = context.config.pan_hash_key;
  ParsedDocument document;
  try {
    document = parseJsonDocument(request.body, options);
  } catch (const IngestError& error) {
    sendError(response, 400, error.what());
    return false;
  }
  nlohmann::json rejects = nlohmann::json::array();
  for (const RejectedRow& row : document.rejects) {
    rejects.push_back({{"line", row.line}, {"reason", row.reason}});
  }
  for (const RequestProblem& problem : findUnknownFields(request.body, document.format)) {
    rejects.push_back(
        {{"item", problem.item}, {"field", problem.field}, {"reason", problem.reason}});
  }
  for (const RequestProblem& problem : checkTransactions(document.transactions, nowMs())) {
    rejects.push_back(
        {{"item", problem.item}, {"field", problem.field}, {"reason", problem.reason}});
  }
  if (!rejects.empty()) {
    sendError(response, 400,
              fmt::format("{} problem{} in the request; nothing was accepted", rejects.size(),
                          rejects.size() == 1 ? "" : "s"),
              rejects);
    return false;
  }
  if (document.transactions.empty()) {
    sendError(response, 400,
              "the request contains no transaction; send one object, an array or JSON Lines");
    return false;
  }
  transactions = std::move(document.transactions);
  return true;
}

void handleIngest(ApiContext& context, const httplib::Request& request,
                  httplib::Response& response) {
  std::vector<Transaction> transactions;
  if (!parseBody(context, request, response, transactions)) return;

  const std::int64_t now = nowMs();
  auto publisher = context.publishers->acquire();
  std::vector<OutgoingMessage> messages;
  messages.reserve(transactions.size());
  nlohmann::json ids = nlohmann::json::array();
  for (const Transaction& transaction : transactions) {
    std::string body;
    appendTransactionMessage(body, transaction, now);
    messages.push_back(transactionMessage(publisher->topology(), transaction.id, std::move(body)));
    ids.push_back(transaction.id);
  }

  try {
    PublishResult result;
    try {
      result = publisher->publishBatch(messages);
    } catch (const ConnectionLost& error) {
      // A pooled connection that sat idle can have been closed by the
      // broker (rabbitmq-c sends heartbeats only while it is called), so
      // one retry on a new connection is expected, not an outage. The ids
      // make the repeat safe.
      log::limited(log::Level::kInfo, "publisher connection lost; retrying on a new one",
                   {{"error", error.what()}});
      context.metrics.retries("rabbitmq").Increment();
      publisher.renew();
      result = publisher->publishBatch(messages);
    }
    if (!result.allConfirmed()) {
      response.set_header("Retry-After", "1");
      sendError(response, 503,
                fmt::format("the broker confirmed {} of {} transactions; send the request again "
                            "(transaction ids make it safe to repeat)",
                            result.confirmedCount(), messages.size()));
      return;
    }
  } catch (const BrokerBusy& error) {
    context.metrics.errors("api").Increment();
    response.set_header("Retry-After", "1");
    sendError(
        response, 429,
        fmt::format("the broker is applying back-pressure ({}); retry after 1 s", error.what()));
    return;
  } catch (const QueueError& error) {
    publisher.discard();
    context.metrics.errors("api").Increment();
    log::limited(log::Level::kError, "publish failed", {{"error", error.what()}});
    response.set_header("Retry-After", "1");
    sendError(response, 503, fmt::format("the broker is unavailable: {}", error.what()));
    return;
  }
  context.metrics.ingested("api").Increment(static_cast<double>(transactions.size()));
  sendJson(response, 202, {{"accepted", transactions.size()}, {"transaction_ids", ids}});
}

void handleScore(ApiContext& context, const httplib::Request& request,
                 httplib::Response& response) {
  const Clock::time_point start = Clock::now();
  std::vector<Transaction> transactions;
  if (!parseBody(context, request, response, transactions)) return;
  if (transactions.size() != 1) {
    sendError(response, 400,
              fmt::format("/v1/score takes one transaction, this request has {}; send batches to "
                          "/v1/transactions",
                          transactions.size()));
    return;
  }

  auto redis = context.redis.acquire();
  DecisionStore store(*redis, context.config.decision_ttl);
  DecisionService service(store, context.setups, context.metrics, context.account_cache,
                          reportsFromAction(context.config.reports_from));
  std::vector<ScoredTransaction> scored;
  try {
    service.score(transactions, {}, scored);
  } catch (const RedisError& error) {
    redis.discard();
    context.metrics.errors("api").Increment();
    log::limited(log::Level::kError, "score failed: redis unavailable", {{"error", error.what()}});
    sendError(response, 503, "the account state store is unavailable; retry later");
    return;
  } catch (const ConflictError& error) {
    sendError(response, 503, fmt::format("{}; retry the request", error.what()));
    return;
  }
  context.metrics.scoreDuration().Observe(
      std::chrono::duration<double>(Clock::now() - start).count());

  std::string body = scored.front().decision_json;
  if (scored.front().duplicate) {
    body.pop_back();
    body += ",\"duplicate\":true}";
  }
  response.status = 200;
  response.set_content(body, "application/json");
}

void handleGetDecision(ApiContext& context, const std::string& id, httplib::Response& response) {
  auto redis = context.redis.acquire();
  DecisionStore store(*redis, context.config.decision_ttl);
  try {
    if (auto decision = store.decision(id)) {
      response.status = 200;
      response.set_content(*decision, "application/json");
    } else {
      sendError(
          response, 404,
          fmt::format("no decision for transaction '{}' yet; it may still be in the queue", id));
    }
  } catch (const RedisError& error) {
    redis.discard();
    sendError(response, 503, "the decision store is unavailable; retry later");
  }
}

void handleAlerts(ApiContext& context, const httplib::Request& request,
                  httplib::Response& response) {
  std::size_t limit = 50;
  std::size_t offset = 0;
  for (auto [name, value] : {std::pair{"limit", &limit}, std::pair{"offset", &offset}}) {
    if (!request.has_param(name)) continue;
    const std::string text = request.get_param_value(name);
    const std::optional<std::size_t> parsed = parseCount(text);
    if (!parsed) {
      sendError(response, 400,
                fmt::format("{} '{}' is not a whole number; use 0 or more", name, text));
      return;
    }
    *value = *parsed;
  }
  if (limit < 1 || limit > 500) {
    sendError(response, 400, fmt::format("limit {} is out of range; use 1 to 500", limit));
    return;
  }
  auto redis = context.redis.acquire();
  DecisionStore store(*redis, context.config.decision_ttl);
  try {
    nlohmann::json alerts = nlohmann::json::array();
    for (const std::string& alert : store.recentAlerts(offset, limit)) {
      alerts.push_back(nlohmann::json::parse(alert, nullptr, false));
    }
    const std::size_t next = offset + alerts.size();
    sendJson(response, 200,
             {{"alerts", alerts},
              {"next_offset", alerts.size() == limit ? nlohmann::json(next) : nullptr}});
  } catch (const RedisError&) {
    redis.discard();
    sendError(response, 503, "the alert store is unavailable; retry later");
  }
}

// The reason a decided transaction has no report. A reviewed one got none
// because TXGUARD_REPORTS_FROM was block when it was decided.
std::string noReportMessage(std::string_view id, Action action) {
  switch (action) {
    case Action::kAllow:
      return fmt::format("transaction '{}' has no fraud report: it was allowed", id);
    case Action::kReview:
      return fmt::format("transaction '{}' has no fraud report: it was reviewed while "
                         "TXGUARD_REPORTS_FROM=block, which writes reports for blocked "
                         "transactions only",
                         id);
    case Action::kBlock:
      break;
  }
  return fmt::format("transaction '{}' has no fraud report: it was blocked, but its stored "
                     "decision has no report key; the stored decision may be damaged",
                     id);
}

void handleReport(ApiContext& context, const std::string& id, httplib::Response& response) {
  if (context.reports == nullptr) {
    sendError(response, 503, "object storage is not configured");
    return;
  }
  std::optional<std::string> decision;
  {
    auto redis = context.redis.acquire();
    DecisionStore store(*redis, context.config.decision_ttl);
    try {
      decision = store.decision(id);
    } catch (const RedisError&) {
      redis.discard();
      sendError(response, 503, "the decision store is unavailable; retry later");
      return;
    }
  }
  if (!decision) {
    sendError(response, 404, fmt::format("no decision for transaction '{}'", id));
    return;
  }
  const nlohmann::json parsed = nlohmann::json::parse(*decision, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("report_key")) {
    sendError(response, 404, noReportMessage(id, actionOfDecisionJson(*decision)));
    return;
  }
  const std::string key = parsed["report_key"];
  constexpr std::chrono::seconds kLinkLifetime{3600};
  try {
    if (!context.reports->exists(key)) {
      sendJson(response, 202,
               {{"transaction_id", id},
                {"report_key", key},
                {"status", "pending: the report is waiting in the outbox for upload"}});
      return;
    }
    sendJson(response, 200,
             {{"transaction_id", id},
              {"report_key", key},
              {"url", context.reports->downloadLink(key, kLinkLifetime)},
              {"expires_in_seconds", kLinkLifetime.count()}});
  } catch (const ObjectStoreError& error) {
    context.metrics.errors("api").Increment();
    sendError(response, 503, fmt::format("object storage is unavailable: {}", error.what()));
  }
}

// Readiness is cached briefly so that frequent probes do not hammer the
// dependencies.
class ReadinessCache {
 public:
  nlohmann::json check(ApiContext& context) {
    std::lock_guard lock(mutex_);
    if (Clock::now() - checked_at_ < std::chrono::seconds(2) && !last_.is_null()) return last_;
    nlohmann::json problems = nlohmann::json::object();
    {
      auto redis = context.redis.acquire();
      if (!redis->ping()) {
        problems["redis"] = "PING failed";
        redis.discard();
      }
    }
    if (context.publishers != nullptr) {
      auto publisher = context.publishers->acquire();
      try {
        if (!publisher->connected()) publisher->connect();
      } catch (const std::exception& error) {
        problems["rabbitmq"] = error.what();
        publisher.discard();
      }
    }
    if (context.reports != nullptr) {
      try {
        context.reports->exists("readyz-probe");
      } catch (const std::exception& error) {
        problems["s3"] = error.what();
      }
    }
    const auto setup = context.setups.current();
    if (!setup->model && context.config.model_name != "none") problems["model"] = "not loaded";
    if (context.extra_readiness) {
      if (std::string problem = context.extra_readiness(); !problem.empty()) {
        problems["process"] = problem;
      }
    }
    last_ = {{"ready", problems.empty()},
             {"problems", problems},
             {"model_version", setup->model ? setup->model->metadata().version : ""},
             {"rules_version", setup->rules.version()}};
    checked_at_ = Clock::now();
    return last_;
  }

 private:
  std::mutex mutex_;
  Clock::time_point checked_at_{};
  nlohmann::json last_;
};

}  // namespace

ApiServer::ApiServer(ApiContext context, bool with_api)
    : context_(std::move(context)), server_(std::make_unique<httplib::Server>()) {
  registerRoutes(with_api);
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::registerRoutes(bool with_api) {
  httplib::Server& server = *server_;
  server.set_payload_max_length(context_.config.max_body_bytes);
  // cpp-httplib writes a response's headers and body in separate writes. With
  // Nagle's algorithm on, the body waits for the client's delayed ACK (40 ms
  // on Linux) on every keep-alive request.
  server.set_tcp_nodelay(true);
  // cpp-httplib closes a keep-alive connection after 5 requests by default,
  // so at 2,000 requests/s clients reconnect 400 times a second into a
  // listen backlog of 5. 1,000 still moves clients between replicas behind
  // a load balancer now and then.
  server.set_keep_alive_max_count(1000);
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([this](const httplib::Request& request, const httplib::Response& response) {
    const std::string route = routeOf(request.path);
    context_.metrics.httpRequests(route, request.method, response.status).Increment();
    context_.metrics.httpDuration(route).Observe(
        std::chrono::duration<double>(Clock::now() - request_start).count());
  });
  server.set_exception_handler([this](const httplib::Request& request, httplib::Response& response,
                                      std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      what = exception.what();
    } catch (...) {
    }
    context_.metrics.errors("api").Increment();
    log::limited(log::Level::kError, "request failed",
                 {{"path", routeOf(request.path)}, {"error", what}});
    sendError(response, 500, "internal error; the request can be repeated safely");
  });
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!response.body.empty()) return;
    if (response.status == 413) {
      sendError(response, 413,
                "request body too large; split the batch or raise "
                "TXGUARD_MAX_BODY_BYTES");
    } else if (response.status == 404) {
      sendError(response, 404, fmt::format("no route {} {}", request.method, request.path));
    } else {
      sendError(response, response.status, "request failed");
    }
  });

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    sendJson(response, 200, {{"status", "alive"}});
  });
  auto readiness = std::make_shared<ReadinessCache>();
  server.Get("/readyz", [this, readiness](const httplib::Request&, httplib::Response& response) {
    const nlohmann::json state = readiness->check(context_);
    sendJson(response, state["ready"].get<bool>() ? 200 : 503, state);
  });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(context_.metrics.render(), "text/plain; version=0.0.4");
  });
  if (!with_api) return;

  server.Post("/v1/transactions",
              [this](const httplib::Request& request, httplib::Response& response) {
                handleIngest(context_, request, response);
              });
  server.Post("/v1/score", [this](const httplib::Request& request, httplib::Response& response) {
    handleScore(context_, request, response);
  });
  server.Get(R"(/v1/transactions/([^/]+))",
             [this](const httplib::Request& request, httplib::Response& response) {
               handleGetDecision(context_, request.matches[1], response);
             });
  server.Get("/v1/alerts", [this](const httplib::Request& request, httplib::Response& response) {
    handleAlerts(context_, request, response);
  });
  server.Get(R"(/v1/reports/([^/]+))",
             [this](const httplib::Request& request, httplib::Response& response) {
               handleReport(context_, request.matches[1], response);
             });
}

void ApiServer::start(int port, int threads) {
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib's default also sets SO_REUSEPORT, which let a second
  // process bind the same port and share its connections unnoticed.
  server_->set_socket_options([this](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listening_socket_ = socket;
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port("0.0.0.0");
  } else {
    port_ = server_->bind_to_port("0.0.0.0", port) ? port : -1;
  }
  if (port_ <= 0) {
    throw std::runtime_error(
        fmt::format("cannot listen on port {}: in use or not permitted; set "
                    "TXGUARD_HTTP_PORT to a free port",
                    port));
  }
  // Debian's compiled cpp-httplib 0.11 listens with a backlog of 5, and a
  // burst of new connections then loses SYNs, which clients resend after
  // 1 s. A second listen() raises the backlog (Linux caps it at somaxconn).
  if (listening_socket_ >= 0 && ::listen(listening_socket_, kListenBacklog) != 0) {
    log::warn("could not raise the listen backlog; bursts of new connections may be dropped",
              {{"error", std::strerror(errno)}, {"backlog", std::to_string(kListenBacklog)}});
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void ApiServer::stop() {
  if (server_ && server_->is_running()) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace txguard
