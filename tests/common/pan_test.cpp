#include "common/pan.h"

#include <gtest/gtest.h>

#include <string>

namespace txguard {
namespace {

TEST(Luhn, AcceptsValidNumbers) {
  EXPECT_TRUE(passesLuhn("4111111111111111"));  // Visa test card
  EXPECT_TRUE(passesLuhn("378282246310005"));   // American Express test card
  EXPECT_TRUE(passesLuhn("79927398713"));       // the textbook example
  EXPECT_TRUE(passesLuhn("2291163933867244"));  // first Sparkov cc_num
  EXPECT_TRUE(passesLuhn("0"));
}

TEST(Luhn, RejectsWrongCheckDigit) {
  EXPECT_FALSE(passesLuhn("4111111111111112"));
  EXPECT_FALSE(passesLuhn("79927398710"));
  EXPECT_FALSE(passesLuhn("378282246310006"));
}

TEST(Luhn, RejectsNonDigits) {
  EXPECT_FALSE(passesLuhn(""));
  EXPECT_FALSE(passesLuhn("4111 1111 1111 1111"));
  EXPECT_FALSE(passesLuhn("4111-1111-1111-1111"));
  EXPECT_FALSE(passesLuhn("41111111111111a1"));
}

TEST(MaskPan, KeepsFirstSixAndLastFour) {
  EXPECT_EQ(maskPan("4111111111111111"), "411111******1111");
  EXPECT_EQ(maskPan("378282246310005"), "378282*****0005");
  EXPECT_EQ(maskPan("4000056655665556123"), "400005*********6123");
  EXPECT_EQ(maskPan("4222222222222"), "422222***2222");
}

TEST(MaskPan, ShortNumbersKeepOnlyLastFour) {
  EXPECT_EQ(maskPan("79927398713"), "*******8713");
  EXPECT_EQ(maskPan("123456789012"), "********9012");
  EXPECT_EQ(maskPan("123"), "***");
  EXPECT_EQ(maskPan(""), "");
}

TEST(MaskPan, MasksNonDigits) {
  EXPECT_EQ(maskPan("4111-1111-1111-1111"), "4111*1*********1111");
  EXPECT_EQ(maskPan("abcdefghijklmnop"), "****************");
}

TEST(MaskPansInText, MasksEveryLuhnRun) {
  EXPECT_EQ(maskPansInText("card 4111111111111111 and 378282246310005."),
            "card 411111******1111 and 378282*****0005.");
  EXPECT_EQ(maskPansInText("0,2020-06-21 12:14:25,2291163933867244,fraud_Kirlin"),
            "0,2020-06-21 12:14:25,229116******7244,fraud_Kirlin");
  EXPECT_EQ(maskPansInText("4111111111111111"), "411111******1111");
}

TEST(MaskPansInText, LeavesOtherNumbersAlone) {
  // Fails Luhn.
  EXPECT_EQ(maskPansInText("id 4111111111111112"), "id 4111111111111112");
  // 11 digits: below the 12-digit floor even though it passes Luhn.
  EXPECT_EQ(maskPansInText("x 79927398713 y"), "x 79927398713 y");
  // 20 digits: one run longer than any card number, though it passes Luhn.
  const std::string twenty = "41111111111111111115";
  ASSERT_TRUE(passesLuhn(twenty));
  EXPECT_EQ(maskPansInText(twenty), twenty);
  EXPECT_EQ(maskPansInText("amount 2232.39 at 1371816865"), "amount 2232.39 at 1371816865");
  EXPECT_EQ(maskPansInText(""), "");
}

// Expected values computed with
//   printf %s PAN | openssl dgst -sha256 -hmac KEY
// and cut to the first 32 hex digits.
TEST(AccountKeyForPan, MatchesOpenSslHmac) {
  EXPECT_EQ(accountKeyForPan("4111111111111111", "test-key"),
            "card:b9a296a413d12fc678c4027233b1926d");
  EXPECT_EQ(accountKeyForPan("3573030041201292", "txguard-demo"),
            "card:d85afbdc42f1479bf64ba3f355359a1e");
  EXPECT_EQ(accountKeyForPan("", "k"), "card:8bb990c40a7d61cb97597a942125025b");
}

TEST(AccountKeyForPan, DependsOnKey) {
  EXPECT_NE(accountKeyForPan("4111111111111111", "key-a"),
            accountKeyForPan("4111111111111111", "key-b"));
}

TEST(PanHasher, RepeatsAndCachesConsistently) {
  PanHasher hasher("test-key");
  std::string first;
  std::string second;
  std::string other;
  hasher.accountKey("4111111111111111", first);
  hasher.accountKey("378282246310005", other);
  hasher.accountKey("4111111111111111", second);
  EXPECT_EQ(first, "card:b9a296a413d12fc678c4027233b1926d");
  EXPECT_EQ(second, first);
  EXPECT_EQ(other, accountKeyForPan("378282246310005", "test-key"));
  EXPECT_NE(other, first);
}

TEST(PanHasher, StaysCorrectAfterCacheClears) {
  PanHasher hasher("test-key");
  std::string key;
  // Enough distinct numbers to pass the cache bound and clear it once.
  for (int i = 0; i < 70000; ++i) hasher.accountKey(std::to_string(1000000000000 + i), key);
  hasher.accountKey("4111111111111111", key);
  EXPECT_EQ(key, "card:b9a296a413d12fc678c4027233b1926d");
}

}  // namespace
}  // namespace txguard
