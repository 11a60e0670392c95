// HttpServer over real sockets on loopback (ports picked by the OS). The test
// client is plain Beast with a deadline on every operation, so a broken
// server fails a test instead of hanging it.
#include "api/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "api/json_error.h"
#include "sinks/common/curl_http_client.h"

namespace sluice::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;

struct Reply {
  int status = 0;
  http::fields headers;
  std::string body;
  bool keep_alive = false;
  std::string Header(http::field field) const { return std::string(headers[field]); }
};

// A blocking HTTP/1.1 client on one connection.
class TestClient {
 public:
  explicit TestClient(uint16_t port) : stream_(io_) {
    stream_.expires_after(kDeadline);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), connect_error_);
  }
  bool connected() const { return !connect_error_; }

  Result<Reply> Send(http::verb method, std::string target, std::string body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    Status written = Write(request);
    if (!written.ok()) return written;
    return Read();
  }

  template <typename Message>
  Status Write(Message& message) {
    beast::error_code ec;
    stream_.expires_after(kDeadline);
    http::async_write(stream_, message, [&](beast::error_code e, size_t) { ec = e; });
    Run();
    return ec ? Status::Retryable("write: " + ec.message()) : Status::Ok();
  }

  Status WriteRaw(std::string bytes) {
    beast::error_code ec;
    stream_.expires_after(kDeadline);
    asio::async_write(stream_, asio::buffer(bytes), [&](beast::error_code e, size_t) { ec = e; });
    Run();
    return ec ? Status::Retryable("write: " + ec.message()) : Status::Ok();
  }

  Result<Reply> Read() {
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    stream_.expires_after(kDeadline);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) return Status::Retryable("read: " + ec.message());
    Reply reply;
    auto& message = parser.get();
    reply.status = static_cast<int>(message.result_int());
    reply.keep_alive = message.keep_alive();
    reply.headers = message.base();
    reply.body = message.body();
    return reply;
  }

  // Reads raw bytes up to and including "\r\n\r\n" (an interim response;
  // nothing may follow it yet).
  Result<std::string> ReadHead() {
    beast::error_code ec;
    std::string head;
    stream_.expires_after(kDeadline);
    asio::async_read_until(stream_, asio::dynamic_buffer(head), "\r\n\r\n",
                           [&](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) return Status::Retryable("read: " + ec.message());
    return head;
  }

  // True when the server closes the connection within the deadline.
  bool ServerClosed(std::chrono::milliseconds within =
                        std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline)) {
    beast::error_code ec;
    char byte;
    stream_.expires_after(within);
    stream_.async_read_some(asio::buffer(&byte, 1), [&](beast::error_code e, size_t) { ec = e; });
    Run();
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void Run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code connect_error_;
};

std::string ErrorCodeOf(const Reply& reply) {
  auto json = nlohmann::json::parse(reply.body, nullptr, false);
  if (json.is_discarded() || !json.contains("error"))
    return "<no error envelope: " + reply.body + ">";
  return json["error"].value("code", "<no code>");
}

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override { Shutdown(); }

  // Creates and starts the server on 127.0.0.1:0 with io threads; `routes`
  // registers handlers first.
  void Serve(std::function<void(HttpServer&)> routes = {}, HttpServerOptions options = {},
             int threads = 2) {
    if (options.listen == HttpServerOptions().listen) options.listen = "127.0.0.1:0";
    auto server = HttpServer::Create(io_, std::move(options), registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    if (routes) routes(*server_);
    server_->Start();
    work_.emplace(io_.get_executor());
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void Shutdown() {
    if (server_) server_->Stop(1s);
    work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
    server_.reset();
  }

  Result<Reply> Get(std::string target,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    TestClient client(server_->port());
    return client.Send(http::verb::get, std::move(target), {}, std::move(headers));
  }

  std::vector<config::ApiToken> Tokens() { return {{"ops", "tok-ops-1234567890"}}; }

  asio::io_context io_;
  metrics::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

Handler Echo() {
  return [](Request request, Responder respond) {
    respond(JsonResponse(200, {{"method", request.method},
                               {"path", request.path},
                               {"query", request.query},
                               {"params", request.path_params},
                               {"token", request.token_name},
                               {"body", request.body}}));
  };
}

TEST_F(HttpServerTest, PortZeroPicksAFreePortAndReportsIt) {
  Serve();
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->local_address(), "127.0.0.1:" + std::to_string(server_->port()));
  auto reply = Get("/health");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, PathParamsAndQueryReachTheHandler) {
  Serve([](HttpServer& s) {
    ASSERT_TRUE(s.router().Add("POST", "/api/streams/{name}/receive", Echo()).ok());
  });
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::post, "/api/streams/or%20ders/receive?x=1", "{}");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->Header(http::field::content_type), "application/json");
  const auto json = nlohmann::json::parse(reply->body);
  EXPECT_EQ(json["params"]["name"], "or ders");
  EXPECT_EQ(json["path"], "/api/streams/or%20ders/receive");
  EXPECT_EQ(json["query"], "x=1");
  EXPECT_EQ(json["body"], "{}");
}

TEST_F(HttpServerTest, UnknownRouteIs404InTheErrorEnvelope) {
  Serve();
  auto reply = Get("/nope");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, R"({"error":{"code":"not_found","message":"no route for GET /nope"}})");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllowHeader) {
  Serve();
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::delete_, "/health");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->Header(http::field::allow), "GET");
  EXPECT_EQ(ErrorCodeOf(*reply), "method_not_allowed");
}

TEST_F(HttpServerTest, BadPercentEncodingIs400) {
  Serve();
  auto reply = Get("/api/x%zz");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(ErrorCodeOf(*reply), "bad_request");
}

TEST_F(HttpServerTest, ApiWithoutTokenIs401WithWwwAuthenticate) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("GET", "/api/sinks", Echo()).ok()); },
        options);
  auto reply = Get("/api/sinks");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(reply->Header(http::field::www_authenticate), "Bearer realm=\"sluice\"");
  EXPECT_EQ(ErrorCodeOf(*reply), "unauthorized");
}

TEST_F(HttpServerTest, ApiWithWrongTokenIs401InvalidToken) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("GET", "/api/sinks", Echo()).ok()); },
        options);
  auto reply = Get("/api/sinks", {{"Authorization", "Bearer tok-ops-1234567891"}});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(reply->Header(http::field::www_authenticate),
            "Bearer realm=\"sluice\", error=\"invalid_token\"");
}

TEST_F(HttpServerTest, ApiWithRightTokenIs200AndHandlerSeesTokenName) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("GET", "/api/sinks", Echo()).ok()); },
        options);
  auto reply = Get("/api/sinks", {{"Authorization", "Bearer tok-ops-1234567890"}});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply->body)["token"], "ops");
}

TEST_F(HttpServerTest, UnknownApiRouteWithoutTokenIs401NotA404) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve({}, options);
  auto reply = Get("/api/does-not-exist");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 401);  // nothing about the API leaks without a token
  auto authed = Get("/api/does-not-exist", {{"Authorization", "Bearer tok-ops-1234567890"}});
  ASSERT_TRUE(authed.ok());
  EXPECT_EQ(authed->status, 404);
}

TEST_F(HttpServerTest, HealthAndMetricsNeedNoToken) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve({}, options);
  auto health = Get("/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  auto metrics = Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
}

TEST_F(HttpServerTest, HealthIs503WithTheReasons) {
  std::atomic<bool> connected{false};
  Serve([&](HttpServer& s) {
    s.SetHealthCheck([&]() -> std::vector<std::string> {
      if (connected) return {};
      return {"database app: replication not connected", "state store: last write failed"};
    });
  });
  auto down = Get("/health");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(
      down->body,
      R"({"reasons":["database app: replication not connected","state store: last write failed"],"status":"unavailable"})");
  connected = true;
  auto up = Get("/health");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->status, 200);
}

TEST_F(HttpServerTest, MetricsServesTheRegistryInTextFormat) {
  registry_.AddCounter("sluice_test_things_total", "Things.").Add({{"sink", "s"}}).Increment(7);
  Serve();
  TestClient client(server_->port());  // one connection: the gauge below is exact
  ASSERT_TRUE(client.Send(http::verb::get, "/nope").ok());
  auto reply = client.Send(http::verb::get, "/metrics");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->Header(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(reply->body.find("# TYPE sluice_test_things_total counter\n"
                             "sluice_test_things_total{sink=\"s\"} 7\n"),
            std::string::npos)
      << reply->body;
  EXPECT_NE(reply->body.find("sluice_http_requests_total{code=\"404\",route=\"unmatched\"} 1\n"),
            std::string::npos)
      << reply->body;
  EXPECT_NE(reply->body.find("sluice_http_connections 1\n"), std::string::npos) << reply->body;
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413AndTheConnectionCloses) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  bool called = false;
  Serve(
      [&](HttpServer& s) {
        ASSERT_TRUE(s.router()
                        .Add("POST", "/api/x",
                             [&](Request, Responder respond) {
                               called = true;
                               respond(Response{});
                             })
                        .ok());
      },
      options);
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::post, "/api/x", std::string(4 << 20, 'x'));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(ErrorCodeOf(*reply), "payload_too_large");
  EXPECT_FALSE(reply->keep_alive);
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_FALSE(called);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("POST", "/api/x", Echo()).ok()); }, options);
  TestClient client(server_->port());
  std::string chunk(800, 'y');
  ASSERT_TRUE(client
                  .WriteRaw("POST /api/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "320\r\n" +
                            chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n")
                  .ok());
  auto reply = client.Read();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 413);
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("POST", "/api/x", Echo()).ok()); }, options);
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::post, "/api/x", std::string(1024, 'x'));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, HugeHeadersAre431) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  Serve({}, options);
  auto reply = Get("/health", {{"X-Big", std::string(4096, 'h')}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 431);
  EXPECT_EQ(ErrorCodeOf(*reply), "headers_too_large");
}

TEST_F(HttpServerTest, MalformedJsonBodyIs400) {
  Serve([](HttpServer& s) {
    ASSERT_TRUE(s.router()
                    .AddSync("POST", "/api/json",
                             [](const Request& request) {
                               auto body = ParseJsonObject(request.body);
                               if (!body.ok()) return MalformedJson(body.status());
                               return JsonResponse(200, *body);
                             })
                    .ok());
  });
  TestClient client(server_->port());
  auto bad = client.Send(http::verb::post, "/api/json", "{\"batch_size\": ");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(ErrorCodeOf(*bad), "malformed_json");
  EXPECT_TRUE(bad->keep_alive);  // a bad body is not a bad connection
  auto good = client.Send(http::verb::post, "/api/json", "{\"batch_size\": 3}");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->body, R"({"batch_size":3})");
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndCloses) {
  Serve();
  TestClient client(server_->port());
  ASSERT_TRUE(client.WriteRaw("GET /health HTTP/9\r\n\r\n").ok());
  auto reply = client.Read();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(ErrorCodeOf(*reply), "bad_request");
  EXPECT_TRUE(client.ServerClosed());
}

// The point of asynchronous handlers: with ONE loop thread, a request whose
// answer comes 300 ms later from another thread must not stop the server from
// answering others meanwhile.
TEST_F(HttpServerTest, LongPollHoldsNoThreadWhileOthersAreServed) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> parked;
  int served = 0;
  Serve(
      [&](HttpServer& s) {
        ASSERT_TRUE(s.router()
                        .Add("POST", "/api/streams/{name}/receive",
                             [&](Request, Responder respond) {
                               std::lock_guard lock(mu);
                               parked.emplace(std::move(respond));
                               cv.notify_all();
                             })
                        .ok());
      },
      {}, /*threads=*/1);

  const auto poll_started = std::chrono::steady_clock::now();
  auto long_poll = std::async(std::launch::async, [&] {
    TestClient client(server_->port());
    auto reply = client.Send(http::verb::post, "/api/streams/orders/receive", "{}");
    return std::make_pair(std::move(reply), std::chrono::steady_clock::now());
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return parked.has_value(); }));
  }
  // Answers from another thread, no sooner than 300 ms after the poll began
  // and only once the 50 other requests are through.
  std::thread responder([&] {
    std::unique_lock lock(mu);
    cv.wait_until(lock, poll_started + kDeadline, [&] { return served == 50; });
    lock.unlock();
    std::this_thread::sleep_until(poll_started + 300ms);
    (*parked)(JsonResponse(200, {{"data", nlohmann::json::array()}}));
  });

  std::chrono::steady_clock::time_point last_served;
  for (int i = 0; i < 50; ++i) {
    auto reply = Get("/health");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->status, 200);
    last_served = std::chrono::steady_clock::now();
    std::lock_guard lock(mu);
    ++served;
    cv.notify_all();
  }
  auto [reply, answered_at] = long_poll.get();
  responder.join();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, R"({"data":[]})");
  EXPECT_GE(answered_at - poll_started, 300ms);
  EXPECT_LT(last_served, answered_at);
}

TEST_F(HttpServerTest, ClientGoneBeforeDelayedResponseIsHarmless) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> parked;
  bool cancelled = false;
  Serve([&](HttpServer& s) {
    ASSERT_TRUE(s.router()
                    .Add("POST", "/api/wait",
                         [&](Request, Responder respond) {
                           respond.OnCancel([&] {
                             std::lock_guard lock(mu);
                             cancelled = true;
                             cv.notify_all();
                           });
                           std::lock_guard lock(mu);
                           parked.emplace(std::move(respond));
                           cv.notify_all();
                         })
                    .ok());
  });
  {
    TestClient client(server_->port());
    http::request<http::string_body> request{http::verb::post, "/api/wait", 11};
    request.prepare_payload();
    ASSERT_TRUE(client.Write(request).ok());
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return parked.has_value(); }));
    lock.unlock();
    client.Close();
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return cancelled; }));
  EXPECT_TRUE(parked->Cancelled());
  lock.unlock();
  (*parked)(JsonResponse(200, {{"late", true}}));  // a no-op, from a foreign thread
  parked.reset();
  // The server is fine.
  auto reply = Get("/health");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  Serve();
  TestClient client(server_->port());
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Send(http::verb::get, "/health");
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    EXPECT_EQ(reply->status, 200);
    EXPECT_TRUE(reply->keep_alive);
  }
  auto metrics = client.Send(http::verb::get, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("sluice_http_connections_accepted_total 1\n"), std::string::npos)
      << metrics->body;
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  Serve();
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::get, "/health", {}, {{"Connection", "close"}});
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->keep_alive);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("GET", "/api/echo/{n}", Echo()).ok()); });
  TestClient client(server_->port());
  std::string pipelined;
  for (int i = 0; i < 5; ++i) {
    pipelined += "GET /api/echo/" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  }
  ASSERT_TRUE(client.WriteRaw(pipelined).ok());
  for (int i = 0; i < 5; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    EXPECT_EQ(nlohmann::json::parse(reply->body)["params"]["n"], std::to_string(i));
  }
}

// The next request arrives while the handler of the first still works: it is
// read ahead, held, and parsed once the first response is out.
TEST_F(HttpServerTest, RequestPipelinedBehindADelayedResponseIsServedAfterIt) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> parked;
  Serve(
      [&](HttpServer& s) {
        ASSERT_TRUE(s.router()
                        .Add("GET", "/api/slow",
                             [&](Request, Responder respond) {
                               std::lock_guard lock(mu);
                               parked.emplace(std::move(respond));
                               cv.notify_all();
                             })
                        .ok());
        ASSERT_TRUE(s.router().Add("GET", "/api/echo/{n}", Echo()).ok());
      },
      {}, /*threads=*/1);
  TestClient client(server_->port());
  ASSERT_TRUE(client.WriteRaw("GET /api/slow HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return parked.has_value(); }));
  }
  ASSERT_TRUE(client.WriteRaw("GET /api/echo/2 HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  (*parked)(JsonResponse(200, {{"first", true}}));
  auto first = client.Read();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, R"({"first":true})");
  auto second = client.Read();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(second->body)["params"]["n"], "2");
}

TEST_F(HttpServerTest, Http10RequestIsAnsweredAndClosed) {
  Serve();
  TestClient client(server_->port());
  ASSERT_TRUE(client.WriteRaw("GET /health HTTP/1.0\r\n\r\n").ok());
  auto reply = client.Read();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_FALSE(reply->keep_alive);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, Expect100ContinueGetsAnInterimResponse) {
  Serve([](HttpServer& s) { ASSERT_TRUE(s.router().Add("POST", "/api/x", Echo()).ok()); });
  TestClient client(server_->port());
  ASSERT_TRUE(client
                  .WriteRaw("POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
                            "Expect: 100-continue\r\n\r\n")
                  .ok());
  auto head = client.ReadHead();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(*head, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.WriteRaw("{}").ok());
  auto reply = client.Read();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply->body)["body"], "{}");
}

TEST_F(HttpServerTest, HandlerThatDropsTheResponderGets500) {
  Serve([](HttpServer& s) {
    ASSERT_TRUE(s.router().Add("GET", "/api/forgetful", [](Request, Responder) {}).ok());
  });
  auto reply = Get("/api/forgetful");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(ErrorCodeOf(*reply), "internal");
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndTheServerLivesOn) {
  Serve([](HttpServer& s) {
    ASSERT_TRUE(
        s.router()
            .Add("GET", "/api/throws", [](Request, Responder) { throw std::runtime_error("boom"); })
            .ok());
  });
  auto reply = Get("/api/throws");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, R"({"error":{"code":"internal","message":"internal error: boom"}})");
  EXPECT_EQ(Get("/health")->status, 200);
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  Serve({}, options);
  TestClient client(server_->port());
  ASSERT_TRUE(client.Send(http::verb::get, "/health").ok());
  EXPECT_TRUE(client.ServerClosed(5000ms));
}

TEST_F(HttpServerTest, IncompleteRequestIsClosedAfterReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = 200ms;
  Serve({}, options);
  TestClient client(server_->port());
  ASSERT_TRUE(client.WriteRaw("GET /health HTTP/1.1\r\nHost: h\r\n").ok());  // never finished
  EXPECT_TRUE(client.ServerClosed(5000ms));
}

TEST_F(HttpServerTest, StopLetsAnInFlightResponseFinish) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> parked;
  Serve([&](HttpServer& s) {
    ASSERT_TRUE(s.router()
                    .Add("GET", "/api/slow",
                         [&](Request, Responder respond) {
                           std::lock_guard lock(mu);
                           parked.emplace(std::move(respond));
                           cv.notify_all();
                         })
                    .ok());
  });
  TestClient idle(server_->port());
  ASSERT_TRUE(idle.Send(http::verb::get, "/health").ok());
  auto slow = std::async(std::launch::async, [&] {
    TestClient client(server_->port());
    return client.Send(http::verb::get, "/api/slow");
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return parked.has_value(); }));
  }
  std::thread answer([&] {
    std::this_thread::sleep_for(100ms);  // answers while Stop() waits
    (*parked)(JsonResponse(200, {{"finished", true}}));
  });
  server_->Stop(5s);
  answer.join();
  auto reply = slow.get();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_FALSE(reply->keep_alive);  // Connection: close while stopping
  EXPECT_TRUE(idle.ServerClosed(1000ms));
  TestClient late(server_->port());
  EXPECT_FALSE(late.connected() && late.Send(http::verb::get, "/health").ok());
}

TEST_F(HttpServerTest, StopAfterGraceClosesAnUnansweredRequest) {
  std::optional<Responder> parked;
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  Serve([&](HttpServer& s) {
    ASSERT_TRUE(s.router()
                    .Add("GET", "/api/never",
                         [&](Request, Responder respond) {
                           respond.OnCancel([&] {
                             std::lock_guard lock(mu);
                             cancelled = true;
                           });
                           std::lock_guard lock(mu);
                           parked.emplace(std::move(respond));
                           cv.notify_all();
                         })
                    .ok());
  });
  auto never = std::async(std::launch::async, [&] {
    TestClient client(server_->port());
    return client.Send(http::verb::get, "/api/never");
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return parked.has_value(); }));
  }
  server_->Stop(100ms);
  EXPECT_FALSE(never.get().ok());  // the connection was closed without an answer
  std::lock_guard lock(mu);
  EXPECT_TRUE(cancelled);
  (*parked)(Response{});  // after Stop: a no-op
}

// Stop() on a loop thread must not wait for the loop it is blocking.
TEST_F(HttpServerTest, StopFromAHandlerDoesNotDeadlock) {
  Serve(
      [](HttpServer& s) {
        ASSERT_TRUE(s.router()
                        .AddSync("POST", "/api/shutdown",
                                 [&s](const Request&) {
                                   s.Stop(std::chrono::milliseconds(100));
                                   return JsonResponse(202, {{"stopping", true}});
                                 })
                        .ok());
      },
      {}, /*threads=*/1);
  TestClient client(server_->port());
  auto reply = client.Send(http::verb::post, "/api/shutdown");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 202);
  EXPECT_FALSE(reply->keep_alive);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, CurlClientGetsJsonErrors) {
  HttpServerOptions options;
  options.api_tokens = Tokens();
  Serve({}, options);
  CurlHttpClient curl;
  std::promise<Result<HttpResponse>> done;
  HttpRequest request;
  request.method = "POST";
  request.url = "http://" + server_->local_address() + "/api/streams/x/receive";
  request.body = std::string(2 << 20, 'x');  // over the 1 MiB default
  request.headers = {{"Authorization", "Bearer tok-ops-1234567890"}};
  curl.Send(request, [&](Result<HttpResponse> r) { done.set_value(std::move(r)); });
  auto response = done.get_future().get();
  curl.Shutdown();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("\"payload_too_large\""), std::string::npos);
}

TEST(HttpServerCreateTest, NonLoopbackWithoutTokensIsRefused) {
  asio::io_context io;
  metrics::Registry registry;
  HttpServerOptions options;
  options.listen = "0.0.0.0:0";
  auto server = HttpServer::Create(io, options, registry);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("no api_tokens are configured"), std::string::npos);
  options.api_tokens = {{"ops", "t"}};
  auto with_token = HttpServer::Create(io, options, registry);
  ASSERT_TRUE(with_token.ok()) << with_token.status().ToString();
  EXPECT_TRUE((*with_token)->auth_required());
}

TEST(HttpServerCreateTest, LocalhostNameCountsAsLoopback) {
  asio::io_context io;
  metrics::Registry registry;
  HttpServerOptions options;
  options.listen = "localhost:0";
  auto server = HttpServer::Create(io, options, registry);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_FALSE((*server)->auth_required());
}

TEST(HttpServerCreateTest, BusyPortIsAStartUpError) {
  asio::io_context io;
  metrics::Registry registry;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto first = HttpServer::Create(io, options, registry);
  ASSERT_TRUE(first.ok());
  options.listen = (*first)->local_address();
  auto second = HttpServer::Create(io, options, registry);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot bind"), std::string::npos)
      << second.status().message();
}

TEST(HttpServerCreateTest, MalformedListenAddressIsAnError) {
  asio::io_context io;
  metrics::Registry registry;
  for (const char* listen : {"7376", "::1:80", "[::1]", "host:99999", "host:"}) {
    HttpServerOptions options;
    options.listen = listen;
    auto server = HttpServer::Create(io, options, registry);
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_NE(server.status().message().find("expected \"host:port\""), std::string::npos)
        << server.status().message();
  }
}

}  // namespace
}  // namespace sluice::api
