#include "sinks/common/standard_webhooks.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

// The test vector of the standard-webhooks reference libraries, checked
// independently with Python's hmac and `openssl dgst -sha256 -mac HMAC`.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr char kPayload[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(StandardWebhooksTest, SignsTheSpecTestVector) {
  auto signer = StandardWebhooksSigner::FromSecret(kSecret);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ(signer->Sign(kId, kTimestamp, kPayload), kSignature);
}

TEST(StandardWebhooksTest, AddHeadersAppendsIdTimestampAndSignature) {
  auto signer = StandardWebhooksSigner::FromSecret(kSecret);
  ASSERT_TRUE(signer.ok());
  std::vector<std::pair<std::string, std::string>> headers = {{"X-Other", "1"}};
  signer->AddHeaders(kId, kTimestamp, kPayload, headers);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"webhook-id", kId}));
  EXPECT_EQ(headers[2], (std::pair<std::string, std::string>{"webhook-timestamp", "1614265330"}));
  EXPECT_EQ(headers[3], (std::pair<std::string, std::string>{"webhook-signature", kSignature}));
}

TEST(StandardWebhooksTest, VerifyAcceptsAnyOfSeveralSignatures) {
  auto signer = StandardWebhooksSigner::FromSecret(kSecret);
  ASSERT_TRUE(signer.ok());
  EXPECT_TRUE(signer->Verify(kId, kTimestamp, kPayload, kSignature));
  EXPECT_TRUE(
      signer->Verify(kId, kTimestamp, kPayload,
                     std::string("v1,Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmE= ") + kSignature));
}

TEST(StandardWebhooksTest, VerifyRejectsATamperedBodyIdOrTimestamp) {
  auto signer = StandardWebhooksSigner::FromSecret(kSecret);
  ASSERT_TRUE(signer.ok());
  EXPECT_FALSE(signer->Verify(kId, kTimestamp, R"({"test": 2432232315})", kSignature));
  EXPECT_FALSE(signer->Verify("msg_other", kTimestamp, kPayload, kSignature));
  EXPECT_FALSE(signer->Verify(kId, kTimestamp + 1, kPayload, kSignature));
  EXPECT_FALSE(signer->Verify(kId, kTimestamp, kPayload, ""));
  EXPECT_FALSE(signer->Verify(kId, kTimestamp, kPayload, "v1,"));
}

TEST(StandardWebhooksTest, SecretWithoutPrefixIsUsedAsRawBytes) {
  // HMAC-SHA256(key="secret", "id.1.body"), computed with Python's hmac.
  auto signer = StandardWebhooksSigner::FromSecret("secret");
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->Sign("id", 1, "body"), "v1,9B5YClxBsTRwBx8HAr63WE8WGNAI5scE+LpN4MVSXgM=");
}

TEST(StandardWebhooksTest, PrefixedSecretThatIsNotBase64IsAnError) {
  auto signer = StandardWebhooksSigner::FromSecret("whsec_not*base64");
  ASSERT_FALSE(signer.ok());
  EXPECT_TRUE(signer.status().IsPermanent());
  EXPECT_EQ(signer.status().message().find("not*base64"), std::string::npos)
      << "the error must not echo the secret";
}

TEST(StandardWebhooksTest, EmptySecretIsAnError) {
  EXPECT_FALSE(StandardWebhooksSigner::FromSecret("").ok());
  EXPECT_FALSE(StandardWebhooksSigner::FromSecret("whsec_").ok());
}

}  // namespace
}  // namespace sluice
