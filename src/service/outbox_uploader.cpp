#include "service/outbox_uploader.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <openssl/sha.h>

#include <fmt/format.h>

#include "decision/text_format.h"
#include "service/gzip.h"
#include "telemetry/log.h"

namespace txguard {
namespace {

// Archive entries read per Redis call: a few at first, because an entry
// can contain a whole worker batch, then more, because /v1/score commits
// one line per entry.
constexpr std::size_t kFirstArchivePeek = 4;
constexpr std::size_t kLargestArchivePeek = 64;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Logs that a pass outlasted the upload lease and returns 0 (nothing
// moved). The objects written are written again by the new holder, under
// the same keys.
std::size_t leaseLost(std::size_t entries) {
  log::warn("outbox lease lost during a pass; another worker uploads from here",
            {{"entries", std::to_string(entries)}});
  return 0;
}

}  // namespace

std::string archiveChunkKey(std::int64_t written_at_ms, std::string_view content) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest);
  std::string hex;
  for (int i = 0; i < 8; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  const std::string date = formatRfc3339(written_at_ms);
  return fmt::format("archive/{}/{}/{}/{}/{}.jsonl.gz", date.substr(0, 4), date.substr(5, 2),
                     date.substr(8, 2), date.substr(11, 2), hex);
}

OutboxUploader::OutboxUploader(DecisionStore& store, ObjectStore& reports, ObjectStore& archive,
                               Metrics& metrics, OutboxOptions options)
    : store_(store),
      reports_(reports),
      archive_(archive),
      metrics_(metrics),
      options_(std::move(options)) {}

std::uint64_t OutboxUploader::backlog() {
  return store_.outboxLength(DecisionStore::kArchiveOutbox) +
         store_.outboxLength(DecisionStore::kReportsOutbox);
}

void OutboxUploader::putReports(const std::vector<std::string>& entries) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const auto upload = [&] {
    for (std::size_t i = next++; i < entries.size() && !failed; i = next++) {
      const std::string& entry = entries[i];
      const auto newline = entry.find('\n');
      if (newline == std::string::npos) {
        // The commit script writes "<key>\n<body>", so only a foreign
        // writer makes this. The entry is dropped with the pass, so log it.
        log::limited(log::Level::kError, "malformed report entry dropped from the outbox",
                     {{"entry_start", entry.substr(0, 64)}});
        metrics_.errors("outbox").Increment();
        continue;
      }
      try {
        reports_.put(entry.substr(0, newline), std::string_view(entry).substr(newline + 1),
                     "text/plain; charset=utf-8");
        metrics_.reportsWritten().Increment();
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  const std::size_t helpers =
      std::min(std::max<std::size_t>(options_.upload_concurrency, 1), entries.size());
  std::vector<std::jthread> threads;
  for (std::size_t t = 1; t < helpers; ++t) threads.emplace_back(upload);
  upload();
  threads.clear();  // joins
  if (first_error) std::rethrow_exception(first_error);
}

std::size_t OutboxUploader::runReportsOnce() {
  if (!store_.tryLeadership(kReportsLease, options_.holder, options_.lease)) return 0;
  const auto reports = store_.peekOutbox(DecisionStore::kReportsOutbox, options_.report_batch);
  if (reports.empty()) return 0;
  putReports(reports);
  if (!store_.dropOutboxAsHolder(DecisionStore::kReportsOutbox, reports.size(), kReportsLease,
                                 options_.holder)) {
    return leaseLost(reports.size());
  }
  return reports.size();
}

std::size_t OutboxUploader::runArchiveOnce(bool flush) {
  if (!store_.tryLeadership(kArchiveLease, options_.holder, options_.lease)) return 0;
  // Each archive entry contains the lines of one commit (a worker batch). Take
  // whole entries, oldest first, until the object has archive_batch lines
  // or more, reading a few entries at a time to bound memory.
  std::string content;
  std::size_t lines = 0;
  std::size_t entries_used = 0;
  for (std::size_t peek = kFirstArchivePeek; lines < options_.archive_batch;
       peek = std::min(peek * 2, kLargestArchivePeek)) {
    const auto entries = store_.peekOutbox(DecisionStore::kArchiveOutbox, peek, entries_used);
    for (const std::string& entry : entries) {
      if (lines >= options_.archive_batch) break;
      content += entry;
      content.push_back('\n');
      lines += 1 + static_cast<std::size_t>(std::count(entry.begin(), entry.end(), '\n'));
      ++entries_used;
    }
    if (entries.size() < peek) break;
  }
  if (entries_used == 0) return 0;
  const auto now = std::chrono::steady_clock::now();
  if (!flush && lines < options_.archive_batch && now - last_archive_ < options_.archive_interval) {
    return 0;
  }
  archive_.put(archiveChunkKey(nowMs(), content), gzipCompress(content), "application/gzip");
  last_archive_ = now;
  if (!store_.dropOutboxAsHolder(DecisionStore::kArchiveOutbox, entries_used, kArchiveLease,
                                 options_.holder)) {
    return leaseLost(lines);
  }
  return lines;
}

}  // namespace txguard
