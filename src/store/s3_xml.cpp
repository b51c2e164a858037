#include "store/s3_xml.h"

#include <charconv>

namespace txguard::s3xml {
namespace {

void appendUtf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

std::uint32_t parseCharacterReference(std::string_view entity) {
  // `entity` is the part between '&#' and ';'.
  int base = 10;
  if (!entity.empty() && (entity.front() == 'x' || entity.front() == 'X')) {
    base = 16;
    entity.remove_prefix(1);
  }
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(entity.data(), entity.data() + entity.size(), value, base);
  if (entity.empty() || error != std::errc() || end != entity.data() + entity.size() ||
      value > 0x10FFFF) {
    throw ObjectStoreError("invalid XML character reference '&#" + std::string(entity) +
                           ";' in an S3 response");
  }
  return value;
}

// Finds the next opening tag `<name>` or `<name ...>` or `<name/>` at or after
// `from`. Returns the position of '<' or npos.
std::size_t findOpenTag(std::string_view xml, std::string_view name, std::size_t from) {
  while (true) {
    std::size_t at = xml.find('<', from);
    if (at == std::string_view::npos || at + 1 + name.size() > xml.size()) {
      return std::string_view::npos;
    }
    if (xml.compare(at + 1, name.size(), name) == 0) {
      char next = at + 1 + name.size() < xml.size() ? xml[at + 1 + name.size()] : '\0';
      if (next == '>' || next == '/' || next == ' ' || next == '\t' || next == '\n' ||
          next == '\r') {
        return at;
      }
    }
    from = at + 1;
  }
}

}  // namespace

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    std::size_t end = text.find(';', i);
    if (end == std::string_view::npos) {
      throw ObjectStoreError("unterminated XML entity in an S3 response near '" +
                             std::string(text.substr(i, 16)) + "'");
    }
    std::string_view entity = text.substr(i + 1, end - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (!entity.empty() && entity.front() == '#') {
      appendUtf8(out, parseCharacterReference(entity.substr(1)));
    } else {
      throw ObjectStoreError("unknown XML entity '&" + std::string(entity) +
                             ";' in an S3 response");
    }
    i = end + 1;
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string_view> elements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found;
  const std::string close = "</" + std::string(name) + ">";
  std::size_t from = 0;
  while (true) {
    std::size_t open = findOpenTag(xml, name, from);
    if (open == std::string_view::npos) {
      return found;
    }
    std::size_t open_end = xml.find('>', open);
    if (open_end == std::string_view::npos) {
      throw ObjectStoreError("truncated XML in an S3 response: <" + std::string(name) +
                             "> is not closed");
    }
    if (xml[open_end - 1] == '/') {
      found.emplace_back();
      from = open_end + 1;
      continue;
    }
    std::size_t close_at = xml.find(close, open_end + 1);
    if (close_at == std::string_view::npos) {
      throw ObjectStoreError("truncated XML in an S3 response: missing " + close);
    }
    found.push_back(xml.substr(open_end + 1, close_at - open_end - 1));
    from = close_at + close.size();
  }
}

std::optional<std::string> elementText(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found = elements(xml, name);
  if (found.empty()) {
    return std::nullopt;
  }
  return unescape(found.front());
}

bool hasRoot(std::string_view xml, std::string_view name) {
  std::size_t at = 0;
  // Skip the declaration and any processing instructions before the root.
  while (true) {
    at = xml.find('<', at);
    if (at == std::string_view::npos) {
      return false;
    }
    if (xml.compare(at, 2, "<?") == 0) {
      at = xml.find("?>", at);
      if (at == std::string_view::npos) {
        return false;
      }
      continue;
    }
    return findOpenTag(xml, name, at) == at;
  }
}

ListPage parseListObjectsV2(std::string_view xml) {
  ListPage page;
  for (std::string_view contents : elements(xml, "Contents")) {
    std::optional<std::string> key = elementText(contents, "Key");
    if (!key) {
      throw ObjectStoreError("invalid ListObjectsV2 response: a <Contents> entry has no <Key>");
    }
    std::string size_text = elementText(contents, "Size").value_or("0");
    std::uint64_t size = 0;
    auto [end, error] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (error != std::errc() || end != size_text.data() + size_text.size()) {
      throw ObjectStoreError("invalid ListObjectsV2 response: <Size> '" + size_text + "' of key '" +
                             *key + "' is not a number");
    }
    page.objects.push_back(ObjectInfo{std::move(*key), size});
  }
  page.truncated = elementText(xml, "IsTruncated").value_or("false") == "true";
  page.next_continuation_token = elementText(xml, "NextContinuationToken").value_or("");
  return page;
}

ErrorBody parseError(std::string_view xml) {
  ErrorBody error;
  if (!hasRoot(xml, "Error")) {
    return error;
  }
  try {
    error.code = elementText(xml, "Code").value_or("");
    error.message = elementText(xml, "Message").value_or("");
  } catch (const ObjectStoreError&) {
    // A garbled error body must not hide the HTTP status it came with.
    error.message = "(unreadable error body)";
  }
  return error;
}

}  // namespace txguard::s3xml
