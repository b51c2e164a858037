#include "store/local_folder_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "store/sigv4.h"

namespace txguard {
namespace fs = std::filesystem;

namespace {

// Temporary files carry this marker so list() can skip writes in progress.
constexpr std::string_view kTempMarker = ".txguard-tmp-";

std::string errnoText(int error) { return std::generic_category().message(error); }

void validateKey(const std::string& key) {
  auto reject = [&key](const std::string& reason) {
    throw ObjectStoreError("invalid object key '" + key + "': " + reason +
                           "; use relative '/'-separated names such as reports/2024/tx-1.txt");
  };
  if (key.empty()) {
    reject("the key is empty");
  }
  if (key.front() == '/') {
    reject("absolute keys are not allowed");
  }
  if (key.find('\0') != std::string::npos || key.find('\\') != std::string::npos) {
    reject("NUL and backslash are not allowed");
  }

  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string::npos) {
      end = key.size();
    }
    std::string_view segment(key.data() + start, end - start);
    if (segment.empty()) {
      reject("empty path segments ('//' or a trailing '/') are not allowed");
    }
    if (segment == "." || segment == "..") {
      reject("'.' and '..' segments are not allowed");
    }
    if (segment.find(kTempMarker) != std::string_view::npos) {
      reject("the name part '" + std::string(kTempMarker) + "' is reserved for temporary files");
    }
    start = end + 1;
  }
}

// Writes all of `body` to `fd`, retrying short writes and EINTR.
void writeAll(int fd, std::string_view body, const fs::path& path) {
  const char* data = body.data();
  std::size_t remaining = body.size();
  while (remaining > 0) {
    ssize_t written = ::write(fd, data, remaining);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw ObjectStoreError("write to '" + path.string() + "' failed: " + errnoText(errno));
    }
    data += written;
    remaining -= static_cast<std::size_t>(written);
  }
}

}  // namespace

LocalFolderStore::LocalFolderStore(fs::path root, bool sync_writes) : sync_writes_(sync_writes) {
  std::error_code error;
  fs::create_directories(root, error);
  if (error) {
    throw ObjectStoreError("cannot create object store folder '" + root.string() +
                           "': " + error.message());
  }
  if (!fs::is_directory(root)) {
    throw ObjectStoreError("object store root '" + root.string() +
                           "' is not a folder; pass a folder path");
  }
  root_ = fs::absolute(root).lexically_normal();
}

fs::path LocalFolderStore::pathForKey(const std::string& key) const {
  validateKey(key);
  return root_ / fs::path(key);
}

void LocalFolderStore::put(const std::string& key, std::string_view body,
                           const std::string& /*content_type*/) {
  fs::path target = pathForKey(key);
  std::error_code error;
  fs::create_directories(target.parent_path(), error);
  if (error) {
    throw ObjectStoreError("put '" + key + "': cannot create folder '" +
                           target.parent_path().string() + "': " + error.message());
  }

  // The temporary file sits in the target's folder so rename() stays on one
  // file system and is atomic. The counter and PID keep concurrent writers
  // of one key from sharing a temporary file.
  static std::atomic<std::uint64_t> counter{0};
  fs::path temp = target.parent_path() /
                  (target.filename().string() + std::string(kTempMarker) +
                   std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));

  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw ObjectStoreError("put '" + key + "': cannot create '" + temp.string() +
                           "': " + errnoText(errno));
  }
  try {
    writeAll(fd, body, temp);
    // fsync before rename so a crash cannot leave an empty file in place of
    // the old object.
    if (sync_writes_ && ::fsync(fd) != 0) {
      throw ObjectStoreError("put '" + key + "': fsync of '" + temp.string() +
                             "' failed: " + errnoText(errno));
    }
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);

  if (::rename(temp.c_str(), target.c_str()) != 0) {
    int rename_error = errno;
    ::unlink(temp.c_str());
    throw ObjectStoreError("put '" + key + "': rename to '" + target.string() +
                           "' failed: " + errnoText(rename_error));
  }
}

std::optional<std::string> LocalFolderStore::get(const std::string& key) {
  fs::path path = pathForKey(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) {
      return std::nullopt;
    }
    throw ObjectStoreError("get '" + key + "': cannot open '" + path.string() +
                           "': " + errnoText(errno));
  }
  if (fs::is_directory(path)) {
    return std::nullopt;
  }
  std::ostringstream body;
  body << in.rdbuf();
  if (in.bad()) {
    throw ObjectStoreError("get '" + key + "': read of '" + path.string() + "' failed");
  }
  return std::move(body).str();
}

bool LocalFolderStore::exists(const std::string& key) {
  return fs::is_regular_file(pathForKey(key));
}

std::vector<ObjectInfo> LocalFolderStore::list(const std::string& prefix) {
  std::vector<ObjectInfo> objects;
  std::error_code error;
  auto iterator = fs::recursive_directory_iterator(root_, error);
  if (error) {
    throw ObjectStoreError("list '" + prefix + "': cannot read '" + root_.string() +
                           "': " + error.message());
  }

  for (const auto& entry : iterator) {
    if (!entry.is_regular_file()) {
      continue;
    }
    std::string key = entry.path().lexically_relative(root_).generic_string();
    if (key.find(kTempMarker) != std::string::npos) {
      continue;
    }
    if (key.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    objects.push_back(ObjectInfo{key, static_cast<std::uint64_t>(entry.file_size())});
  }

  // Directory order is arbitrary; S3 lists in byte order of the key, and so
  // does this store.
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return objects;
}

std::string LocalFolderStore::downloadLink(const std::string& key,
                                           std::chrono::seconds /*expiry*/) {
  // Percent-encoded so keys with spaces, '#' or '?' still form a valid URL.
  return "file://" + sigv4::uriEncode(pathForKey(key).string(), /*encode_slash=*/false);
}

bool LocalFolderStore::remove(const std::string& key) {
  std::error_code error;
  bool removed = fs::remove(pathForKey(key), error);
  if (error) {
    throw ObjectStoreError("remove '" + key + "': " + error.message());
  }
  return removed;
}

}  // namespace txguard
