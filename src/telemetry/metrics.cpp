#include "telemetry/metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace txguard {
namespace {

// Latency buckets in seconds, from 100 µs (an in-memory score) to 10 s (a
// message that waited in the queue during a peak).
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0};

const prometheus::Histogram::BucketBoundaries kBatchBuckets = {1,   2,   4,    8,    16,  32,
                                                               64,  128, 256,  512,  1024, 2048};

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;

  ingested_ = &BuildCounter()
                   .Name("txguard_transactions_ingested_total")
                   .Help("Transactions accepted for scoring, by source")
                   .Register(*registry_);
  decided_ = &BuildCounter()
                  .Name("txguard_transactions_decided_total")
                  .Help("Decisions made, by action")
                  .Register(*registry_);
  duplicates_ = &BuildCounter()
                     .Name("txguard_decisions_duplicate_total")
                     .Help("Redelivered transactions answered from their existing decision")
                     .Register(*registry_)
                     .Add({});
  http_requests_ = &BuildCounter()
                        .Name("txguard_http_requests_total")
                        .Help("HTTP requests by route, method and status code")
                        .Register(*registry_);
  http_duration_ = &BuildHistogram()
                        .Name("txguard_http_request_duration_seconds")
                        .Help("HTTP request duration by route, seconds")
                        .Register(*registry_);
  score_duration_ = &BuildHistogram()
                         .Name("txguard_score_duration_seconds")
                         .Help("Time to score one transaction synchronously, seconds")
                         .Register(*registry_)
                         .Add({}, kLatencyBuckets);
  ingest_to_decision_ = &BuildHistogram()
                             .Name("txguard_ingest_to_decision_seconds")
                             .Help("Time from acceptance by the API to the stored decision, seconds")
                             .Register(*registry_)
                             .Add({}, kLatencyBuckets);
  batch_size_ = &BuildHistogram()
                     .Name("txguard_worker_batch_size")
                     .Help("Transactions per worker batch")
                     .Register(*registry_)
                     .Add({}, kBatchBuckets);
  queue_lag_ = &BuildGauge()
                    .Name("txguard_queue_lag_messages")
                    .Help("Messages ready in the transactions queue, as the worker last saw it")
                    .Register(*registry_)
                    .Add({});
  retries_ = &BuildCounter()
                  .Name("txguard_retries_total")
                  .Help("Retries of a failed call to a dependency")
                  .Register(*registry_);
  errors_ = &BuildCounter()
                 .Name("txguard_errors_total")
                 .Help("Errors handled, by component")
                 .Register(*registry_);
  dead_lettered_ = &BuildCounter()
                        .Name("txguard_dead_lettered_total")
                        .Help("Messages sent to the dead-letter queue, by reason")
                        .Register(*registry_);
  model_info_ = &BuildGauge()
                     .Name("txguard_model_info")
                     .Help("1 for the model and rules versions in use")
                     .Register(*registry_);
  archive_pending_bytes_ = &BuildGauge()
                                .Name("txguard_archive_pending_bytes")
                                .Help("Bytes of archive lines and fraud reports waiting in the Redis outbox for object storage")
                                .Register(*registry_)
                                .Add({});
  reports_written_ = &BuildCounter()
                          .Name("txguard_reports_written_total")
                          .Help("Fraud reports written to object storage")
                          .Register(*registry_)
                          .Add({});
  alerts_published_ = &BuildCounter()
                           .Name("txguard_alerts_published_total")
                           .Help("Alerts published to the alerts exchange and confirmed")
                           .Register(*registry_)
                           .Add({});
  commit_conflicts_ = &BuildCounter()
                          .Name("txguard_commit_conflicts_total")
                          .Help("Accounts scored again because they changed before the commit")
                          .Register(*registry_)
                          .Add({});
  alerts_pending_ = &BuildGauge()
                         .Name("txguard_alerts_pending")
                         .Help("Alerts committed but not yet published to RabbitMQ")
                         .Register(*registry_)
                         .Add({});
  stage_seconds_ = &BuildCounter()
                               .Name("txguard_stage_seconds_total")
                               .Help("Seconds spent in each stage of deciding transactions")
                               .Register(*registry_);
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

prometheus::Counter& Metrics::ingested(std::string_view source) {
  return ingested_->Add({{"source", std::string(source)}});
}

prometheus::Counter& Metrics::decided(Action action) {
  return decided_->Add({{"action", std::string(actionName(action))}});
}

prometheus::Counter& Metrics::httpRequests(std::string_view route, std::string_view method,
                                           int code) {
  return http_requests_->Add({{"route", std::string(route)},
                              {"method", std::string(method)},
                              {"code", std::to_string(code)}});
}

prometheus::Histogram& Metrics::httpDuration(std::string_view route) {
  return http_duration_->Add({{"route", std::string(route)}}, kLatencyBuckets);
}

prometheus::Counter& Metrics::stageSeconds(std::string_view stage) {
  return stage_seconds_->Add({{"stage", std::string(stage)}});
}

prometheus::Counter& Metrics::retries(std::string_view dependency) {
  return retries_->Add({{"dependency", std::string(dependency)}});
}

prometheus::Counter& Metrics::errors(std::string_view component) {
  return errors_->Add({{"component", std::string(component)}});
}

prometheus::Counter& Metrics::deadLettered(std::string_view reason) {
  return dead_lettered_->Add({{"reason", std::string(reason)}});
}

void Metrics::setModelInfo(const std::string& model_version, const std::string& rules_version) {
  std::lock_guard lock(model_info_mutex_);
  if (current_model_info_ != nullptr) model_info_->Remove(current_model_info_);
  current_model_info_ =
      &model_info_->Add({{"model_version", model_version}, {"rules_version", rules_version}});
  current_model_info_->Set(1);
}

}  // namespace txguard
