#include "embedded/embedded_files.h"

#include <cstddef>
#include <string_view>

namespace txguard::embedded {
struct File {
  const char* path;
  const char* begin;
  const char* end;
};
extern const File kFiles[];
extern const std::size_t kFileCount;
}  // namespace txguard::embedded

namespace txguard {

std::optional<std::string_view> embeddedFile(std::string_view path) {
  for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
    const embedded::File& file = embedded::kFiles[i];
    if (path == file.path) {
      return std::string_view(file.begin, static_cast<std::size_t>(file.end - file.begin));
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> embeddedModelNames() {
  std::vector<std::string_view> names;
  constexpr std::string_view kSuffix = "/model.json";
  for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
    std::string_view path = embedded::kFiles[i].path;
    if (path.starts_with("models/") && path.ends_with(kSuffix)) {
      names.push_back(path.substr(7, path.size() - 7 - kSuffix.size()));
    }
  }
  return names;
}

}  // namespace txguard
