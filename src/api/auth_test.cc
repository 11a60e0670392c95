#include "api/auth.h"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

Authenticator WithTokens() {
  auto auth = Authenticator::Create({{"ops", "s3cret-token"}, {"ci", "other-token"}}, false,
                                    "0.0.0.0:7376");
  EXPECT_TRUE(auth.ok()) << auth.status().ToString();
  return std::move(auth).value();
}

std::string Challenge(const Authenticator::Decision& decision) {
  if (!decision.rejection) return "";
  for (const auto& [key, value] : decision.rejection->headers) {
    if (key == "WWW-Authenticate") return value;
  }
  return "";
}

TEST(AuthenticatorTest, RightTokenIsAcceptedAndNamed) {
  const Authenticator auth = WithTokens();
  EXPECT_TRUE(auth.required());
  Authenticator::Decision d = auth.Check("Bearer other-token");
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.token_name, "ci");
}

TEST(AuthenticatorTest, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  const Authenticator auth = WithTokens();
  EXPECT_TRUE(auth.Check("bearer   s3cret-token  ").allowed());
  EXPECT_TRUE(auth.Check("BEARER\ts3cret-token").allowed());
}

TEST(AuthenticatorTest, MissingHeaderIs401WithPlainChallenge) {
  const Authenticator::Decision d = WithTokens().Check("");
  ASSERT_FALSE(d.allowed());
  EXPECT_EQ(d.rejection->status, 401);
  EXPECT_EQ(Challenge(d), "Bearer realm=\"sluice\"");
  EXPECT_NE(d.rejection->body.find("missing API token"), std::string::npos);
}

TEST(AuthenticatorTest, WrongTokenIs401InvalidToken) {
  const Authenticator::Decision d = WithTokens().Check("Bearer s3cret-tokeN");
  ASSERT_FALSE(d.allowed());
  EXPECT_EQ(d.rejection->status, 401);
  EXPECT_EQ(Challenge(d), "Bearer realm=\"sluice\", error=\"invalid_token\"");
}

TEST(AuthenticatorTest, PrefixOrExtensionOfATokenIsRejected) {
  const Authenticator auth = WithTokens();
  EXPECT_FALSE(auth.Check("Bearer s3cret").allowed());
  EXPECT_FALSE(auth.Check("Bearer s3cret-token-and-more").allowed());
}

TEST(AuthenticatorTest, OtherSchemesAndEmptyTokensAreRejected) {
  const Authenticator auth = WithTokens();
  EXPECT_FALSE(auth.Check("Basic b3BzOnMzY3JldA==").allowed());
  EXPECT_FALSE(auth.Check("Bearer").allowed());
  EXPECT_FALSE(auth.Check("Bearer    ").allowed());
  EXPECT_FALSE(auth.Check("Bearers3cret-token").allowed());
}

TEST(AuthenticatorTest, NoTokensOnLoopbackIsOpen) {
  auto auth = Authenticator::Create({}, true, "127.0.0.1:7376");
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE(auth->required());
  const Authenticator::Decision d = auth->Check("");
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.token_name, "");
}

TEST(AuthenticatorTest, NoTokensOnANonLoopbackAddressIsRefused) {
  auto auth = Authenticator::Create({}, false, "0.0.0.0:7376");
  ASSERT_FALSE(auth.ok());
  EXPECT_TRUE(auth.status().IsPermanent());
  EXPECT_NE(auth.status().message().find("server.listen \"0.0.0.0:7376\" is not a loopback"),
            std::string::npos);
  EXPECT_NE(auth.status().message().find("api_tokens"), std::string::npos);
}

}  // namespace
}  // namespace sluice::api
