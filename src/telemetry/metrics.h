// The service's Prometheus metrics. Names are fixed: the alert rules and
// the Grafana dashboard in deploy/helm/txguard/files/ query them.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "decision/decision.h"

namespace txguard {

// Seconds from `start` until now, for the stage and duration metrics.
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class Metrics {
 public:
  Metrics();

  // Prometheus text exposition format 0.0.4 of every metric.
  std::string render() const;

  prometheus::Counter& ingested(std::string_view source);
  prometheus::Counter& decided(Action action);
  prometheus::Counter& duplicates() { return *duplicates_; }
  prometheus::Counter& httpRequests(std::string_view route, std::string_view method, int code);
  prometheus::Histogram& httpDuration(std::string_view route);
  prometheus::Histogram& scoreDuration() { return *score_duration_; }
  prometheus::Histogram& ingestToDecision() { return *ingest_to_decision_; }
  prometheus::Histogram& batchSize() { return *batch_size_; }
  prometheus::Gauge& queueLag() { return *queue_lag_; }
  prometheus::Counter& retries(std::string_view dependency);
  prometheus::Counter& errors(std::string_view component);
  prometheus::Counter& deadLettered(std::string_view reason);
  prometheus::Gauge& archivePendingBytes() { return *archive_pending_bytes_; }
  prometheus::Counter& reportsWritten() { return *reports_written_; }
  prometheus::Counter& alertsPublished() { return *alerts_published_; }
  prometheus::Counter& commitConflicts() { return *commit_conflicts_; }
  prometheus::Gauge& alertsPending() { return *alerts_pending_; }
  // Seconds spent in each stage of deciding: "redis_read", "score" and
  // "redis_commit" (worker batches and /v1/score), and the worker's
  // "receive", "alerts" and "ack". Shows where the time goes when
  // throughput is lower than expected.
  prometheus::Counter& stageSeconds(std::string_view stage);

  // Sets txguard_model_info{model_version, rules_version} to 1 and removes
  // the previous pair, so that a hot swap shows as one series changing.
  void setModelInfo(const std::string& model_version, const std::string& rules_version);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* ingested_;
  prometheus::Family<prometheus::Counter>* decided_;
  prometheus::Counter* duplicates_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Histogram* score_duration_;
  prometheus::Histogram* ingest_to_decision_;
  prometheus::Histogram* batch_size_;
  prometheus::Gauge* queue_lag_;
  prometheus::Family<prometheus::Counter>* retries_;
  prometheus::Family<prometheus::Counter>* errors_;
  prometheus::Family<prometheus::Counter>* dead_lettered_;
  prometheus::Family<prometheus::Gauge>* model_info_;
  std::mutex model_info_mutex_;
  prometheus::Gauge* current_model_info_ = nullptr;
  prometheus::Gauge* archive_pending_bytes_;
  prometheus::Counter* reports_written_;
  prometheus::Counter* alerts_published_;
  prometheus::Counter* commit_conflicts_;
  prometheus::Gauge* alerts_pending_;
  prometheus::Family<prometheus::Counter>* stage_seconds_;
};

}  // namespace txguard
