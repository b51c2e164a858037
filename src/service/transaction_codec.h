// The body of a transaction message on the queue: the canonical
// Transaction as one JSON object, after the API has turned any card number
// into its keyed hash and masked form, plus the time the API accepted it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "transaction/transaction.h"

namespace txguard {

class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void appendTransactionMessage(std::string& out, const Transaction& transaction,
                              std::int64_t ingested_at_ms);

// Appends the transaction in txguard's canonical JSON format (one object,
// no newline), as the API accepts it. The account is the stored account
// key: a card number was already replaced by its keyed hash.
void appendCanonicalJson(std::string& out, const Transaction& transaction);

// Parses a message body. Throws MessageError naming the field: such a
// message can never succeed, so the worker dead-letters it at once.
void parseTransactionMessage(std::string_view body, Transaction& transaction,
                             std::int64_t& ingested_at_ms);

}  // namespace txguard
