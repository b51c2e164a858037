#include "store/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace txguard::s3http {
namespace {

void initializeCurlOnce() {
  // curl_global_init is not thread-safe in every libcurl build. A function
  // static runs it once, and every HandlePool calls this before it creates
  // a handle.
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) {
    throw TransportError(std::string("curl_global_init failed: ") + curl_easy_strerror(result),
                         false);
  }
}

std::size_t appendBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t collectHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    // The status line of each response starts a new header set, so headers
    // of an interim 100 Continue do not leak into the final response.
    if (line.rfind("HTTP/", 0) == 0) {
      headers->clear();
    }
    return size * count;
  }

  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' ||
                            value.back() == '\t')) {
    value.remove_suffix(1);
  }
  (*headers)[name] = std::string(value);
  return size * count;
}

bool isRetryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) {
      throw TransportError("out of memory building HTTP headers", false);
    }
    list = next;
  }
};

}  // namespace

HandlePool::HandlePool(std::size_t max_idle) : max_idle_(max_idle) { initializeCurlOnce(); }

HandlePool::~HandlePool() {
  for (void* handle : idle_) {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

void* HandlePool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) {
    throw TransportError("curl_easy_init failed", false);
  }
  return handle;
}

void HandlePool::release(void* handle) {
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

Response HandlePool::perform(const Request& request, const Timeouts& timeouts) {
  CURL* curl = static_cast<CURL*>(acquire());
  // The handle goes back to the pool on every path; reset() below clears
  // options but keeps its connection cache, which is the point of pooling.
  struct Releaser {
    HandlePool* pool;
    CURL* curl;
    ~Releaser() { pool->release(curl); }
  } releaser{this, curl};
  curl_easy_reset(curl);

  Response response;
  HeaderList headers;
  for (const auto& [name, value] : request.headers) {
    headers.add(name + ": " + value);
  }
  // Without these, libcurl adds "Expect: 100-continue" to large uploads and
  // a form Content-Type to bodies, neither of which S3 needs.
  headers.add("Expect:");
  bool has_content_type =
      std::any_of(request.headers.begin(), request.headers.end(), [](const auto& header) {
        std::string name = header.first;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return name == "content-type";
      });
  if (!has_content_type) {
    headers.add("Content-Type:");
  }

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  // Signals are not thread-safe; without this, DNS timeouts use SIGALRM.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts.connect.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts.total.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS sends the body as is (no copy) for any method set below.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    // A null POSTFIELDS pointer would make libcurl read the body from stdin.
    const char* body = request.body.empty() ? "" : request.body.data();
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    throw TransportError(std::string(curl_easy_strerror(code)) + " (curl error " +
                             std::to_string(static_cast<int>(code)) + ")",
                         isRetryable(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace txguard::s3http
