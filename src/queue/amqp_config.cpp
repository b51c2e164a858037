#include "queue/amqp_config.h"

#include <charconv>
#include <limits>
#include <string>

#include "queue/errors.h"

namespace txguard {
namespace {

constexpr std::string_view kScheme = "amqp://";
constexpr std::string_view kMask = "****";

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[noreturn]] void raise(std::string_view url, const std::string& problem) {
  throw AmqpConfigError("invalid AMQP URL '" + maskAmqpUrl(url) + "': " + problem +
                        "; expected amqp://user@host:port/vhost");
}

std::string percentDecode(std::string_view text, std::string_view what, std::string_view url) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? hexDigit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hexDigit(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      raise(url, "bad percent-encoding in the " + std::string(what));
    }
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

long parseNumber(std::string_view text, std::string_view what, long min, long max,
                 std::string_view url) {
  long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end || value < min || value > max) {
    raise(url, std::string(what) + " '" + std::string(text) + "' is not an integer in [" +
                   std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return value;
}

void applyQuery(std::string_view query, AmqpConfig& config, std::string_view url) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }

    std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (key == "heartbeat") {
      config.heartbeat = std::chrono::seconds(parseNumber(value, "heartbeat", 0, 65535, url));
    } else if (key == "connection_timeout") {
      config.connect_timeout = std::chrono::milliseconds(
          parseNumber(value, "connection_timeout", 1, std::numeric_limits<int>::max(), url));
    } else if (key == "channel_max") {
      config.channel_max = static_cast<int>(parseNumber(value, "channel_max", 1, 65535, url));
    } else {
      raise(url, "unknown query parameter '" + std::string(key) +
                     "'; supported: heartbeat, connection_timeout, channel_max");
    }
  }
}

}  // namespace

std::string AmqpConfig::displayUrl() const {
  std::string text(kScheme);
  text += user;
  if (!password.empty()) {
    text += ':';
    text += kMask;
  }
  text += '@';
  text += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  text += ':' + std::to_string(port) + '/';
  for (char c : vhost) {
    if (c == '/' || c == '%' || c == '?' || c == '#' || c == '@') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      text += '%';
      text += kHex[static_cast<unsigned char>(c) >> 4];
      text += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      text += c;
    }
  }
  return text;
}

std::string maskAmqpUrl(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;

  // The last '@' ends the user information, so a password holding
  // unencoded '@', '/' or '?' characters is still masked whole. A vhost
  // with an unencoded '@' is masked too much, which is the safe side.
  std::size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < start) {
    return std::string(url);
  }
  std::size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) {
    return std::string(url);
  }

  std::string masked(url.substr(0, colon + 1));
  masked += kMask;
  masked += url.substr(at);
  return masked;
}

AmqpConfig parseAmqpUrl(std::string_view url, std::string_view password) {
  AmqpConfig config;

  if (url.starts_with("amqps://")) {
    raise(url, "TLS (amqps) is not supported by this build; use amqp:// inside the cluster");
  }
  if (!url.starts_with(kScheme)) {
    raise(url, "the scheme must be amqp://");
  }
  std::string_view rest = url.substr(kScheme.size());

  // Split off the user information first, at the last '@', so that a
  // password with unencoded '/' or '?' does not end the host part early.
  std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user_info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::size_t colon = user_info.find(':');
    config.user = percentDecode(user_info.substr(0, colon), "user", url);
    if (colon != std::string_view::npos) {
      config.password = percentDecode(user_info.substr(colon + 1), "password", url);
    }
    if (config.user.empty()) {
      raise(url, "the user name is empty");
    }
  }
  if (!password.empty()) {
    config.password = std::string(password);
  }

  std::size_t query_start = rest.find('?');
  if (query_start != std::string_view::npos) {
    applyQuery(rest.substr(query_start + 1), config, url);
    rest = rest.substr(0, query_start);
  }

  std::size_t path_start = rest.find('/');
  std::string_view host_port = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    std::string_view path = rest.substr(path_start + 1);
    if (path.find('/') != std::string_view::npos) {
      raise(url, "the vhost contains '/'; percent-encode it, e.g. %2F for the vhost \"/\"");
    }
    config.vhost = percentDecode(path, "vhost", url);
    if (config.vhost.empty()) {
      raise(url, "the vhost is empty; write %2F for the default vhost \"/\" or omit the path");
    }
  }

  std::string_view port_text;
  if (host_port.starts_with('[')) {
    std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      raise(url, "an IPv6 host needs a closing ']'");
    }
    config.host = std::string(host_port.substr(1, close - 1));
    std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        raise(url, "unexpected text after the IPv6 host");
      }
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = host_port.find(':');
    config.host = std::string(host_port.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = host_port.substr(colon + 1);
    }
  }
  if (config.host.empty()) {
    raise(url, "the host is empty");
  }
  if (!port_text.empty()) {
    config.port = static_cast<int>(parseNumber(port_text, "port", 1, 65535, url));
  }

  return config;
}

}  // namespace txguard
