#include "api/router.h"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

Handler Named(std::string) {
  return [](Request, Responder respond) { respond(Response{}); };
}

using Kind = Router::Match::Kind;

TEST(RouterTest, PathParamsAreCaptured) {
  Router router;
  ASSERT_TRUE(router.Add("POST", "/api/streams/{name}/receive", Named("receive")).ok());
  Router::Match m = router.Find("POST", "/api/streams/orders/receive");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.pattern, "/api/streams/{name}/receive");
  EXPECT_EQ(m.params.at("name"), "orders");
  EXPECT_NE(m.handler, nullptr);
}

TEST(RouterTest, PercentEncodedParamIsDecodedAndSlashStaysInside) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/api/sinks/{name}", Named("sink")).ok());
  Router::Match m = router.Find("GET", "/api/sinks/a%2Fb%20c");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params.at("name"), "a/b c");
}

TEST(RouterTest, BadPercentEncodingIsABadPath) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/api/sinks/{name}", Named("sink")).ok());
  EXPECT_EQ(router.Find("GET", "/api/sinks/a%2").kind, Kind::kBadPath);
  EXPECT_EQ(router.Find("GET", "/api/sinks/a%zz").kind, Kind::kBadPath);
  EXPECT_EQ(router.Find("GET", "api/sinks/x").kind, Kind::kBadPath);
}

TEST(RouterTest, LiteralSegmentBeatsParameter) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/api/sinks/{name}", Named("one")).ok());
  ASSERT_TRUE(router.Add("GET", "/api/sinks/_all", Named("all")).ok());
  EXPECT_EQ(router.Find("GET", "/api/sinks/_all").pattern, "/api/sinks/_all");
  EXPECT_EQ(router.Find("GET", "/api/sinks/orders").pattern, "/api/sinks/{name}");
}

TEST(RouterTest, UnknownPathIsNotFound) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/health", Named("health")).ok());
  EXPECT_EQ(router.Find("GET", "/nope").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/health/").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/").kind, Kind::kNotFound);
}

TEST(RouterTest, EmptySegmentDoesNotMatchAParameter) {
  Router router;
  ASSERT_TRUE(router.Add("POST", "/api/streams/{name}/ack", Named("ack")).ok());
  EXPECT_EQ(router.Find("POST", "/api/streams//ack").kind, Kind::kNotFound);
}

TEST(RouterTest, WrongMethodListsAllowedMethodsSorted) {
  Router router;
  ASSERT_TRUE(router.Add("POST", "/api/x/{id}", Named("post")).ok());
  ASSERT_TRUE(router.Add("GET", "/api/x/{id}", Named("get")).ok());
  ASSERT_TRUE(router.Add("DELETE", "/api/x/special", Named("delete")).ok());
  Router::Match m = router.Find("PUT", "/api/x/special");
  ASSERT_EQ(m.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET", "POST"}));
}

TEST(RouterTest, RootPatternMatchesOnlyRoot) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/", Named("root")).ok());
  EXPECT_EQ(router.Find("GET", "/").kind, Kind::kFound);
  EXPECT_EQ(router.Find("GET", "/x").kind, Kind::kNotFound);
}

TEST(RouterTest, SameShapeTwiceIsAnError) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/api/x/{a}", Named("a")).ok());
  const Status st = router.Add("GET", "/api/x/{b}", Named("b"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "route GET /api/x/{b} conflicts with GET /api/x/{a}");
  EXPECT_TRUE(router.Add("POST", "/api/x/{b}", Named("b")).ok());
}

TEST(RouterTest, MalformedPatternsAreErrors) {
  Router router;
  EXPECT_FALSE(router.Add("GET", "api/x", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api//x", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/x/", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/{x", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/{}", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/{a-b}", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/{a}/{a}", Named("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/api/a%20b", Named("x")).ok());
  EXPECT_FALSE(router.Add("", "/api", Named("x")).ok());
}

TEST(RouterTest, AddSyncAnswersWithTheReturnedResponse) {
  Router router;
  ASSERT_TRUE(router
                  .AddSync("GET", "/api/echo/{v}",
                           [](const Request& r) {
                             Response response;
                             response.status = 201;
                             response.body = std::string(r.PathParam("v"));
                             return response;
                           })
                  .ok());
  Router::Match m = router.Find("GET", "/api/echo/hi");
  ASSERT_EQ(m.kind, Kind::kFound);
  Request request;
  request.path_params = m.params;
  std::optional<Response> got;
  (*m.handler)(request, Responder([&](Response r) { got = std::move(r); }));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 201);
  EXPECT_EQ(got->body, "hi");
}

}  // namespace
}  // namespace sluice::api
