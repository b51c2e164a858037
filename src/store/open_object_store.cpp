#include "store/open_object_store.h"

#include "store/local_folder_store.h"

namespace txguard {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// `plus_is_space` applies to query strings only; in a path '+' is literal.
std::string percentDecode(std::string_view text, const std::string& location, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (text[i] == '%') {
      bool complete = i + 2 < text.size();
      int high = complete ? hexValue(text[i + 1]) : -1;
      int low = complete ? hexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        throw ObjectStoreError("invalid percent-encoding in object store location '" + location +
                               "'");
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::unique_ptr<ObjectStore> openS3(const std::string& location, S3StoreOptions options) {
  std::string_view rest = std::string_view(location).substr(5);  // after "s3://"
  std::string_view query;
  std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  if (rest.find('/') != std::string_view::npos) {
    throw ObjectStoreError("invalid object store location '" + location +
                           "': key prefixes are not supported; use s3://BUCKET");
  }
  options.bucket = std::string(rest);

  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    std::size_t equals = pair.find('=');
    std::string name = percentDecode(pair.substr(0, equals), location, true);
    std::string value = equals == std::string_view::npos
                            ? ""
                            : percentDecode(pair.substr(equals + 1), location, true);
    if (name == "endpoint") {
      options.endpoint = value;
    } else if (name == "public_endpoint") {
      options.public_endpoint = value;
    } else if (name == "region") {
      options.region = value;
    } else {
      throw ObjectStoreError("unknown parameter '" + name + "' in object store location '" +
                             location + "': use endpoint, public_endpoint or region");
    }
  }
  return std::make_unique<S3Store>(std::move(options));
}

}  // namespace

std::unique_ptr<ObjectStore> openObjectStore(const std::string& location,
                                             const S3StoreOptions& s3_defaults) {
  if (location.empty()) {
    throw ObjectStoreError(
        "empty object store location: use s3://BUCKET, file:///PATH or a folder path");
  }
  if (location.rfind("s3://", 0) == 0) {
    return openS3(location, s3_defaults);
  }
  if (location.rfind("file://", 0) == 0) {
    std::string path = percentDecode(std::string_view(location).substr(7), location, false);
    if (path.empty() || path.front() != '/') {
      throw ObjectStoreError("invalid object store location '" + location +
                             "': a file:// URL needs an absolute path, as in file:///var/txguard");
    }
    return std::make_unique<LocalFolderStore>(path);
  }
  if (location.find("://") != std::string::npos) {
    throw ObjectStoreError("unsupported object store location '" + location +
                           "': use s3://BUCKET, file:///PATH or a folder path");
  }
  return std::make_unique<LocalFolderStore>(location);
}

}  // namespace txguard
