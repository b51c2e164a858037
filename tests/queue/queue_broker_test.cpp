// Publisher, Consumer and topology against a real RabbitMQ.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "broker_fixture.h"
#include "queue/consumer.h"
#include "queue/errors.h"
#include "queue/publisher.h"

namespace txguard {
namespace {

using std::chrono::milliseconds;
using testing::BrokerTest;

std::vector<OutgoingMessage> makeTransactions(const QueueTopology& topology, int count,
                                              const std::string& prefix = "tx-") {
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < count; ++i) {
    std::string id = prefix + std::to_string(i);
    // About 200 bytes, the size of one transaction in JSON.
    std::string body = R"({"id":")" + id +
                       R"(","account":"acct-000123","timestamp_ms":1700000000000,)"
                       R"("amount":123.45,"currency":"BRL","counterparty":"merchant-42",)"
                       R"("category":"TRANSFER","location":"SP"})";
    messages.push_back(transactionMessage(topology, id, body));
  }
  return messages;
}

// Receives until `count` deliveries arrived or `timeout` passed.
std::vector<Delivery> receiveAtLeast(Consumer& consumer, std::size_t count, milliseconds timeout) {
  std::vector<Delivery> all;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (Delivery& delivery : consumer.receiveBatch(count - all.size(), milliseconds(200))) {
      all.push_back(std::move(delivery));
    }
  }
  return all;
}

class QueueBrokerTest : public BrokerTest {};

TEST_F(QueueBrokerTest, TopologyDeclaredTwiceIsHarmless) {
  AmqpConnection connection(config_);
  EXPECT_NO_THROW(declareTopology(connection, topology_));
  EXPECT_NO_THROW(declareTopology(connection, topology_));
}

TEST_F(QueueBrokerTest, TopologyMismatchNamesTheArgument) {
  QueueTopology changed = topology_;
  changed.delivery_limit = topology_.delivery_limit + 1;
  AmqpConnection connection(config_);
  try {
    declareTopology(connection, changed);
    FAIL() << "expected TopologyError";
  } catch (const TopologyError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("x-delivery-limit"), std::string::npos) << message;
    EXPECT_NE(message.find(topology_.transactions_queue), std::string::npos) << message;
  }
  EXPECT_FALSE(connection.isOpen());
}

TEST_F(QueueBrokerTest, PublishedBatchIsConsumedExactly) {
  Publisher publisher(config_, topology_);
  auto messages = makeTransactions(topology_, 100);
  messages[0].headers["x-txguard-source"] = std::string("api");
  messages[0].timestamp_s = 1700000000;

  PublishResult result = publisher.publishBatch(messages);
  ASSERT_EQ(result.outcomes.size(), 100u);
  EXPECT_TRUE(result.allConfirmed());

  Consumer consumer(config_, topology_);
  std::vector<Delivery> deliveries = receiveAtLeast(consumer, 100, milliseconds(10000));
  ASSERT_EQ(deliveries.size(), 100u);

  std::set<std::string> ids;
  for (const Delivery& delivery : deliveries) {
    ids.insert(delivery.message_id);
    EXPECT_FALSE(delivery.redelivered);
    EXPECT_EQ(delivery.generation, consumer.generation());
    EXPECT_EQ(delivery.content_type, "application/json");
  }
  EXPECT_EQ(ids.size(), 100u);
  for (const OutgoingMessage& message : messages) {
    EXPECT_TRUE(ids.count(message.message_id)) << message.message_id;
  }

  const Delivery* first = nullptr;
  for (const Delivery& delivery : deliveries) {
    if (delivery.message_id == "tx-0") first = &delivery;
  }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->body, messages[0].body);
  EXPECT_EQ(first->timestamp_s, 1700000000);
  EXPECT_EQ(headerAs<std::string>(first->headers, "x-txguard-source"), "api");
  EXPECT_EQ(first->routing_key, topology_.transactions_routing_key);

  EXPECT_TRUE(consumer.receiveBatch(10, milliseconds(300)).empty());
  EXPECT_TRUE(consumer.ack(deliveries.back(), /*multiple=*/true));

  // Everything was acked, so a fresh consumer finds the queue empty.
  Consumer second(config_, topology_);
  EXPECT_TRUE(second.receiveBatch(10, milliseconds(500)).empty());
}

TEST_F(QueueBrokerTest, UnroutableMessageIsReported) {
  Publisher publisher(config_, topology_);
  auto messages = makeTransactions(topology_, 3);
  messages[1].routing_key = "no-such-binding";

  PublishResult result = publisher.publishBatch(messages);
  EXPECT_EQ(result.outcomes[0], PublishOutcome::kConfirmed);
  EXPECT_EQ(result.outcomes[1], PublishOutcome::kUnroutable);
  EXPECT_EQ(result.outcomes[2], PublishOutcome::kConfirmed);
  EXPECT_EQ(result.confirmedCount(), 2u);
}

TEST_F(QueueBrokerTest, PrefetchBoundsUnackedDeliveries) {
  Publisher publisher(config_, topology_);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 50)).allConfirmed());

  ConsumerOptions options;
  options.prefetch = 10;
  Consumer consumer(config_, topology_, options);
  std::vector<Delivery> first = consumer.receiveBatch(100, milliseconds(1000));
  EXPECT_EQ(first.size(), 10u);

  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(consumer.ack(first.back(), /*multiple=*/true));
  std::vector<Delivery> second = consumer.receiveBatch(100, milliseconds(1000));
  EXPECT_EQ(second.size(), 10u);
}

TEST_F(QueueBrokerTest, NackWithRequeueRedelivers) {
  Publisher publisher(config_, topology_);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 1)).allConfirmed());

  Consumer consumer(config_, topology_);
  std::vector<Delivery> first = receiveAtLeast(consumer, 1, milliseconds(5000));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].redelivered);
  EXPECT_EQ(first[0].deliveryAttempt(), 1);
  EXPECT_TRUE(consumer.nack(first[0], /*requeue=*/true));

  std::vector<Delivery> again = receiveAtLeast(consumer, 1, milliseconds(5000));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].message_id, first[0].message_id);
  EXPECT_TRUE(again[0].redelivered);
  EXPECT_EQ(again[0].deliveryCount(), 1);
  EXPECT_EQ(again[0].deliveryAttempt(), 2);
  EXPECT_TRUE(consumer.ack(again[0]));
}

TEST_F(QueueBrokerTest, DeadLetterMovesMessageWithReason) {
  Publisher publisher(config_, topology_);
  auto messages = makeTransactions(topology_, 2);
  ASSERT_TRUE(publisher.publishBatch(messages).allConfirmed());

  Consumer consumer(config_, topology_);
  std::vector<Delivery> deliveries = receiveAtLeast(consumer, 2, milliseconds(5000));
  ASSERT_EQ(deliveries.size(), 2u);
  const Delivery& poison = deliveries[0];
  EXPECT_TRUE(consumer.deadLetter(poison, "model scoring failed: NaN amount"));
  EXPECT_TRUE(consumer.ack(deliveries[1]));

  // The original is gone from the transactions queue.
  Consumer check(config_, topology_);
  EXPECT_TRUE(check.receiveBatch(10, milliseconds(500)).empty());

  QueueTopology dlq = topology_;
  dlq.transactions_queue = topology_.dead_letter_queue;
  ConsumerOptions options;
  options.declare_topology = false;
  Consumer dlq_consumer(config_, dlq, options);
  std::vector<Delivery> dead = receiveAtLeast(dlq_consumer, 1, milliseconds(5000));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message_id, poison.message_id);
  EXPECT_EQ(dead[0].body, poison.body);
  EXPECT_EQ(headerAs<std::string>(dead[0].headers, kReasonHeader),
            "model scoring failed: NaN amount");
  EXPECT_EQ(headerAs<std::int64_t>(dead[0].headers, kDeliveryCountHeader), 1);
  std::optional<std::string> failed_at = headerAs<std::string>(dead[0].headers, kFailedAtHeader);
  ASSERT_TRUE(failed_at.has_value());
  EXPECT_TRUE(std::regex_match(*failed_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << *failed_at;
  EXPECT_TRUE(dlq_consumer.ack(dead[0]));
  EXPECT_TRUE(dlq_consumer.receiveBatch(10, milliseconds(300)).empty());
}

TEST_F(QueueBrokerTest, CancelStopsNewDeliveriesButAllowsAcks) {
  Publisher publisher(config_, topology_);
  ASSERT_TRUE(publisher.publishBatch(makeTransactions(topology_, 20)).allConfirmed());

  ConsumerOptions options;
  options.prefetch = 5;
  Consumer consumer(config_, topology_, options);
  std::vector<Delivery> in_flight = receiveAtLeast(consumer, 5, milliseconds(5000));
  ASSERT_EQ(in_flight.size(), 5u);

  consumer.cancel();
  EXPECT_TRUE(consumer.cancelled());
  for (const Delivery& delivery : in_flight) {
    EXPECT_TRUE(consumer.ack(delivery));
  }
  EXPECT_TRUE(consumer.receiveBatch(10, milliseconds(500)).empty());

  // The 15 others are still queued for the next worker.
  Consumer next(config_, topology_);
  EXPECT_EQ(receiveAtLeast(next, 15, milliseconds(5000)).size(), 15u);
}

TEST_F(QueueBrokerTest, WrongPasswordErrorHidesPassword) {
  AmqpConfig wrong = config_;
  wrong.password = "Wr0ng-Pa55word-xyzzy";
  try {
    AmqpConnection connection(wrong);
    FAIL() << "expected the login to fail";
  } catch (const ConnectionLost& error) {
    std::string message = error.what();
    EXPECT_EQ(message.find(wrong.password), std::string::npos) << message;
    EXPECT_NE(message.find(config_.host), std::string::npos) << message;
  }

  std::vector<std::string> retry_errors;
  Publisher publisher(wrong, topology_);
  publisher.setRetryCallback(
      [&](const std::string& error, int, milliseconds) { retry_errors.push_back(error); });
  try {
    publisher.publishBatch(makeTransactions(topology_, 1));
    FAIL() << "expected ConnectionLost";
  } catch (const ConnectionLost& error) {
    EXPECT_EQ(std::string(error.what()).find(wrong.password), std::string::npos);
  }
  ASSERT_EQ(retry_errors.size(), 1u);
  EXPECT_EQ(retry_errors[0].find(wrong.password), std::string::npos) << retry_errors[0];
}

TEST_F(QueueBrokerTest, UnreachableBrokerErrorHidesPassword) {
  AmqpConfig unreachable = config_;
  unreachable.port = 1;  // nothing listens on port 1 on loopback
  unreachable.password = "Unreachable-Secret-42";
  try {
    AmqpConnection connection(unreachable);
    FAIL() << "expected the connection to fail";
  } catch (const ConnectionLost& error) {
    std::string message = error.what();
    EXPECT_EQ(message.find(unreachable.password), std::string::npos) << message;
    EXPECT_NE(message.find(":****@"), std::string::npos) << message;
  }
}

TEST_F(QueueBrokerTest, ConsumerBacksOffWhileBrokerUnreachable) {
  AmqpConfig unreachable = config_;
  unreachable.port = 1;
  std::vector<int> attempts;
  Consumer consumer(unreachable, topology_);
  consumer.setRetryCallback(
      [&](const std::string&, int attempt, milliseconds) { attempts.push_back(attempt); });

  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(consumer.receiveBatch(10, milliseconds(700)).empty());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, milliseconds(700) + unreachable.connect_timeout);
  EXPECT_FALSE(consumer.connected());
  // Backoff from 50 ms doubling to the 1 s cap allows only a few attempts
  // in 700 ms, not a tight loop.
  ASSERT_GE(attempts.size(), 2u);
  EXPECT_LE(attempts.size(), 6u);
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    EXPECT_EQ(attempts[i], static_cast<int>(i) + 1);
  }
}

}  // namespace
}  // namespace txguard
