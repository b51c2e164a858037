#include "queue/amqp_config.h"

#include <gtest/gtest.h>

#include <string>

#include "queue/errors.h"

namespace txguard {
namespace {

TEST(ParseAmqpUrl, ReadsAllParts) {
  AmqpConfig config = parseAmqpUrl("amqp://txguard@rabbit.example:5673/prod", "secret");
  EXPECT_EQ(config.user, "txguard");
  EXPECT_EQ(config.password, "secret");
  EXPECT_EQ(config.host, "rabbit.example");
  EXPECT_EQ(config.port, 5673);
  EXPECT_EQ(config.vhost, "prod");
}

TEST(ParseAmqpUrl, DecodesPercentEncodedVhost) {
  EXPECT_EQ(parseAmqpUrl("amqp://txguard@127.0.0.1:5672/%2F").vhost, "/");
  EXPECT_EQ(parseAmqpUrl("amqp://txguard@127.0.0.1:5672/%2ftxguard").vhost, "/txguard");
  EXPECT_EQ(parseAmqpUrl("amqp://h/a%20b").vhost, "a b");
}

TEST(ParseAmqpUrl, AppliesDefaults) {
  AmqpConfig config = parseAmqpUrl("amqp://rabbit");
  EXPECT_EQ(config.host, "rabbit");
  EXPECT_EQ(config.port, 5672);
  EXPECT_EQ(config.vhost, "/");
  EXPECT_EQ(config.user, "guest");
  EXPECT_EQ(config.password, "");
}

TEST(ParseAmqpUrl, SeparatePasswordWinsOverUrlPassword) {
  EXPECT_EQ(parseAmqpUrl("amqp://u:in-url@h/%2F", "given").password, "given");
  EXPECT_EQ(parseAmqpUrl("amqp://u:in%40url@h/%2F").password, "in@url");
}

TEST(ParseAmqpUrl, KeepsUnencodedSpecialCharactersInPassword) {
  AmqpConfig config = parseAmqpUrl("amqp://u:p/a?s@s@h:1234/v");
  EXPECT_EQ(config.password, "p/a?s@s");
  EXPECT_EQ(config.host, "h");
  EXPECT_EQ(config.port, 1234);
  EXPECT_EQ(config.vhost, "v");
}

TEST(ParseAmqpUrl, ReadsIpv6Host) {
  AmqpConfig config = parseAmqpUrl("amqp://u@[::1]:5700/%2F");
  EXPECT_EQ(config.host, "::1");
  EXPECT_EQ(config.port, 5700);
}

TEST(ParseAmqpUrl, ReadsQueryOptions) {
  AmqpConfig config =
      parseAmqpUrl("amqp://u@h/%2F?heartbeat=10&connection_timeout=2500&channel_max=4");
  EXPECT_EQ(config.heartbeat, std::chrono::seconds(10));
  EXPECT_EQ(config.connect_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(config.channel_max, 4);
}

TEST(ParseAmqpUrl, RejectsInvalidUrls) {
  const char* invalid[] = {
      "http://h/",
      "amqps://h/",
      "amqp://",
      "amqp://h:0/",
      "amqp://h:65536/",
      "amqp://h:port/",
      "amqp://h/a/b",
      "amqp://h/",
      "amqp://h/%2",
      "amqp://h/%zz",
      "amqp://@h/",
      "amqp://[::1/",
      "amqp://h/?unknown=1",
      "amqp://h/?heartbeat=x",
  };
  for (const char* url : invalid) {
    EXPECT_THROW(parseAmqpUrl(url), AmqpConfigError) << url;
  }
}

TEST(ParseAmqpUrl, ErrorMasksPasswordFromUrl) {
  try {
    parseAmqpUrl("amqp://u:Hunter2-secret@h:notaport/%2F");
    FAIL() << "expected AmqpConfigError";
  } catch (const AmqpConfigError& error) {
    std::string message = error.what();
    EXPECT_EQ(message.find("Hunter2-secret"), std::string::npos) << message;
    EXPECT_NE(message.find("****"), std::string::npos) << message;
    EXPECT_NE(message.find("notaport"), std::string::npos) << message;
  }
}

TEST(ParseAmqpUrl, ErrorMasksPasswordWithBadEncoding) {
  try {
    parseAmqpUrl("amqp://u:Top%zzSecret@h/%2F");
    FAIL() << "expected AmqpConfigError";
  } catch (const AmqpConfigError& error) {
    EXPECT_EQ(std::string(error.what()).find("Secret"), std::string::npos) << error.what();
  }
}

TEST(MaskAmqpUrl, ReplacesOnlyThePassword) {
  EXPECT_EQ(maskAmqpUrl("amqp://u:pw@h:5672/%2F"), "amqp://u:****@h:5672/%2F");
  EXPECT_EQ(maskAmqpUrl("amqp://u:p@ss/w?rd@h/v"), "amqp://u:****@h/v");
  EXPECT_EQ(maskAmqpUrl("amqp://u@h:5672/%2F"), "amqp://u@h:5672/%2F");
  EXPECT_EQ(maskAmqpUrl("amqp://h:5672/%2F"), "amqp://h:5672/%2F");
}

TEST(AmqpConfigDisplayUrl, MasksPasswordAndEncodesVhost) {
  AmqpConfig config = parseAmqpUrl("amqp://txguard@h:5672/%2F", "Very$ecret");
  std::string shown = config.displayUrl();
  EXPECT_EQ(shown, "amqp://txguard:****@h:5672/%2F");
  EXPECT_EQ(parseAmqpUrl(shown).vhost, "/");
}

TEST(AmqpConfigDisplayUrl, OmitsMaskWithoutPassword) {
  EXPECT_EQ(parseAmqpUrl("amqp://txguard@h/v").displayUrl(), "amqp://txguard@h:5672/v");
}

}  // namespace
}  // namespace txguard
