#include "store/s3_xml.h"

#include <gtest/gtest.h>

namespace txguard::s3xml {
namespace {

TEST(S3XmlUnescape, PredefinedEntities) {
  EXPECT_EQ(unescape("a&amp;b&lt;c&gt;d&quot;e&apos;f"), "a&b<c>d\"e'f");
}

TEST(S3XmlUnescape, NumericReferences) {
  EXPECT_EQ(unescape("&#38;&#x26;&#xE9;&#8364;"), "&&\xC3\xA9\xE2\x82\xAC");
}

TEST(S3XmlUnescape, RejectsUnknownOrOpenEntity) {
  EXPECT_THROW(unescape("&nbsp;"), ObjectStoreError);
  EXPECT_THROW(unescape("a &amp b"), ObjectStoreError);
  EXPECT_THROW(unescape("&#xZZ;"), ObjectStoreError);
}

TEST(S3XmlEscape, RoundTrips) {
  const std::string text = "reports/<a & 'b'> \"c\"";
  EXPECT_EQ(escape(text), "reports/&lt;a &amp; &apos;b&apos;&gt; &quot;c&quot;");
  EXPECT_EQ(unescape(escape(text)), text);
}

TEST(S3XmlListObjectsV2, ParsesPageWithEscapedKeys) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>r/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>r/a&amp;b &lt;1&gt;.txt</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>r/&#xE9;t&#233;</Key><Size>0</Size></Contents>
  <NextContinuationToken>tok+en/=</NextContinuationToken>
</ListBucketResult>)";
  ListPage page = parseListObjectsV2(xml);

  ASSERT_EQ(page.objects.size(), 2U);
  EXPECT_EQ(page.objects[0].key, "r/a&b <1>.txt");
  EXPECT_EQ(page.objects[0].size_bytes, 12U);
  EXPECT_EQ(page.objects[1].key, "r/\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(page.objects[1].size_bytes, 0U);
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_continuation_token, "tok+en/=");
}

TEST(S3XmlListObjectsV2, ContinuationTokenIsNotNextToken) {
  const std::string xml =
      "<ListBucketResult><ContinuationToken>old</ContinuationToken>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>";
  ListPage page = parseListObjectsV2(xml);
  EXPECT_TRUE(page.objects.empty());
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(page.next_continuation_token, "");
}

TEST(S3XmlListObjectsV2, RejectsBadSize) {
  EXPECT_THROW(parseListObjectsV2("<Contents><Key>k</Key><Size>12x</Size></Contents>"),
               ObjectStoreError);
  EXPECT_THROW(parseListObjectsV2("<Contents><Size>1</Size></Contents>"), ObjectStoreError);
}

TEST(S3XmlElements, SelfClosingAndAttributes) {
  EXPECT_EQ(elementText("<A><B/></A>", "B"), std::optional<std::string>(""));
  EXPECT_EQ(elementText("<A x=\"1\">v</A>", "A"), std::optional<std::string>("v"));
  EXPECT_EQ(elementText("<AB>v</AB>", "A"), std::nullopt);
}

TEST(S3XmlElements, TruncatedDocumentThrows) {
  EXPECT_THROW(elements("<A>unclosed", "A"), ObjectStoreError);
}

TEST(S3XmlError, ParsesCodeAndMessage) {
  ErrorBody error = parseError(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a</Key></Error>");
  EXPECT_EQ(error.code, "NoSuchKey");
  EXPECT_EQ(error.message, "The specified key does not exist.");
}

TEST(S3XmlError, NonErrorBodyHasNoCode) {
  EXPECT_EQ(parseError("<ListBucketResult><Code>x</Code></ListBucketResult>").code, "");
  EXPECT_EQ(parseError("").code, "");
  EXPECT_EQ(parseError("not xml").code, "");
}

TEST(S3XmlRoot, SkipsDeclaration) {
  EXPECT_TRUE(hasRoot("<?xml version=\"1.0\"?>\n<Error></Error>", "Error"));
  EXPECT_FALSE(
      hasRoot("<CompleteMultipartUploadResult><Error/></CompleteMultipartUploadResult>", "Error"));
}

}  // namespace
}  // namespace txguard::s3xml
