// Moves the Redis outbox (archive lines and fraud reports committed with
// their decisions) to object storage. One worker at a time holds the lease
// and uploads; the others stand by. When S3 is down the entries wait in
// Redis, and uploads resume where they stopped.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "cache/decision_store.h"
#include "store/object_store.h"
#include "telemetry/metrics.h"

namespace txguard {

struct OutboxOptions {
  std::string holder;                // lease holder id, unique per process
  // Archive lines per object: whole commits are added until the object
  // has this many lines or more.
  std::size_t archive_batch = 5000;
  // Minimum time between two archive objects of fewer than archive_batch
  // lines, so that light traffic does not make a tiny object per pass.
  std::chrono::milliseconds archive_interval{2000};
  std::size_t report_batch = 200;    // reports per pass
  // Report PUTs in flight at once. Each report is its own object, and one
  // PUT at a time caps the uploads at one per round trip to S3.
  std::size_t upload_concurrency = 8;
  std::chrono::milliseconds lease{15000};
};

class OutboxUploader {
 public:
  OutboxUploader(DecisionStore& store, ObjectStore& reports, ObjectStore& archive, Metrics& metrics,
                 OutboxOptions options);

  // One pass: if this process holds the lease, uploads up to one batch of
  // reports and one archive object. Returns the reports and archive lines
  // moved. Throws
  // ObjectStoreError or RedisError; nothing leaves the outbox before its
  // object is written, so a failure only delays.
  std::size_t runOnce() { return runReportsOnce() + runArchiveOnce(); }

  // The two halves of runOnce, each under its own lease (kReportsLease,
  // kArchiveLease). The worker runs them on two threads, each with its own
  // uploader and Redis connection, so that a large archive object does not
  // hold up the reports. A separate lease per thread keeps one thread from
  // renewing a lease that the other lost during a pass. With `flush`, a
  // partial archive object is written without waiting for
  // archive_interval (at shutdown).
  std::size_t runReportsOnce();
  std::size_t runArchiveOnce(bool flush = false);

  // Lease names: the keys are txg:lease:outbox and txg:lease:archive.
  static constexpr std::string_view kReportsLease = "outbox";
  static constexpr std::string_view kArchiveLease = "archive";

  // Entries waiting in both outbox lists.
  std::uint64_t backlog();

 private:
  // Writes the reports ("<key>\n<body>" entries), up to
  // options_.upload_concurrency at once. Throws the first failure after
  // every started PUT has ended.
  void putReports(const std::vector<std::string>& entries);

  DecisionStore& store_;
  ObjectStore& reports_;
  ObjectStore& archive_;
  Metrics& metrics_;
  OutboxOptions options_;
  std::chrono::steady_clock::time_point last_archive_{};
};

// Object key of an archive chunk: archive/YYYY/MM/DD/HH/<hex>.jsonl.gz,
// dated by `written_at_ms` and named by a digest of the chunk's content, so
// the same chunk written again after a crash replaces itself instead of
// adding a copy.
std::string archiveChunkKey(std::int64_t written_at_ms, std::string_view content);

}  // namespace txguard
