// Conversion between Headers and rabbitmq-c field tables. Internal to the
// queue module: only .cpp files include rabbitmq-c.
#pragma once

#include <amqp.h>

#include <vector>

#include "queue/message.h"

namespace txguard {

// A rabbitmq-c table view of `headers`. It points into `headers`, which
// must outlive it and stay unchanged while table() is in use.
class EncodedTable {
 public:
  explicit EncodedTable(const Headers& headers);

  EncodedTable(const EncodedTable&) = delete;
  EncodedTable& operator=(const EncodedTable&) = delete;

  amqp_table_t table();

 private:
  std::vector<amqp_table_entry_t> entries_;
};

// Copies a received table; kinds HeaderValue cannot hold are skipped.
Headers decodeTable(const amqp_table_t& table);

inline std::string toString(amqp_bytes_t bytes) {
  return bytes.len == 0 ? std::string()
                        : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

inline amqp_bytes_t toBytes(std::string_view text) {
  amqp_bytes_t bytes;
  bytes.len = text.size();
  bytes.bytes = const_cast<char*>(text.data());
  return bytes;
}

}  // namespace txguard
