// Chooses an ObjectStore backend from one string, as given on a command line
// or in configuration.
#pragma once

#include <memory>
#include <string>

#include "store/object_store.h"
#include "store/s3_store.h"

namespace txguard {

// Opens the store that `location` names:
//
//   s3://BUCKET[?endpoint=URL&public_endpoint=URL&region=NAME]
//       S3Store on BUCKET. Endpoint, credentials, timeouts and retries come
//       from `s3_defaults`; the query parameters (percent-encoded) override
//       the three named ones. A path after the bucket is rejected.
//   file:///ABSOLUTE/PATH, or any string without "://"
//       LocalFolderStore rooted at that folder, created when missing.
//
// Throws ObjectStoreError for an unknown scheme, a malformed s3:// URL or
// invalid options. Opening makes no network request.
std::unique_ptr<ObjectStore> openObjectStore(const std::string& location,
                                             const S3StoreOptions& s3_defaults = {});

}  // namespace txguard
