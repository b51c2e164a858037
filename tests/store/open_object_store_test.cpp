#include "store/open_object_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/local_folder_store.h"
#include "store/s3_store.h"

namespace txguard {
namespace {
namespace fs = std::filesystem;

S3StoreOptions testS3Options() {
  S3StoreOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.credentials = {"KEY", "SECRET", ""};
  return options;
}

TEST(OpenObjectStore, PlainPathIsLocalFolder) {
  fs::path root = fs::temp_directory_path() / ("txguard-open-" + std::to_string(::getpid()));
  std::unique_ptr<ObjectStore> store = openObjectStore(root.string());
  auto* local = dynamic_cast<LocalFolderStore*>(store.get());
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->root(), fs::absolute(root).lexically_normal());
  fs::remove_all(root);
}

TEST(OpenObjectStore, FileUrlIsLocalFolder) {
  fs::path root = fs::temp_directory_path() / ("txguard open+" + std::to_string(::getpid()));
  std::string url = "file://" + fs::absolute(root).string();
  url.replace(url.find(' '), 1, "%20");
  std::unique_ptr<ObjectStore> store = openObjectStore(url);
  auto* local = dynamic_cast<LocalFolderStore*>(store.get());
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->root(), fs::absolute(root).lexically_normal());
  fs::remove_all(root);
}

TEST(OpenObjectStore, S3UrlSetsBucketAndOverrides) {
  std::unique_ptr<ObjectStore> store = openObjectStore(
      "s3://txguard-reports?endpoint=http%3A%2F%2F127.0.0.1%3A4568&region=eu-west-1"
      "&public_endpoint=https://files.example.com",
      testS3Options());
  auto* s3 = dynamic_cast<S3Store*>(store.get());
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->options().bucket, "txguard-reports");
  EXPECT_EQ(s3->options().endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(s3->options().region, "eu-west-1");
  EXPECT_EQ(s3->options().public_endpoint, "https://files.example.com");
  EXPECT_EQ(s3->options().credentials.access_key_id, "KEY");
}

TEST(OpenObjectStore, S3TrailingSlashAllowed) {
  std::unique_ptr<ObjectStore> store = openObjectStore("s3://txguard-models/", testS3Options());
  auto* s3 = dynamic_cast<S3Store*>(store.get());
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->options().bucket, "txguard-models");
}

TEST(OpenObjectStore, RejectsMalformedLocations) {
  EXPECT_THROW(openObjectStore("", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("s3://bucket/prefix", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("s3://bucket?colour=red", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("s3://Bad_Bucket", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("s3://", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("gs://bucket", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("file://relative/path", testS3Options()), ObjectStoreError);
  EXPECT_THROW(openObjectStore("s3://bucket?endpoint=%ZZ", testS3Options()), ObjectStoreError);
}

TEST(S3StoreOptionsCheck, RejectsInvalidOptions) {
  S3StoreOptions options = testS3Options();
  options.bucket = "txguard-reports";
  EXPECT_NO_THROW(S3Store{options});

  S3StoreOptions no_credentials = options;
  no_credentials.credentials = {};
  EXPECT_THROW(S3Store{no_credentials}, ObjectStoreError);

  S3StoreOptions small_parts = options;
  small_parts.part_size_bytes = (5ULL << 20) - 1;
  EXPECT_THROW(S3Store{small_parts}, ObjectStoreError);

  S3StoreOptions bad_endpoint = options;
  bad_endpoint.endpoint = "127.0.0.1:9000";
  EXPECT_THROW(S3Store{bad_endpoint}, ObjectStoreError);
  bad_endpoint.endpoint = "ftp://127.0.0.1";
  EXPECT_THROW(S3Store{bad_endpoint}, ObjectStoreError);

  S3StoreOptions bad_page = options;
  bad_page.list_page_size = 1001;
  EXPECT_THROW(S3Store{bad_page}, ObjectStoreError);
}

TEST(S3StoreDownloadLink, UsesPublicEndpointAndEncodesKey) {
  S3StoreOptions options = testS3Options();
  options.bucket = "txguard-reports";
  options.public_endpoint = "https://files.example.com:443/";
  S3Store store(options);

  std::string link = store.downloadLink("reports/a b.txt", std::chrono::hours(1));
  EXPECT_EQ(link.rfind("https://files.example.com/txguard-reports/reports/a%20b.txt?", 0), 0U)
      << link;
  EXPECT_NE(link.find("X-Amz-Expires=3600&"), std::string::npos) << link;
  EXPECT_NE(link.find("X-Amz-Credential=KEY%2F"), std::string::npos) << link;
  EXPECT_THROW(store.downloadLink("k", std::chrono::hours(24 * 8)), ObjectStoreError);
}

}  // namespace
}  // namespace txguard
