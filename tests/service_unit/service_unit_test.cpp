// Unit tests of src/service that need no server: the queue message codec,
// gzip, archive keys, and hot reload of rules and models from a folder
// store standing in for S3.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "service/gzip.h"
#include "service/outbox_uploader.h"
#include "service/scoring_setup.h"
#include "service/transaction_codec.h"
#include "store/local_folder_store.h"

namespace txguard {
namespace {

namespace fs = std::filesystem;

Transaction fullTransaction() {
  Transaction transaction;
  transaction.id = "tx-\"quoted\"";
  transaction.account = "card:abc";
  transaction.account_display = "411111******1111";
  transaction.timestamp_ms = 1'709'288'100'000;
  transaction.amount = 12.5;
  transaction.currency = "BRL";
  transaction.location = "RJ";
  transaction.latitude = -22.9;
  transaction.longitude = -43.2;
  transaction.counterparty = "M1";
  transaction.category = "TRANSFER";
  transaction.balance_before = 100;
  transaction.balance_after = 87.5;
  transaction.label = Label::kFraud;
  return transaction;
}

TEST(TransactionMessage, RoundTripsEveryField) {
  const Transaction original = fullTransaction();
  std::string body;
  appendTransactionMessage(body, original, 1234);

  Transaction parsed;
  std::int64_t ingested_at = 0;
  parseTransactionMessage(body, parsed, ingested_at);
  EXPECT_EQ(ingested_at, 1234);
  EXPECT_EQ(parsed.id, original.id);
  EXPECT_EQ(parsed.account, original.account);
  EXPECT_EQ(parsed.account_display, original.account_display);
  EXPECT_EQ(parsed.timestamp_ms, original.timestamp_ms);
  EXPECT_DOUBLE_EQ(parsed.amount, original.amount);
  EXPECT_EQ(parsed.currency, original.currency);
  EXPECT_EQ(parsed.location, original.location);
  EXPECT_DOUBLE_EQ(parsed.latitude, original.latitude);
  EXPECT_DOUBLE_EQ(parsed.longitude, original.longitude);
  EXPECT_TRUE(std::isnan(parsed.home_latitude));
  EXPECT_EQ(parsed.counterparty, original.counterparty);
  EXPECT_EQ(parsed.category, original.category);
  EXPECT_DOUBLE_EQ(parsed.balance_before, original.balance_before);
  EXPECT_DOUBLE_EQ(parsed.balance_after, original.balance_after);
  EXPECT_EQ(parsed.label, Label::kFraud);
}

TEST(TransactionMessage, RejectsBrokenBodies) {
  Transaction parsed;
  std::int64_t ingested_at = 0;
  for (const char* body : {"not json", "{}", R"({"id":"a","timestamp_ms":1,"amount":1})",
                           R"({"id":"a","account":"b","timestamp_ms":1,"amount":-1})",
                           R"({"id":"a","account":"b","timestamp_ms":"x","amount":1})",
                           R"({"id":"a","account":"b","timestamp_ms":1,"amount":1,"label":7})"}) {
    EXPECT_THROW(parseTransactionMessage(body, parsed, ingested_at), MessageError) << body;
  }
}

TEST(Gzip, RoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "{\"transaction_id\":\"tx-" + std::to_string(i) + "\"}\n";
  const std::string compressed = gzipCompress(text);
  EXPECT_LT(compressed.size(), text.size() / 4);
  EXPECT_EQ(compressed.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(gzipDecompress(compressed), text);
  EXPECT_THROW(gzipDecompress("not gzip"), std::runtime_error);
}

TEST(ArchiveChunkKey, IsDatedAndContentAddressed) {
  const std::int64_t at = 1'709'288'100'000;  // 2024-03-01T10:15:00Z
  const std::string key = archiveChunkKey(at, "a\n");
  EXPECT_TRUE(key.starts_with("archive/2024/03/01/10/")) << key;
  EXPECT_TRUE(key.ends_with(".jsonl.gz")) << key;
  EXPECT_EQ(key, archiveChunkKey(at, "a\n"));
  EXPECT_NE(key, archiveChunkKey(at, "b\n"));
}

class ScoringSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("txguard-setup-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    rules_file_ = root_ / "rules.yaml";
    writeRules("1");
  }
  void TearDown() override { fs::remove_all(root_); }

  void writeRules(const std::string& version) {
    std::ofstream(rules_file_) << "version: \"" << version << "\"\nrules:\n"
                               << "  - name: big\n    when: amount > 1000\n    action: review\n";
  }

  fs::path root_;
  fs::path rules_file_;
};

TEST_F(ScoringSetupTest, ReloadsChangedRules) {
  ScoringSetupSource source(rules_file_, "none", nullptr);
  const std::string first = source.current()->rules.version();
  EXPECT_TRUE(first.starts_with("1+")) << first;

  // The file's size changes with the version string, so the change is seen
  // even where modification times are coarse.
  writeRules("22");
  EXPECT_TRUE(source.refresh());
  EXPECT_TRUE(source.current()->rules.version().starts_with("22+"));
  EXPECT_FALSE(source.refresh());
}

TEST_F(ScoringSetupTest, KeepsOldRulesWhenNewOnesAreBroken) {
  ScoringSetupSource source(rules_file_, "none", nullptr);
  const std::string before = source.current()->rules.version();
  std::ofstream(rules_file_) << "version: \"2\"\nrules:\n  - name: broken\n    when: amount >>> 1\n";
  EXPECT_FALSE(source.refresh());
  EXPECT_EQ(source.current()->rules.version(), before);
}

TEST_F(ScoringSetupTest, FallsBackToEmbeddedModel) {
  LocalFolderStore models(root_ / "models");
  ScoringSetupSource source(rules_file_, "paysim", &models);
  ASSERT_NE(source.current()->model, nullptr);
  EXPECT_EQ(source.current()->model_source, "embedded");
}

TEST_F(ScoringSetupTest, SwapsModelWhenPointerMoves) {
  LocalFolderStore models(root_ / "models");
  ScoringSetupSource source(rules_file_, "paysim", &models);
  const std::string embedded_version = source.current()->model->metadata().version;

  // Publish the shipped model under its own version: the pointer now names
  // it and the next refresh loads it from the store.
  publishModel(models, fs::path(TXGUARD_SOURCE_DIR) / "models/paysim");
  EXPECT_TRUE(source.refresh());
  EXPECT_TRUE(source.current()->model_source.starts_with("s3:models/paysim/"))
      << source.current()->model_source;
  EXPECT_EQ(source.current()->model->metadata().version, embedded_version);

  // A pointer to a version that is not there keeps the loaded model.
  models.put(ScoringSetupSource::pointerKey("paysim"), "paysim-missing\n", "text/plain");
  EXPECT_FALSE(source.refresh());
  EXPECT_NE(source.current()->model, nullptr);
}

}  // namespace
}  // namespace txguard
