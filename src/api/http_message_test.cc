#include "api/http_message.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace sluice::api {
namespace {

Response WithStatus(int status) {
  Response response;
  response.status = status;
  return response;
}

TEST(RequestTest, HeaderLookupIsCaseInsensitiveAndFirstWins) {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("X-a"), "1");
  EXPECT_EQ(request.Header("missing"), "");
}

TEST(ResponderTest, FirstResponseWinsAndLaterOnesAreDropped) {
  std::vector<int> delivered;
  Responder respond([&](Response r) { delivered.push_back(r.status); });
  Responder copy = respond;
  respond(WithStatus(200));
  copy(WithStatus(404));
  EXPECT_EQ(delivered, std::vector<int>{200});
}

TEST(ResponderTest, DroppingEveryCopyWithoutAnsweringSends500) {
  std::optional<Response> delivered;
  {
    Responder respond([&](Response r) { delivered = std::move(r); });
    Responder copy = respond;
  }
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->status, 500);
  EXPECT_NE(delivered->body.find("\"code\":\"internal\""), std::string::npos);
}

TEST(ResponderTest, CancelRunsOnCancelAndDropsTheLateResponse) {
  int delivered = 0;
  int cancelled = 0;
  Responder respond([&](Response) { ++delivered; });
  respond.OnCancel([&] { ++cancelled; });
  respond.GetCancelHandle().Cancel();
  EXPECT_TRUE(respond.Cancelled());
  EXPECT_EQ(cancelled, 1);
  respond(Response{});
  EXPECT_EQ(delivered, 0);
}

TEST(ResponderTest, OnCancelAfterCancellationRunsAtOnce) {
  Responder respond([](Response) {});
  respond.GetCancelHandle().Cancel();
  int cancelled = 0;
  respond.OnCancel([&] { ++cancelled; });
  EXPECT_EQ(cancelled, 1);
}

TEST(ResponderTest, RespondingDropsTheCancelCallback) {
  int cancelled = 0;
  Responder respond([](Response) {});
  respond.OnCancel([&] { ++cancelled; });
  respond(Response{});
  respond.GetCancelHandle().Cancel();
  respond.OnCancel([&] { ++cancelled; });
  EXPECT_EQ(cancelled, 0);
  EXPECT_FALSE(respond.Cancelled());
  EXPECT_TRUE(respond.GetCancelHandle().Answered());
}

TEST(ResponderTest, CancelHandleDoesNotKeepTheResponderAlive) {
  std::optional<int> status;
  Responder::CancelHandle handle;
  {
    Responder respond([&](Response r) { status = r.status; });
    handle = respond.GetCancelHandle();
  }
  EXPECT_EQ(status, 500);  // not answered by the handler: the safety net fired
  EXPECT_TRUE(handle.Answered());
}

}  // namespace
}  // namespace sluice::api
