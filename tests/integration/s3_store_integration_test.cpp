// S3Store against a real s3rver from scripts/local-stack.sh.
//
// NOTE: s3rver 3.7 checks that a SigV4 request is well formed and names a
// known access key, but does not verify the signature itself. Signature
// correctness is covered by tests/store/sigv4_test.cpp with AWS's vectors.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>

#include "store/s3_store.h"
#include "support/stack_env.h"

namespace txguard {
namespace {

class S3StoreIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::map<std::string, std::string>> env = test_support::loadStackEnv();
    if (!env) {
      GTEST_SKIP() << "TXGUARD_STACK_ENV is not set; run through ctest, which starts the stack";
    }
    options_.endpoint = test_support::requireStackValue(*env, "TXGUARD_S3_ENDPOINT");
    options_.region = test_support::requireStackValue(*env, "TXGUARD_S3_REGION");
    options_.bucket = test_support::requireStackValue(*env, "TXGUARD_S3_BUCKET_REPORTS");
    options_.credentials.access_key_id =
        test_support::requireStackValue(*env, "TXGUARD_S3_ACCESS_KEY_ID");
    options_.credentials.secret_access_key =
        test_support::requireStackValue(*env, "TXGUARD_S3_SECRET_ACCESS_KEY");
    options_.retry.max_attempts = 3;
    options_.retry.base_delay = std::chrono::milliseconds(20);
    options_.on_retry = [this](const S3RetryEvent&) { ++retries_; };

    // Keys are unique per process and test, so reruns against one stack and
    // tests running in parallel do not see each other's objects.
    prefix_ = "it-" + std::to_string(::getpid()) + "/" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  S3StoreOptions options_;
  std::string prefix_;
  std::atomic<int> retries_{0};
};

std::string randomBytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) {
    byte = static_cast<char>(random() & 0xFF);
  }
  return bytes;
}

// Fetches `url` with plain libcurl, as a browser would follow a link.
std::pair<long, std::string> fetch(const std::string& url) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* out) {
        static_cast<std::string*>(out)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return {-1, curl_easy_strerror(code)};
  }
  return {status, body};
}

// A loopback port with no listener: bound, then released.
int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST_F(S3StoreIntegrationTest, CreateBucketIsIdempotent) {
  S3StoreOptions options = options_;
  options.bucket = "txguard-it-" + std::to_string(::getpid());
  S3Store store(options);
  store.createBucket();
  store.createBucket();

  store.put("k", "v", "text/plain");
  EXPECT_EQ(store.get("k").value_or("<missing>"), "v");
  EXPECT_EQ(retries_, 0);
}

TEST_F(S3StoreIntegrationTest, PutGetHeadRoundTrip) {
  S3Store store(options_);
  const std::string key = prefix_ + "reports/2024/03/01/tx 1&b+c=é.txt";
  const std::string body = randomBytes(4096, 1);
  store.put(key, body, "application/octet-stream");

  std::optional<std::string> read = store.get(key);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, body);

  std::optional<ObjectInfo> info = store.head(key);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size_bytes, body.size());
  EXPECT_TRUE(store.exists(key));
}

TEST_F(S3StoreIntegrationTest, MissingObjectIsNullopt) {
  S3Store store(options_);
  EXPECT_FALSE(store.get(prefix_ + "absent").has_value());
  EXPECT_FALSE(store.exists(prefix_ + "absent"));
  EXPECT_FALSE(store.head(prefix_ + "absent").has_value());
  EXPECT_EQ(retries_, 0);
}

TEST_F(S3StoreIntegrationTest, OverwriteAndRemove) {
  S3Store store(options_);
  const std::string key = prefix_ + "model/current";
  store.put(key, "v1", "text/plain");
  store.put(key, "v2", "text/plain");
  EXPECT_EQ(store.get(key).value_or("<missing>"), "v2");

  store.remove(key);
  EXPECT_FALSE(store.exists(key));
  store.remove(key);  // deleting a missing key succeeds, as on S3
}

TEST_F(S3StoreIntegrationTest, ListFollowsContinuationTokens) {
  S3StoreOptions options = options_;
  options.list_page_size = 2;  // 7 keys need 4 pages
  S3Store store(options);
  std::vector<std::string> keys;
  for (int i = 6; i >= 0; --i) {
    keys.push_back(prefix_ + "page/" + std::to_string(i) + (i % 2 == 0 ? "&<x>" : ""));
    store.put(keys.back(), std::string(static_cast<std::size_t>(i), 'z'), "text/plain");
  }
  store.put(prefix_ + "other/not-listed", "x", "text/plain");
  std::sort(keys.begin(), keys.end());

  std::vector<ObjectInfo> listed = store.list(prefix_ + "page/");
  ASSERT_EQ(listed.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(listed[i].key, keys[i]);
    EXPECT_EQ(listed[i].size_bytes, static_cast<std::uint64_t>(keys[i][prefix_.size() + 5] - '0'));
  }
}

TEST_F(S3StoreIntegrationTest, MultipartUploadAboveFiveMebibytes) {
  S3StoreOptions options = options_;
  options.part_size_bytes = 5ULL << 20;
  S3Store store(options);
  const std::string key = prefix_ + "archive/big.bin";
  // Two full parts and a short third one.
  const std::string body = randomBytes((11ULL << 20) + 123, 2);
  store.put(key, body, "application/octet-stream");

  std::optional<ObjectInfo> info = store.head(key);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size_bytes, body.size());
  std::optional<std::string> read = store.get(key);
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(*read == body) << "multipart object differs from the uploaded bytes";
}

TEST_F(S3StoreIntegrationTest, PresignedLinkDownloadsObject) {
  S3StoreOptions options = options_;
  // A different spelling of the same server, to check the link uses it.
  options.public_endpoint = options_.endpoint + "/";
  S3Store store(options);
  const std::string key = prefix_ + "reports/link me.txt";
  store.put(key, "fraud report body", "text/plain");

  std::string link = store.downloadLink(key, std::chrono::minutes(5));
  ASSERT_EQ(link.rfind(options_.endpoint + "/", 0), 0U) << link;
  auto [status, body] = fetch(link);
  EXPECT_EQ(status, 200) << body;
  EXPECT_EQ(body, "fraud report body");
}

TEST_F(S3StoreIntegrationTest, UnreachableServerRetriesThenFails) {
  S3StoreOptions options = options_;
  options.endpoint = "http://127.0.0.1:" + std::to_string(closedPort());
  options.connect_timeout = std::chrono::milliseconds(500);
  std::vector<S3RetryEvent> events;
  options.on_retry = [&events](const S3RetryEvent& event) { events.push_back(event); };
  S3Store store(options);

  try {
    store.put(prefix_ + "k", "v", "text/plain");
    FAIL() << "expected ObjectStoreError";
  } catch (const ObjectStoreError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("PutObject"), std::string::npos) << message;
    EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
    EXPECT_NE(message.find(options.endpoint), std::string::npos) << message;
  }
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].failed_attempt, 1);
  EXPECT_EQ(events[1].failed_attempt, 2);
  EXPECT_EQ(events[0].operation, "PutObject");
  EXPECT_FALSE(events[0].reason.empty());
}

TEST_F(S3StoreIntegrationTest, ClientErrorIsNotRetried) {
  S3StoreOptions options = options_;
  options.bucket = "txguard-no-such-bucket";
  S3Store store(options);
  try {
    store.get("k");
    FAIL() << "expected ObjectStoreError";
  } catch (const ObjectStoreError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("HTTP 404 NoSuchBucket"), std::string::npos) << message;
    EXPECT_NE(message.find("after 1 attempt:"), std::string::npos) << message;
  }
  EXPECT_EQ(retries_, 0);
}

TEST_F(S3StoreIntegrationTest, WrongAccessKeyIsRejected) {
  S3StoreOptions options = options_;
  options.credentials.access_key_id = "NOT-S3RVER";
  S3Store store(options);
  try {
    store.put(prefix_ + "k", "v", "text/plain");
    FAIL() << "expected ObjectStoreError";
  } catch (const ObjectStoreError& error) {
    EXPECT_NE(std::string(error.what()).find("InvalidAccessKeyId"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(retries_, 0);
}

}  // namespace
}  // namespace txguard
