#include "sinks/common/curl_http_client.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "testing/http_receiver.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using testing::HttpReceiver;
using testing::ReceivedRequest;

constexpr milliseconds kWait{10000};

// Collects the results of done callbacks and the name of the thread each ran on.
class Results {
 public:
  HttpDone Callback() {
    return [this](Result<HttpResponse> result) {
      char name[32] = {};
      pthread_getname_np(pthread_self(), name, sizeof(name));
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(std::move(result));
      threads_.emplace_back(name);
      changed_.notify_all();
    };
  }

  bool WaitFor(size_t count, milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
  }

  std::vector<Result<HttpResponse>> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  std::vector<std::string> Threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Result<HttpResponse>> results_;
  std::vector<std::string> threads_;
};

HttpRequest Post(const std::string& url, std::string body,
                 milliseconds timeout = milliseconds(10000)) {
  HttpRequest request;
  request.url = url;
  request.body = std::move(body);
  request.timeout = timeout;
  request.headers = {{"Content-Type", "application/json"}, {"X-Test", "yes"}};
  return request;
}

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start().ok()); }

  HttpReceiver receiver_;
  Results results_;
};

TEST_F(CurlHttpClientTest, PostsBodyAndHeadersAndReturnsTheResponse) {
  CurlHttpClient client;
  client.Send(Post(receiver_.url() + "/hooks?x=1", R"({"a":1})"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));

  auto results = results_.Get();
  ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_EQ(results[0]->status, 200);
  EXPECT_EQ(results[0]->body, "ok");

  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hooks?x=1");
  EXPECT_EQ(requests[0].body, R"({"a":1})");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
  EXPECT_EQ(requests[0].Header("X-Test"), "yes");
  EXPECT_FALSE(requests[0].HasHeader("Expect"));
}

TEST_F(CurlHttpClientTest, DoneRunsOnTheClientThread) {
  CurlHttpClient client;
  client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  EXPECT_EQ(results_.Threads()[0], "sluice-http");
}

TEST_F(CurlHttpClientTest, OtherMethodsAndAnEmptyHeaderValue) {
  CurlHttpClient client;
  HttpRequest put = Post(receiver_.url() + "/put", "data");
  put.method = "PUT";
  put.headers.emplace_back("X-Empty", "");
  client.Send(put, results_.Callback());
  HttpRequest get;
  get.method = "GET";
  get.url = receiver_.url() + "/get";
  client.Send(get, results_.Callback());
  ASSERT_TRUE(results_.WaitFor(2));

  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  // Order across connections is not fixed.
  const ReceivedRequest& put_seen = requests[0].method == "PUT" ? requests[0] : requests[1];
  const ReceivedRequest& get_seen = requests[0].method == "PUT" ? requests[1] : requests[0];
  EXPECT_EQ(put_seen.method, "PUT");
  EXPECT_EQ(put_seen.body, "data");
  EXPECT_TRUE(put_seen.HasHeader("X-Empty"));
  EXPECT_EQ(put_seen.Header("X-Empty"), "");
  EXPECT_EQ(get_seen.method, "GET");
  EXPECT_EQ(get_seen.target, "/get");
  EXPECT_EQ(get_seen.body, "");
}

TEST_F(CurlHttpClientTest, ServerErrorArrivesAsAResponseNotAStatus) {
  receiver_.SetResponder([](const ReceivedRequest&) { return 500; });
  CurlHttpClient client;
  client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  auto results = results_.Get();
  ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_EQ(results[0]->status, 500);
  EXPECT_EQ(results[0]->body, "status 500");
}

TEST_F(CurlHttpClientTest, ResponseBodyIsCappedAt64KiB) {
  receiver_.SetReplyFunction([](const ReceivedRequest&) {
    return testing::HttpReply{200, std::string(200 * 1024, 'x')};
  });
  CurlHttpClient client;
  client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  auto results = results_.Get();
  ASSERT_TRUE(results[0].ok());
  EXPECT_EQ(results[0]->body.size(), kMaxHttpResponseBodyBytes);
}

TEST_F(CurlHttpClientTest, ConnectionRefusedIsRetryableAndNamesTheUrl) {
  const std::string url = receiver_.url() + "/hooks";
  receiver_.Stop();
  CurlHttpClient client;
  client.Send(Post(url, "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  auto results = results_.Get();
  ASSERT_FALSE(results[0].ok());
  EXPECT_TRUE(results[0].status().IsRetryable());
  EXPECT_NE(results[0].status().message().find("POST " + url), std::string::npos)
      << results[0].status().message();
}

TEST_F(CurlHttpClientTest, ErrorsNeverContainCredentialsOrQuery) {
  const std::string port = std::to_string(receiver_.port());
  receiver_.Stop();
  CurlHttpClient client;
  client.Send(Post("http://user:hunter2@127.0.0.1:" + port + "/p?token=abc", "{}"),
              results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  auto results = results_.Get();
  ASSERT_FALSE(results[0].ok());
  const std::string& message = results[0].status().message();
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_EQ(message.find("abc"), std::string::npos) << message;
  EXPECT_NE(message.find("http://127.0.0.1:" + port + "/p"), std::string::npos) << message;
}

TEST_F(CurlHttpClientTest, TimeoutIsRetryable) {
  receiver_.SetDelay(milliseconds(20000));
  CurlHttpClient client;
  auto started = std::chrono::steady_clock::now();
  client.Send(Post(receiver_.url(), "{}", milliseconds(300)), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  auto elapsed = std::chrono::steady_clock::now() - started;
  auto results = results_.Get();
  ASSERT_FALSE(results[0].ok());
  EXPECT_TRUE(results[0].status().IsRetryable());
  EXPECT_NE(results[0].status().message().find("timed out"), std::string::npos)
      << results[0].status().message();
  EXPECT_LT(elapsed, milliseconds(5000));
}

TEST_F(CurlHttpClientTest, ReceiverComingBackOnTheSamePortIsReachedAgain) {
  CurlHttpClient client;
  const std::string url = receiver_.url();
  client.Send(Post(url, "1"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  receiver_.Stop();
  client.Send(Post(url, "2"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(2));
  ASSERT_TRUE(receiver_.Start().ok());
  EXPECT_EQ(receiver_.url(), url);
  client.Send(Post(url, "3"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(3));

  auto results = results_.Get();
  EXPECT_TRUE(results[0].ok());
  EXPECT_FALSE(results[1].ok());
  ASSERT_TRUE(results[2].ok()) << results[2].status().ToString();
  EXPECT_EQ(results[2]->status, 200);
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseOneConnection) {
  CurlHttpClient client;
  for (int i = 0; i < 5; ++i) {
    client.Send(Post(receiver_.url(), std::to_string(i)), results_.Callback());
    ASSERT_TRUE(results_.WaitFor(i + 1));
  }
  for (const auto& result : results_.Get()) EXPECT_TRUE(result.ok());
  EXPECT_EQ(receiver_.ConnectionsAccepted(), 1u);
  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].connection_id, requests[4].connection_id);
}

TEST_F(CurlHttpClientTest, ConcurrentTransfersAreCappedAndTheRestQueue) {
  receiver_.SetDelay(milliseconds(150));
  CurlHttpClient client(/*max_concurrent_transfers=*/3);
  for (int i = 0; i < 10; ++i) client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(10));
  for (const auto& result : results_.Get()) EXPECT_TRUE(result.ok());
  EXPECT_EQ(receiver_.RequestCount(), 10u);
  EXPECT_EQ(receiver_.MaxInFlight(), 3);
}

TEST_F(CurlHttpClientTest, ShutdownFailsQueuedAndInFlightRequests) {
  receiver_.SetDelay(milliseconds(60000));
  CurlHttpClient client(/*max_concurrent_transfers=*/1);
  for (int i = 0; i < 3; ++i) client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(receiver_.WaitForRequests(1, kWait));

  auto started = std::chrono::steady_clock::now();
  client.Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(5000));
  ASSERT_TRUE(results_.WaitFor(3, milliseconds(0)));
  for (const auto& result : results_.Get()) {
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.status().IsRetryable());
    EXPECT_NE(result.status().message().find("shut down"), std::string::npos);
  }
  EXPECT_EQ(receiver_.RequestCount(), 1u);
}

TEST_F(CurlHttpClientTest, SendAfterShutdownFailsAtOnce) {
  CurlHttpClient client;
  client.Shutdown();
  client.Shutdown();
  client.Send(Post(receiver_.url(), "{}"), results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1, milliseconds(0)));
  EXPECT_TRUE(results_.Get()[0].status().IsRetryable());
}

TEST_F(CurlHttpClientTest, ShutdownFromADoneCallbackDoesNotDeadlock) {
  auto client = std::make_unique<CurlHttpClient>();
  CurlHttpClient* raw = client.get();
  HttpDone inner = results_.Callback();
  client->Send(Post(receiver_.url(), "{}"), [raw, inner](Result<HttpResponse> result) {
    raw->Shutdown();
    inner(std::move(result));
  });
  ASSERT_TRUE(results_.WaitFor(1));
  client.reset();
}

TEST_F(CurlHttpClientTest, HeaderWithALineBreakIsRejected) {
  CurlHttpClient client;
  HttpRequest request = Post(receiver_.url(), "{}");
  request.headers.emplace_back("X-Bad", "a\r\nX-Injected: 1");
  client.Send(request, results_.Callback());
  ASSERT_TRUE(results_.WaitFor(1));
  EXPECT_TRUE(results_.Get()[0].status().IsPermanent());
  EXPECT_EQ(receiver_.RequestCount(), 0u);
}

TEST(RedactUrlTest, DropsCredentialsAndQuery) {
  EXPECT_EQ(RedactUrl("https://u:p@host:8443/a/b?token=x#f"), "https://host:8443/a/b");
  EXPECT_EQ(RedactUrl("http://host"), "http://host");
  EXPECT_EQ(RedactUrl("http://host?x=1"), "http://host");
  EXPECT_EQ(RedactUrl("http://a@b@host/p"), "http://host/p");
  EXPECT_EQ(RedactUrl("http://host/p@q"), "http://host/p@q");
}

}  // namespace
}  // namespace sluice
