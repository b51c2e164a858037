// Builders for the transactions the features tests feed in.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "transaction/transaction.h"

namespace txguard::testing {

inline Transaction makeTransaction(std::int64_t timestamp_ms, double amount,
                                   std::string counterparty = "", std::string location = "") {
  Transaction transaction;
  transaction.id = "tx-" + std::to_string(timestamp_ms);
  transaction.account = "C100";
  transaction.timestamp_ms = timestamp_ms;
  transaction.amount = amount;
  transaction.counterparty = std::move(counterparty);
  transaction.location = std::move(location);
  return transaction;
}

}  // namespace txguard::testing
