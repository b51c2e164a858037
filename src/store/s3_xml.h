// Just enough XML for S3 responses: ListObjectsV2 pages, error bodies and
// multipart upload replies. S3 sends flat child elements without attributes,
// so a tag scanner with entity decoding reads them correctly. It is not a
// general XML parser: CDATA, comments and prefixed child elements are not
// handled.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/object_store.h"

namespace txguard::s3xml {

// Decodes the five predefined entities and numeric character references
// (&#38; &#x26;) to UTF-8. Throws ObjectStoreError on an unknown or
// unterminated entity.
std::string unescape(std::string_view text);

// Escapes &, <, >, " and ' for element content.
std::string escape(std::string_view text);

// Returns the decoded text of the first <name>...</name> element in `xml`, or
// nullopt when there is none. <name/> yields an empty string.
std::optional<std::string> elementText(std::string_view xml, std::string_view name);

// Returns the raw inner XML of every <name>...</name> element, in order.
std::vector<std::string_view> elements(std::string_view xml, std::string_view name);

// True when the document's root element is <name>, after any XML declaration.
bool hasRoot(std::string_view xml, std::string_view name);

struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;
};

// Parses a ListBucketResult of ListObjectsV2. Throws ObjectStoreError when a
// <Contents> entry has no <Key> or a <Size> that is not a number.
ListPage parseListObjectsV2(std::string_view xml);

struct ErrorBody {
  std::string code;  // e.g. "NoSuchBucket"; empty when the body is not an S3 error
  std::string message;
};

ErrorBody parseError(std::string_view xml);

}  // namespace txguard::s3xml
