// Factories of the concrete readers, used by openReader() and
// parseJsonDocument(). Internal to the ingest module.
#pragma once

#include <memory>

#include "ingest/input_source.h"
#include "ingest/reader.h"

namespace txguard {

// Each takes the input positioned after any UTF-8 byte order mark and
// throws IngestError when the header or mapping does not fit the format.
std::unique_ptr<TransactionReader> makePaysimReader(std::unique_ptr<ChunkedInput> input,
                                                    const ReaderOptions& options, RejectSink& sink);
std::unique_ptr<TransactionReader> makeSparkovReader(std::unique_ptr<ChunkedInput> input,
                                                     const ReaderOptions& options,
                                                     RejectSink& sink);
std::unique_ptr<TransactionReader> makeMappedCsvReader(std::unique_ptr<ChunkedInput> input,
                                                       const ReaderOptions& options,
                                                       RejectSink& sink);
// `format` is kAcmeJson or kCanonicalJsonl. The input is a JSON array or
// JSON Lines, distinguished by its first non-blank byte. With
// `allow_multiline_object`, an input containing one object spread over several
// lines is read as that object (request bodies); files are always JSON
// Lines or an array.
std::unique_ptr<TransactionReader> makeJsonReader(std::unique_ptr<ChunkedInput> input,
                                                  InputFormat format, const ReaderOptions& options,
                                                  RejectSink& sink, bool allow_multiline_object);

}  // namespace txguard
