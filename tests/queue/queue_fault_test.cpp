// Broker faults: restarts (the consumer and publisher reconnect, persistent
// messages on the quorum queue survive) and a memory alarm that blocks
// publishers. These tests disturb the shared RabbitMQ, so CTest runs them
// alone (RUN_SERIAL).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker_fixture.h"
#include "queue/consumer.h"
#include "queue/errors.h"
#include "queue/publisher.h"

namespace txguard {
namespace {

using std::chrono::milliseconds;
using testing::BrokerTest;

std::vector<OutgoingMessage> makeTransactions(const QueueTopology& topology, int first, int count) {
  std::vector<OutgoingMessage> messages;
  for (int i = first; i < first + count; ++i) {
    std::string id = "tx-" + std::to_string(i);
    messages.push_back(transactionMessage(topology, id, R"({"id":")" + id + R"("})"));
  }
  return messages;
}

// Publishes until confirmed, for up to `timeout`, reconnecting as needed.
void publishWithRetry(Publisher& publisher, const std::vector<OutgoingMessage>& messages,
                      milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (publisher.publishBatch(messages).allConfirmed()) {
        return;
      }
      last_error = "not all confirmed";
    } catch (const ConnectionLost& error) {
      last_error = error.what();
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  FAIL() << "publishing did not succeed within " << timeout.count() << " ms: " << last_error;
}

class QueueFaultTest : public BrokerTest {};

TEST_F(QueueFaultTest, ConsumerRecoversAfterBrokerRestart) {
  constexpr int kCount = 200;
  Publisher publisher(config_, topology_);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 0, kCount)).allConfirmed());

  ConsumerOptions options;
  options.prefetch = 20;
  Consumer consumer(config_, topology_, options);
  int retries = 0;
  consumer.setRetryCallback([&](const std::string&, int, milliseconds) { ++retries; });

  std::set<std::string> seen;
  std::vector<Delivery> acked = consumer.receiveBatch(20, milliseconds(5000));
  ASSERT_FALSE(acked.empty());
  ASSERT_TRUE(consumer.ack(acked.back(), /*multiple=*/true));
  for (const Delivery& delivery : acked) seen.insert(delivery.message_id);

  // Held unacked across the restart: the broker must deliver these again.
  std::vector<Delivery> unacked = consumer.receiveBatch(20, milliseconds(5000));
  ASSERT_FALSE(unacked.empty());
  std::uint64_t generation_before = consumer.generation();

  restartBroker();

  int redelivered = 0;
  std::set<std::string> after_restart;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (seen.size() < kCount && std::chrono::steady_clock::now() < deadline) {
    std::vector<Delivery> batch = consumer.receiveBatch(50, milliseconds(500));
    for (const Delivery& delivery : batch) {
      seen.insert(delivery.message_id);
      after_restart.insert(delivery.message_id);
      redelivered += delivery.redelivered ? 1 : 0;
    }
    if (!batch.empty()) {
      consumer.ack(batch.back(), /*multiple=*/true);
    }
  }

  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  EXPECT_GT(consumer.generation(), generation_before);
  EXPECT_GE(retries, 1);
  EXPECT_GE(redelivered, 1);
  for (const Delivery& delivery : unacked) {
    EXPECT_TRUE(after_restart.count(delivery.message_id)) << delivery.message_id;
  }
  // The tag belongs to the dead connection, so the ack is refused locally.
  EXPECT_FALSE(consumer.ack(unacked.front()));
}

TEST_F(QueueFaultTest, PersistentMessagesSurviveRestart) {
  Publisher publisher(config_, topology_);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 0, 30)).allConfirmed());

  restartBroker();

  // The publisher's old connection is dead; it must reconnect by itself.
  publishWithRetry(publisher, makeTransactions(topology_, 30, 10), milliseconds(60000));

  Consumer consumer(config_, topology_);
  std::set<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.size() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::vector<Delivery> batch = consumer.receiveBatch(40, milliseconds(500));
    for (const Delivery& delivery : batch) seen.insert(delivery.message_id);
    if (!batch.empty()) consumer.ack(batch.back(), /*multiple=*/true);
  }
  EXPECT_EQ(seen.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(seen.count("tx-" + std::to_string(i))) << "tx-" << i;
  }
}

TEST_F(QueueFaultTest, BlockedBrokerRaisesBrokerBusy) {
  PublisherOptions options;
  options.confirm_timeout = milliseconds(1500);
  Publisher publisher(config_, topology_, options);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 0, 1)).allConfirmed());

  // A watermark this low raises the memory alarm at once, and RabbitMQ
  // blocks every connection that publishes.
  ASSERT_EQ(rabbitmqctl("set_vm_memory_high_watermark 0.0000001"), 0);
  struct RestoreWatermark {
    BrokerTest* test;
    ~RestoreWatermark() { EXPECT_EQ(test->rabbitmqctl("set_vm_memory_high_watermark 0.4"), 0); }
  } restore{this};

  EXPECT_THROW(publisher.publishBatch(makeTransactions(topology_, 1, 5)), BrokerBusy);

  // Now the client knows the connection is blocked and fails fast.
  auto start = std::chrono::steady_clock::now();
  try {
    publisher.publishBatch(makeTransactions(topology_, 6, 5));
    ADD_FAILURE() << "expected BrokerBusy";
  } catch (const BrokerBusy& error) {
    EXPECT_NE(std::string(error.what()).find("blocked"), std::string::npos) << error.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, options.confirm_timeout);

  ASSERT_EQ(rabbitmqctl("set_vm_memory_high_watermark 0.4"), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool published = false;
  while (!published && std::chrono::steady_clock::now() < deadline) {
    try {
      published = publisher.publishBatch(makeTransactions(topology_, 11, 5)).allConfirmed();
    } catch (const BrokerBusy&) {
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  EXPECT_TRUE(published) << "publishing did not resume after the alarm cleared";
}

}  // namespace
}  // namespace txguard
