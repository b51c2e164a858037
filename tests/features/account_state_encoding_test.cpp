#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "features/account_state.h"
#include "test_transactions.h"

namespace txguard {
namespace {

using testing::makeTransaction;

// A state with every field set, a wrapped ring and a late event.
AccountState busyState(const std::string& id, const std::string& location) {
  AccountState state;
  for (int i = 0; i < 30; ++i) {
    Transaction transaction =
        makeTransaction(1'700'000'000'000 + i * 45'000, 10.25 * (i + 1), "M" + std::to_string(i));
    transaction.id = id + std::to_string(i);
    transaction.location = location;
    transaction.latitude = -23.55 + i * 0.01;
    transaction.longitude = -46.63 - i * 0.01;
    state.record(transaction);
  }
  state.record(makeTransaction(1'700'000'000'000 + 29 * 45'000 - 1'000, 3.5, "late"));
  return state;
}

void expectSameFields(const AccountState& actual, const AccountState& expected) {
  EXPECT_EQ(actual.historyCount(), expected.historyCount());
  EXPECT_EQ(actual.amountMean(), expected.amountMean());
  EXPECT_EQ(actual.amountM2(), expected.amountM2());
  EXPECT_EQ(actual.lastId(), expected.lastId());
  EXPECT_EQ(actual.lastTimestampMs(), expected.lastTimestampMs());
  EXPECT_EQ(actual.lastAmount(), expected.lastAmount());
  EXPECT_EQ(actual.lastLocation(), expected.lastLocation());
  EXPECT_EQ(actual.counterparties().words(), expected.counterparties().words());
  ASSERT_EQ(actual.recentEventCount(), expected.recentEventCount());
  for (std::size_t i = 0; i < expected.recentEventCount(); ++i) {
    EXPECT_EQ(actual.recentEvent(i).timestamp_ms, expected.recentEvent(i).timestamp_ms) << i;
    EXPECT_EQ(actual.recentEvent(i).amount, expected.recentEvent(i).amount) << i;
  }
  EXPECT_TRUE(actual == expected);
}

TEST(AccountStateEncoding, RoundTripPreservesEveryField) {
  const AccountState state = busyState("tx-", "SP");
  const AccountState decoded = AccountState::decode(state.encode());
  expectSameFields(decoded, state);
  EXPECT_EQ(decoded.lastLatitude(), state.lastLatitude());
  EXPECT_EQ(decoded.lastLongitude(), state.lastLongitude());
}

TEST(AccountStateEncoding, RoundTripKeepsMissingCoordinates) {
  AccountState state;
  state.record(makeTransaction(-86'400'000, 1.0, "", "RJ"));
  const AccountState decoded = AccountState::decode(state.encode());
  expectSameFields(decoded, state);
  EXPECT_TRUE(std::isnan(decoded.lastLatitude()));
  EXPECT_TRUE(std::isnan(decoded.lastLongitude()));
  EXPECT_EQ(decoded.lastTimestampMs(), -86'400'000);
}

TEST(AccountStateEncoding, RoundTripOfEmptyState) {
  const AccountState decoded = AccountState::decode(AccountState().encode());
  expectSameFields(decoded, AccountState());
  EXPECT_FALSE(decoded.hasLast());
}

TEST(AccountStateEncoding, SizeBoundHoldsForLongestFields) {
  const AccountState state = busyState(std::string(200, 'i'), std::string(50, 'l'));
  const std::string encoded = state.encode();
  EXPECT_EQ(state.lastId().size(), AccountState::kMaxIdBytes);
  EXPECT_EQ(state.lastLocation().size(), AccountState::kMaxLocationBytes);
  EXPECT_EQ(state.recentEventCount(), AccountState::kRingCapacity);
  EXPECT_EQ(encoded.size(), AccountState::kMaxEncodedSize);
  EXPECT_LE(encoded.size(), 380U);
}

TEST(AccountStateEncoding, EncodingIsLittleEndian) {
  AccountState state;
  state.record(makeTransaction(0x0102030405060708, 1.0));
  const std::string encoded = state.encode();
  ASSERT_GT(encoded.size(), 32U);
  EXPECT_EQ(encoded[0], AccountState::kEncodingVersion);
  EXPECT_EQ(encoded[1], 1);  // history count, low byte first
  EXPECT_EQ(encoded[2], 0);
  EXPECT_EQ(encoded[21], 0x08);  // last timestamp at offset 21, low byte first
  EXPECT_EQ(encoded[28], 0x01);
}

TEST(AccountStateEncoding, DecodeRejectsEveryTruncation) {
  const std::string encoded = busyState("tx-", "SP").encode();
  for (std::size_t size = 0; size < encoded.size(); ++size) {
    EXPECT_THROW(AccountState::decode(std::string_view(encoded).substr(0, size)), AccountStateError)
        << "prefix of " << size << " bytes";
  }
}

TEST(AccountStateEncoding, DecodeRejectsTrailingBytes) {
  const std::string encoded = busyState("tx-", "SP").encode() + '\0';
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

TEST(AccountStateEncoding, DecodeRejectsWrongVersion) {
  std::string encoded = busyState("tx-", "SP").encode();
  encoded[0] = static_cast<char>(AccountState::kEncodingVersion + 1);
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
  encoded[0] = 0;
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

TEST(AccountStateEncoding, WrongVersionMessageNamesVersion) {
  std::string encoded = AccountState().encode();
  encoded[0] = 9;
  try {
    AccountState::decode(encoded);
    FAIL() << "decode accepted version 9";
  } catch (const AccountStateError& error) {
    EXPECT_NE(std::string(error.what()).find("version 9"), std::string::npos) << error.what();
  }
}

TEST(AccountStateEncoding, DecodeRejectsOversizedId) {
  AccountState state;
  state.record(makeTransaction(0, 1.0));
  std::string encoded = state.encode();
  constexpr std::size_t kIdLengthOffset = 53;
  encoded[kIdLengthOffset] = static_cast<char>(AccountState::kMaxIdBytes + 1);
  encoded.insert(kIdLengthOffset + 1, std::string(AccountState::kMaxIdBytes, 'x'));
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

TEST(AccountStateEncoding, DecodeRejectsOversizedRing) {
  std::string encoded = AccountState().encode();
  encoded.back() = static_cast<char>(AccountState::kRingCapacity + 1);
  encoded.append((AccountState::kRingCapacity + 1) * 8, '\0');
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

TEST(AccountStateEncoding, DecodeRejectsRingLargerThanHistory) {
  std::string encoded = AccountState().encode();
  encoded.back() = 1;
  encoded.append(8, '\0');
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

TEST(AccountStateEncoding, DecodeRejectsUnsortedRing) {
  AccountState state;
  state.record(makeTransaction(1'000, 1.0));
  state.record(makeTransaction(2'000, 2.0));
  std::string encoded = state.encode();
  // Ring entries are the last 16 bytes: (age 1000, 1.0f) then (age 0, 2.0f).
  // Swapping the ages makes the older event newer than its successor.
  const std::size_t first_age = encoded.size() - 16;
  const std::size_t second_age = encoded.size() - 8;
  for (int i = 0; i < 4; ++i) std::swap(encoded[first_age + i], encoded[second_age + i]);
  EXPECT_THROW(AccountState::decode(encoded), AccountStateError);
}

}  // namespace
}  // namespace txguard
