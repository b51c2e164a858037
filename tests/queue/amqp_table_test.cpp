#include "queue/amqp_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "queue/message.h"

namespace txguard {
namespace {

// Encodes `headers` to AMQP wire format and decodes it again, as a broker
// round trip would.
Headers roundTrip(const Headers& headers, char* kind_of_first = nullptr) {
  EncodedTable encoded(headers);
  std::vector<char> buffer(4096);
  amqp_bytes_t bytes{buffer.size(), buffer.data()};
  size_t offset = 0;
  amqp_table_t table = encoded.table();
  EXPECT_EQ(amqp_encode_table(bytes, &table, &offset), AMQP_STATUS_OK);

  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  amqp_bytes_t wire{offset, buffer.data()};
  size_t read_offset = 0;
  amqp_table_t decoded{};
  EXPECT_EQ(amqp_decode_table(wire, &pool, &decoded, &read_offset), AMQP_STATUS_OK);
  if (kind_of_first != nullptr && decoded.num_entries > 0) {
    *kind_of_first = static_cast<char>(decoded.entries[0].value.kind);
  }
  Headers result = decodeTable(decoded);
  empty_amqp_pool(&pool);
  return result;
}

TEST(AmqpTable, RoundTripsEveryHeaderKind) {
  Headers headers{{"flag", true},
                  {"count", std::int64_t{-42}},
                  {"score", 0.25},
                  {"reason", std::string("model timeout")}};
  EXPECT_EQ(roundTrip(headers), headers);
}

TEST(AmqpTable, EncodesIntegersAsSignedLong) {
  char kind = 0;
  roundTrip({{"x-delivery-limit", std::int64_t{20}}}, &kind);
  EXPECT_EQ(kind, 'l');
}

TEST(DeliveryAttempt, UsesDeliveryCountHeader) {
  Delivery delivery;
  EXPECT_EQ(delivery.deliveryAttempt(), 1);
  delivery.redelivered = true;
  EXPECT_EQ(delivery.deliveryAttempt(), 2);
  delivery.headers["x-delivery-count"] = std::int64_t{3};
  EXPECT_EQ(delivery.deliveryCount(), 3);
  EXPECT_EQ(delivery.deliveryAttempt(), 4);
}

}  // namespace
}  // namespace txguard
