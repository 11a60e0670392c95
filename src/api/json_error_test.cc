#include "api/json_error.h"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

std::string HeaderOf(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(JsonErrorTest, EnvelopeHasCodeAndMessage) {
  const Response r = ErrorResponse(404, ErrorCode::kNotFound, "no stream \"x\"");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no stream \"x\""}})");
}

TEST(JsonErrorTest, InvalidUtf8InMessageIsReplacedNotThrown) {
  const Response r = BadRequest(std::string("bad \xff byte"));
  EXPECT_EQ(r.body, "{\"error\":{\"code\":\"bad_request\",\"message\":\"bad \xEF\xBF\xBD byte\"}}");
}

TEST(JsonErrorTest, UnauthorizedCarriesBearerChallenge) {
  EXPECT_EQ(HeaderOf(Unauthorized("missing"), "WWW-Authenticate"), "Bearer realm=\"sluice\"");
  EXPECT_EQ(HeaderOf(Unauthorized("wrong", "invalid_token"), "WWW-Authenticate"),
            "Bearer realm=\"sluice\", error=\"invalid_token\"");
}

TEST(JsonErrorTest, MethodNotAllowedListsAllowedMethods) {
  const Response r = MethodNotAllowed("DELETE", "/health", {"GET", "POST"});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "Allow"), "GET, POST");
  EXPECT_NE(r.body.find("DELETE is not allowed on /health; allowed: GET, POST"), std::string::npos);
}

TEST(JsonErrorTest, TooManyRequestsRoundsRetryAfterUp) {
  const Response r = TooManyRequests("too many waiting", std::chrono::milliseconds(1500));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "2");
  EXPECT_EQ(HeaderOf(TooManyRequests("x"), "Retry-After"), "");
}

TEST(JsonErrorTest, InvalidArgumentNamesTheField) {
  EXPECT_EQ(
      InvalidArgument("batch_size", "must be between 1 and 1000, got 5000").body,
      R"({"error":{"code":"invalid_argument","message":"batch_size: must be between 1 and 1000, got 5000"}})");
}

TEST(ParseJsonObjectTest, EmptyBodyIsAnEmptyObject) {
  auto parsed = ParseJsonObject(" \r\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, nlohmann::json::object());
}

TEST(ParseJsonObjectTest, SyntaxErrorSaysWhere) {
  auto parsed = ParseJsonObject("{\"batch_size\": }");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.status().IsPermanent());
  EXPECT_EQ(
      parsed.status().message().rfind("request body is not valid JSON: parse error at line 1, "
                                      "column 16",
                                      0),
      0u)
      << parsed.status().message();
  const Response r = MalformedJson(parsed.status());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":\"malformed_json\""), std::string::npos);
}

TEST(ParseJsonObjectTest, NonObjectIsRejected) {
  auto parsed = ParseJsonObject("[1, 2]");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "request body must be a JSON object, got an array");
}

TEST(ParseJsonObjectTest, InvalidUtf8IsAParseErrorNotACrash) {
  auto parsed = ParseJsonObject("{\"a\": \"\xff\"}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(MalformedJson(parsed.status()).status, 400);
  EXPECT_FALSE(MalformedJson(parsed.status()).body.empty());
}

TEST(ParseJsonObjectTest, DeeplyNestedBodyDoesNotOverflowTheStack) {
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto parsed = ParseJsonObject(deep);
  EXPECT_TRUE(parsed.ok());
}

}  // namespace
}  // namespace sluice::api
