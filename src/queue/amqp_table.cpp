#include "queue/amqp_table.h"

#include <type_traits>

namespace txguard {

EncodedTable::EncodedTable(const Headers& headers) {
  entries_.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    amqp_table_entry_t entry{};
    entry.key = toBytes(name);
    std::visit(
        [&entry](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
            entry.value.value.boolean = v ? 1 : 0;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            // 'l' (signed 64-bit) is the kind RabbitMQ uses for integers
            // loaded from JSON definitions, so declared arguments compare
            // equal to those.
            entry.value.kind = AMQP_FIELD_KIND_I64;
            entry.value.value.i64 = v;
          } else if constexpr (std::is_same_v<T, double>) {
            entry.value.kind = AMQP_FIELD_KIND_F64;
            entry.value.value.f64 = v;
          } else {
            entry.value.kind = AMQP_FIELD_KIND_UTF8;
            entry.value.value.bytes = toBytes(v);
          }
        },
        value);
    entries_.push_back(entry);
  }
}

amqp_table_t EncodedTable::table() {
  amqp_table_t table;
  table.num_entries = static_cast<int>(entries_.size());
  table.entries = entries_.empty() ? nullptr : entries_.data();
  return table;
}

Headers decodeTable(const amqp_table_t& table) {
  Headers headers;
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    std::string name = toString(entry.key);
    const amqp_field_value_t& value = entry.value;
    switch (value.kind) {
      case AMQP_FIELD_KIND_BOOLEAN:
        headers.emplace(std::move(name), value.value.boolean != 0);
        break;
      case AMQP_FIELD_KIND_I8:
        headers.emplace(std::move(name), std::int64_t{value.value.i8});
        break;
      case AMQP_FIELD_KIND_U8:
        headers.emplace(std::move(name), std::int64_t{value.value.u8});
        break;
      case AMQP_FIELD_KIND_I16:
        headers.emplace(std::move(name), std::int64_t{value.value.i16});
        break;
      case AMQP_FIELD_KIND_U16:
        headers.emplace(std::move(name), std::int64_t{value.value.u16});
        break;
      case AMQP_FIELD_KIND_I32:
        headers.emplace(std::move(name), std::int64_t{value.value.i32});
        break;
      case AMQP_FIELD_KIND_U32:
        headers.emplace(std::move(name), std::int64_t{value.value.u32});
        break;
      case AMQP_FIELD_KIND_I64:
        headers.emplace(std::move(name), value.value.i64);
        break;
      case AMQP_FIELD_KIND_U64:
      case AMQP_FIELD_KIND_TIMESTAMP:
        headers.emplace(std::move(name), static_cast<std::int64_t>(value.value.u64));
        break;
      case AMQP_FIELD_KIND_F32:
        headers.emplace(std::move(name), double{value.value.f32});
        break;
      case AMQP_FIELD_KIND_F64:
        headers.emplace(std::move(name), value.value.f64);
        break;
      case AMQP_FIELD_KIND_UTF8:
      case AMQP_FIELD_KIND_BYTES:
        headers.emplace(std::move(name), toString(value.value.bytes));
        break;
      default:
        break;
    }
  }
  return headers;
}

}  // namespace txguard
