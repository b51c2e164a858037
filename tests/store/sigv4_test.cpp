// Expected values come from AWS's published SigV4 examples:
//  - Amazon S3 API Reference, "Signature Calculations for the Authorization
//    Header: Transferring Payload in a Single Chunk" (GET Object, PUT Object,
//    GET Bucket Lifecycle, Get Bucket (List Objects)) and "Authenticating
//    Requests: Using Query Parameters" (presigned GET of test.txt).
//    Key AKIAIOSFODNN7EXAMPLE, bucket examplebucket, 20130524T000000Z.
//  - The aws-sig-v4-test-suite (AWS General Reference, "Signature Version 4
//    test suite"): get-vanilla, get-vanilla-query-order-key-case,
//    post-x-www-form-urlencoded. Key AKIDEXAMPLE, service "service",
//    20150830T123600Z.
#include "store/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>

#include "store/object_store.h"

namespace txguard::sigv4 {
namespace {

const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kS3DocScope{"us-east-1", "s3", "20130524T000000Z"};
constexpr const char* kS3DocHost = "examplebucket.s3.amazonaws.com";

const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kSuiteScope{"us-east-1", "service", "20150830T123600Z"};

RequestToSign s3DocRequest(std::string method, std::string path, Parameters query,
                           Parameters extra_headers, std::string payload_hash) {
  RequestToSign request{std::move(method), std::move(path), std::move(query), {}, payload_hash};
  request.headers = {{"Host", kS3DocHost},
                     {"x-amz-date", "20130524T000000Z"},
                     {"x-amz-content-sha256", payload_hash}};
  for (auto& header : extra_headers) {
    request.headers.push_back(std::move(header));
  }
  return request;
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  RequestToSign request = s3DocRequest("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}},
                                       std::string(kEmptyPayloadHash));
  Signature signature = signRequest(request, kS3DocCredentials, kS3DocScope);

  EXPECT_EQ(
      signature.canonical_request,
      "GET\n/test.txt\n\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(signature.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(signature.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectWithDollarInKey) {
  const std::string payload_hash = sha256Hex("Welcome to Amazon S3.");
  ASSERT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  RequestToSign request = s3DocRequest(
      "PUT", "/test$file.text", {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      payload_hash);
  Signature signature = signRequest(request, kS3DocCredentials, kS3DocScope);

  EXPECT_EQ(signature.canonical_request.substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(signature.signed_headers,
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(sha256Hex(signature.canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signature.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycle) {
  RequestToSign request =
      s3DocRequest("GET", "/", {{"lifecycle", ""}}, {}, std::string(kEmptyPayloadHash));
  Signature signature = signRequest(request, kS3DocCredentials, kS3DocScope);

  EXPECT_NE(signature.canonical_request.find("\n/\nlifecycle=\n"), std::string::npos)
      << signature.canonical_request;
  EXPECT_EQ(signature.signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, GetBucketListObjects) {
  // Given out of order on purpose: the canonical query must sort them.
  RequestToSign request = s3DocRequest("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {},
                                       std::string(kEmptyPayloadHash));
  Signature signature = signRequest(request, kS3DocCredentials, kS3DocScope);

  EXPECT_NE(signature.canonical_request.find("\n/\nmax-keys=2&prefix=J\n"), std::string::npos)
      << signature.canonical_request;
  EXPECT_EQ(signature.signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Examples, PresignedGetObject) {
  RequestToSign request{"GET", "/test.txt", {}, {{"Host", kS3DocHost}}, ""};
  std::string query =
      presignQuery(request, kS3DocCredentials, kS3DocScope, std::chrono::seconds(86400));

  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3Examples, PresignedCanonicalRequest) {
  // The canonical request the presigned example above is built from, as the
  // S3 documentation prints it.
  RequestToSign request{
      "GET",
      "/test.txt",
      {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
       {"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"},
       {"X-Amz-Date", "20130524T000000Z"},
       {"X-Amz-Expires", "86400"},
       {"X-Amz-SignedHeaders", "host"}},
      {{"host", kS3DocHost}},
      std::string(kUnsignedPayload)};
  Signature signature = signRequest(request, kS3DocCredentials, kS3DocScope);

  EXPECT_EQ(signature.canonical_request,
            "GET\n/test.txt\n"
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
}

TEST(SigV4TestSuite, GetVanilla) {
  RequestToSign request{"GET",
                        "/",
                        {},
                        {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                        sha256Hex("")};
  Signature signature = signRequest(request, kSuiteCredentials, kSuiteScope);

  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(signature.signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4TestSuite, GetVanillaQueryOrderKeyCase) {
  RequestToSign request{"GET",
                        "/",
                        {{"Param2", "value2"}, {"Param1", "value1"}},
                        {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                        sha256Hex("")};
  Signature signature = signRequest(request, kSuiteCredentials, kSuiteScope);

  EXPECT_EQ(signature.canonical_request,
            "GET\n/\nParam1=value1&Param2=value2\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(signature.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4TestSuite, PostFormUrlencoded) {
  RequestToSign request{"POST",
                        "/",
                        {},
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Host", "example.amazonaws.com"},
                         {"X-Amz-Date", "20150830T123600Z"}},
                        sha256Hex("Param1=value1")};
  Signature signature = signRequest(request, kSuiteCredentials, kSuiteScope);

  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(signature.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(signature.signature,
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4Canonical, HeaderValuesTrimmedAndMerged) {
  RequestToSign request{"GET",
                        "/",
                        {},
                        {{"My-Header1", "  a   b\t c  "}, {"host", "h"}, {"my-header1", "second"}},
                        std::string(kEmptyPayloadHash)};
  Signature signature = signRequest(request, kSuiteCredentials, kSuiteScope);

  EXPECT_NE(signature.canonical_request.find("\nhost:h\nmy-header1:a b c,second\n\n"),
            std::string::npos)
      << signature.canonical_request;
  EXPECT_EQ(signature.signed_headers, "host;my-header1");
}

TEST(SigV4UriEncode, KeepsUnreservedCharacters) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  EXPECT_EQ(uriEncode(unreserved), unreserved);
}

TEST(SigV4UriEncode, EncodesReservedCharacters) {
  EXPECT_EQ(uriEncode(" "), "%20");
  EXPECT_EQ(uriEncode("+"), "%2B");
  EXPECT_EQ(uriEncode("*"), "%2A");
  EXPECT_EQ(uriEncode("%"), "%25");
  EXPECT_EQ(uriEncode("="), "%3D");
  EXPECT_EQ(uriEncode("&"), "%26");
  EXPECT_EQ(uriEncode("$"), "%24");
  EXPECT_EQ(uriEncode("a/b"), "a%2Fb");
  EXPECT_EQ(uriEncode("a/b", /*encode_slash=*/false), "a/b");
}

TEST(SigV4UriEncode, EncodesUtf8BytesUppercase) {
  EXPECT_EQ(uriEncode("\xC3\xA9"), "%C3%A9");         // é
  EXPECT_EQ(uriEncode("\xE2\x82\xAC"), "%E2%82%AC");  // €
}

TEST(SigV4CanonicalUri, EncodesEachSegment) {
  EXPECT_EQ(canonicalUri(""), "/");
  EXPECT_EQ(canonicalUri("/"), "/");
  EXPECT_EQ(canonicalUri("/bucket/reports/2024/a b+c.txt"), "/bucket/reports/2024/a%20b%2Bc.txt");
  // S3 signs the path as written: no dot-segment removal, slashes kept.
  EXPECT_EQ(canonicalUri("/bucket/a//b/../c"), "/bucket/a//b/../c");
}

TEST(SigV4CanonicalQuery, SortsByEncodedNameThenValue) {
  Parameters query{{"b", "2"}, {"a", "z"}, {"a", "y"}, {"B", "1"}};
  // Uppercase sorts before lowercase in byte order.
  EXPECT_EQ(canonicalQueryString(query), "B=1&a=y&a=z&b=2");
}

TEST(SigV4CanonicalQuery, EncodesNamesAndValues) {
  Parameters query{{"prefix", "reports/2024 x+y"}, {"continuation-token", "a=b/c"}};
  EXPECT_EQ(canonicalQueryString(query),
            "continuation-token=a%3Db%2Fc&prefix=reports%2F2024%20x%2By");
}

TEST(SigV4CanonicalQuery, EmptyValueKeepsEqualsSign) {
  EXPECT_EQ(canonicalQueryString({{"uploads", ""}}), "uploads=");
}

TEST(SigV4Timestamp, FormatsUtc) {
  auto time = std::chrono::sys_days{std::chrono::year{2013} / 5 / 24} + std::chrono::hours{7} +
              std::chrono::minutes{8} + std::chrono::seconds{9};
  EXPECT_EQ(formatTimestamp(time), "20130524T070809Z");
}

TEST(SigV4Timestamp, RejectsMalformed) {
  RequestToSign request{"GET", "/", {}, {{"host", "h"}}, std::string(kEmptyPayloadHash)};
  SigningScope scope{"us-east-1", "s3", "2013-05-24T00:00:00Z"};
  EXPECT_THROW(signRequest(request, kS3DocCredentials, scope), ObjectStoreError);
}

TEST(SigV4Presign, ExpiryLimits) {
  RequestToSign request{"GET", "/b/k", {}, {{"host", "h"}}, ""};
  EXPECT_THROW(presignQuery(request, kS3DocCredentials, kS3DocScope, std::chrono::seconds(0)),
               ObjectStoreError);
  EXPECT_THROW(presignQuery(request, kS3DocCredentials, kS3DocScope,
                            kMaxPresignExpiry + std::chrono::seconds(1)),
               ObjectStoreError);
  EXPECT_NO_THROW(presignQuery(request, kS3DocCredentials, kS3DocScope, kMaxPresignExpiry));
}

TEST(SigV4Presign, SessionTokenIsSignedParameter) {
  Credentials credentials = kS3DocCredentials;
  credentials.session_token = "token/with+chars";
  RequestToSign request{"GET", "/b/k", {}, {{"host", "h"}}, ""};
  std::string query = presignQuery(request, credentials, kS3DocScope, std::chrono::seconds(60));

  EXPECT_NE(query.find("X-Amz-Security-Token=token%2Fwith%2Bchars&"), std::string::npos) << query;
  std::string without_token =
      presignQuery(request, kS3DocCredentials, kS3DocScope, std::chrono::seconds(60));
  EXPECT_NE(query.substr(query.find("X-Amz-Signature=")),
            without_token.substr(without_token.find("X-Amz-Signature=")));
}

TEST(SigV4SigningKey, MatchesDocumentedDerivation) {
  // AWS General Reference, "Examples of how to derive a signing key for
  // Signature Version 4": secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
  // 20120215, us-east-1, iam.
  EXPECT_EQ(hexEncode(deriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                       "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

}  // namespace
}  // namespace txguard::sigv4
