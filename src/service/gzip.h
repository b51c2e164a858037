// gzip (RFC 1952) compression of archive objects.
#pragma once

#include <string>
#include <string_view>

namespace txguard {

std::string gzipCompress(std::string_view data);

// Throws std::runtime_error on data that is not valid gzip.
std::string gzipDecompress(std::string_view data);

}  // namespace txguard
