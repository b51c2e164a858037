#include "store/local_folder_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace txguard {
namespace {
namespace fs = std::filesystem;

class LocalFolderStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("txguard-store-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(LocalFolderStoreTest, PutThenGetRoundTrips) {
  LocalFolderStore store(root_);
  std::string body("binary\0bytes\n", 13);
  store.put("reports/2024/03/01/tx-1.txt", body, "text/plain");

  std::optional<std::string> read = store.get("reports/2024/03/01/tx-1.txt");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, body);
  EXPECT_TRUE(fs::is_regular_file(root_ / "reports/2024/03/01/tx-1.txt"));
}

TEST_F(LocalFolderStoreTest, MissingKeyIsNullopt) {
  LocalFolderStore store(root_);
  EXPECT_FALSE(store.get("absent.txt").has_value());
  EXPECT_FALSE(store.exists("absent.txt"));
}

TEST_F(LocalFolderStoreTest, FolderIsNotAnObject) {
  LocalFolderStore store(root_);
  store.put("a/b.txt", "x", "");
  EXPECT_FALSE(store.exists("a"));
  EXPECT_FALSE(store.get("a").has_value());
}

TEST_F(LocalFolderStoreTest, ExistsAfterPut) {
  LocalFolderStore store(root_);
  store.put("k", "v", "");
  EXPECT_TRUE(store.exists("k"));
}

TEST_F(LocalFolderStoreTest, OverwriteReplacesWholeBody) {
  LocalFolderStore store(root_);
  store.put("model/current", std::string(10000, 'a'), "");
  store.put("model/current", "short", "");
  EXPECT_EQ(store.get("model/current").value(), "short");
}

TEST_F(LocalFolderStoreTest, OverwriteLeavesNoTemporaryFiles) {
  LocalFolderStore store(root_);
  for (int i = 0; i < 5; ++i) {
    store.put("dir/key", std::to_string(i), "");
  }
  int files = 0;
  for (const auto& entry : fs::directory_iterator(root_ / "dir")) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "key");
  }
  EXPECT_EQ(files, 1);
}

TEST_F(LocalFolderStoreTest, ReadersNeverSeePartialObject) {
  // A writer alternates two bodies of different sizes while the reader checks
  // that every read is exactly one of them. A non-atomic write would show a
  // truncated or mixed body.
  LocalFolderStore store(root_);
  const std::string first(64 * 1024, 'a');
  const std::string second(3 * 1024, 'b');
  store.put("hot", first, "");

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      store.put("hot", i % 2 == 0 ? second : first, "");
    }
    stop = true;
  });
  int reads = 0;
  while (!stop) {
    std::optional<std::string> body = store.get("hot");
    ASSERT_TRUE(body.has_value());
    ASSERT_TRUE(*body == first || *body == second) << "read a body of " << body->size() << " bytes";
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

TEST_F(LocalFolderStoreTest, ListIsSortedAndFiltered) {
  LocalFolderStore store(root_);
  store.put("reports/b.txt", "22", "");
  store.put("reports/a.txt", "1", "");
  store.put("reports/sub/c.txt", "333", "");
  store.put("archive/x.gz", "4444", "");

  std::vector<ObjectInfo> reports = store.list("reports/");
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[0].key, "reports/a.txt");
  EXPECT_EQ(reports[0].size_bytes, 1U);
  EXPECT_EQ(reports[1].key, "reports/b.txt");
  EXPECT_EQ(reports[1].size_bytes, 2U);
  EXPECT_EQ(reports[2].key, "reports/sub/c.txt");
  EXPECT_EQ(reports[2].size_bytes, 3U);

  EXPECT_EQ(store.list("").size(), 4U);
  EXPECT_EQ(store.list("reports/a").size(), 1U);
  EXPECT_TRUE(store.list("none/").empty());
}

TEST_F(LocalFolderStoreTest, ListSkipsTemporaryFiles) {
  LocalFolderStore store(root_);
  store.put("a", "1", "");
  std::ofstream(root_ / "b.txguard-tmp-1-0") << "partial";
  std::vector<ObjectInfo> all = store.list("");
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].key, "a");
}

TEST_F(LocalFolderStoreTest, DownloadLinkIsAbsoluteFileUrl) {
  LocalFolderStore store(root_);
  store.put("reports/a b#1.txt", "x", "");
  std::string link = store.downloadLink("reports/a b#1.txt", std::chrono::hours(1));
  EXPECT_EQ(link,
            "file://" + fs::absolute(root_).lexically_normal().string() + "/reports/a%20b%231.txt");
}

TEST_F(LocalFolderStoreTest, RejectsUnsafeKeys) {
  LocalFolderStore store(root_);
  const std::vector<std::string> bad_keys = {
      "",  "/etc/passwd", "../escape", "a/../../escape",       "a/./b",          "a//b", "a/",
      ".", "..",          "a\\b",      std::string("a\0b", 3), "x.txguard-tmp-9"};
  for (const std::string& key : bad_keys) {
    EXPECT_THROW(store.put(key, "x", ""), ObjectStoreError) << "key '" << key << "'";
    EXPECT_THROW(store.get(key), ObjectStoreError) << "key '" << key << "'";
    EXPECT_THROW(store.exists(key), ObjectStoreError) << "key '" << key << "'";
  }
  EXPECT_FALSE(fs::exists(root_.parent_path() / "escape"));
}

TEST_F(LocalFolderStoreTest, ErrorNamesKeyAndFix) {
  LocalFolderStore store(root_);
  try {
    store.put("../x", "y", "");
    FAIL() << "expected ObjectStoreError";
  } catch (const ObjectStoreError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("'../x'"), std::string::npos) << message;
    EXPECT_NE(message.find(".."), std::string::npos) << message;
  }
}

TEST_F(LocalFolderStoreTest, DotsInsideNamesAreAllowed) {
  LocalFolderStore store(root_);
  store.put("a..b/.hidden/..c", "ok", "");
  EXPECT_EQ(store.get("a..b/.hidden/..c").value(), "ok");
}

TEST_F(LocalFolderStoreTest, RemoveDeletesObject) {
  LocalFolderStore store(root_);
  store.put("k", "v", "");
  EXPECT_TRUE(store.remove("k"));
  EXPECT_FALSE(store.exists("k"));
  EXPECT_FALSE(store.remove("k"));
}

TEST_F(LocalFolderStoreTest, RootThatIsFileIsRejected) {
  fs::create_directories(root_);
  fs::path file = root_ / "plain-file";
  std::ofstream(file) << "x";
  EXPECT_THROW(LocalFolderStore store(file), ObjectStoreError);
}

}  // namespace
}  // namespace txguard
