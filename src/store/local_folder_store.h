// ObjectStore backed by a folder on the local file system, for the batch CLI,
// demos and tests that need no S3 server.
#pragma once

#include <filesystem>

#include "store/object_store.h"

namespace txguard {

// Keys map to files under the root folder: "reports/2024/tx-1.txt" is
// <root>/reports/2024/tx-1.txt. Writes go to a temporary file in the target
// folder and are renamed into place, so a reader sees either the old or the
// new object, never a partial one.
//
// Safe to use from several threads and processes for distinct keys; two
// concurrent writers of one key leave one of the two bodies.
class LocalFolderStore final : public ObjectStore {
 public:
  // Creates `root` when it does not exist. Throws ObjectStoreError when it
  // cannot be created or is not a folder.
  // `sync_writes` fsyncs each object before it replaces the old one. The
  // batch CLI turns it off: its reports are re-made by running it again, and
  // an fsync per report made a 25,000-row run twenty times slower.
  explicit LocalFolderStore(std::filesystem::path root, bool sync_writes = true);

  void put(const std::string& key, std::string_view body, const std::string& content_type) override;
  std::optional<std::string> get(const std::string& key) override;
  bool exists(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;

  // Returns "file://" followed by the absolute path; `expiry` is ignored
  // because a file link does not expire.
  std::string downloadLink(const std::string& key, std::chrono::seconds expiry) override;

  // Deletes the object; returns false when there was none.
  bool remove(const std::string& key);

  const std::filesystem::path& root() const { return root_; }

  // Returns the path of the file that stores `key`. Throws ObjectStoreError for an empty
  // key, an absolute key, a key with an empty, "." or ".." segment, or a key
  // with a NUL or backslash.
  std::filesystem::path pathForKey(const std::string& key) const;

 private:
  std::filesystem::path root_;
  bool sync_writes_ = true;
};

}  // namespace txguard
