#include "sinks/webhook/webhook_sink.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <condition_variable>
#include <mutex>

#include "common/base64.h"
#include "sinks/common/curl_http_client.h"
#include "sinks/sink_config_for_test.h"
#include "sinks/webhook/factory.h"
#include "testing/http_receiver.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using testing::HttpReceiver;
using testing::ReceivedRequest;

constexpr milliseconds kWait{10000};

// A config with one database, one http_endpoint ("billing", pointing at
// `endpoint_url`) and one sink "orders" with `sink_lines` (indented YAML) and
// the given destination (a YAML flow map).
config::LoadResult Load(const std::string& destination, const std::string& sink_lines = "",
                        const std::string& endpoint_url = "http://127.0.0.1:9/hooks",
                        bool validate = true) {
  static const SinkFactory factory = WebhookSinkFactory();
  const std::string endpoints =
      "http_endpoints:\n"
      "  - name: billing\n"
      "    url: \"" +
      endpoint_url +
      "\"\n"
      "    headers: {X-Env: prod, X-Shared: endpoint}\n"
      "  - name: audit\n"
      "    url: http://127.0.0.1:9/audit\n";
  return testing::LoadOneSinkConfig("orders", destination, {"webhook"},
                                    validate ? &factory : nullptr, sink_lines, endpoints);
}

// The single error of a failed load, or a test failure.
std::string OnlyError(const config::LoadResult& result) {
  EXPECT_EQ(result.errors.size(), 1u) << config::FormatErrors(result.errors);
  if (result.errors.empty()) return "";
  return result.errors[0].ToString();
}

Message MakeMessage(int i) {
  Message message;
  message.position = Position{100, static_cast<uint32_t>(i)};
  message.table_schema = "public";
  message.table_name = "orders";
  message.group_key = std::to_string(i);
  message.idempotency_key = Base64Encode("100:" + std::to_string(i));
  message.json = R"({"record":{"id":)" + std::to_string(i) + R"(},"action":"insert"})";
  return message;
}

// Collects write results in completion order.
class WriteResults {
 public:
  WriteDone Callback() {
    return [this](Status status) {
      std::lock_guard<std::mutex> lock(mu_);
      statuses_.push_back(std::move(status));
      changed_.notify_all();
    };
  }
  bool WaitFor(size_t count, milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return statuses_.size() >= count; });
  }
  std::vector<Status> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Status> statuses_;
};

// Recomputes a Standard Webhooks signature with OpenSSL directly, independent
// of StandardWebhooksSigner.
std::string ExpectedSignature(const std::string& whsec_secret, const std::string& id,
                              const std::string& timestamp, const std::string& body) {
  std::string key = Base64Decode(whsec_secret.substr(6)).value_or("");
  std::string signed_content = id + "." + timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(), digest,
       &digest_len);
  return "v1," + Base64Encode(std::string(reinterpret_cast<char*>(digest), digest_len));
}

// ---------------------------------------------------------------------------
// Configuration.

TEST(WebhookConfigTest, MinimalUrlDestinationGetsTheDefaults) {
  auto result = Load(R"({type: webhook, url: "https://example.com/hooks"})");
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
  config::ConfigErrors errors;
  auto options = ReadWebhookDestination(result.config->sinks[0], *result.config, errors);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->url, "https://example.com/hooks");
  EXPECT_EQ(options->timeout, milliseconds(30000));
  EXPECT_EQ(options->concurrency, 16);
  EXPECT_TRUE(options->batch);
  EXPECT_TRUE(options->signing_secret.empty());
  EXPECT_TRUE(options->headers.empty());
}

TEST(WebhookConfigTest, EndpointUrlPathAndHeadersAreMerged) {
  auto result = Load(
      "{type: webhook, http_endpoint: billing, path: /orders, timeout_ms: 500, concurrency: 4, "
      "headers: {x-shared: destination, X-Extra: 1}}",
      "", "http://127.0.0.1:9/hooks/");
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
  config::ConfigErrors errors;
  auto options = ReadWebhookDestination(result.config->sinks[0], *result.config, errors);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->url, "http://127.0.0.1:9/hooks/orders");
  EXPECT_EQ(options->timeout, milliseconds(500));
  EXPECT_EQ(options->concurrency, 4);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"X-Env", "prod"}, {"X-Shared", "destination"}, {"X-Extra", "1"}};
  EXPECT_EQ(options->headers, expected);
}

TEST(WebhookConfigTest, UnknownKeyIsAnErrorListingTheAllowedKeys) {
  auto result = Load(R"({type: webhook, url: "http://example.com", retries: 3})");
  ASSERT_FALSE(result.config);
  const std::string error = OnlyError(result);
  EXPECT_NE(error.find("sinks[0].destination.retries"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key"), std::string::npos) << error;
  EXPECT_NE(error.find("signing_secret"), std::string::npos) << error;
  EXPECT_NE(error.find("http_endpoint"), std::string::npos) << error;
  EXPECT_GT(result.errors[0].line, 0);
}

TEST(WebhookConfigTest, MissingEndpointReferenceListsTheDefinedOnes) {
  auto result = Load("{type: webhook, http_endpoint: biling}");
  ASSERT_FALSE(result.config);
  const std::string error = OnlyError(result);
  EXPECT_NE(error.find("\"biling\" is not defined"), std::string::npos) << error;
  EXPECT_NE(error.find("defined: billing, audit"), std::string::npos) << error;
  EXPECT_EQ(result.errors[0].path, "sinks[0].destination.http_endpoint");
}

TEST(WebhookConfigTest, UrlAndEndpointTogetherIsAnError) {
  auto result = Load(R"({type: webhook, http_endpoint: billing, url: "http://example.com"})");
  ASSERT_FALSE(result.config);
  EXPECT_NE(OnlyError(result).find("not both"), std::string::npos);
}

TEST(WebhookConfigTest, NeitherUrlNorEndpointIsAnError) {
  auto result = Load("{type: webhook, path: /x}");
  ASSERT_FALSE(result.config);
  EXPECT_NE(OnlyError(result).find("needs url"), std::string::npos);
}

TEST(WebhookConfigTest, BatchFalseWithBatchSizeTenIsAnError) {
  auto result =
      Load(R"({type: webhook, url: "http://example.com", batch: false})", "    batch_size: 10\n");
  ASSERT_FALSE(result.config);
  const std::string error = OnlyError(result);
  EXPECT_NE(error.find("batch_size must be 1 (it is 10)"), std::string::npos) << error;
  EXPECT_EQ(result.errors[0].path, "sinks[0].destination.batch");
}

TEST(WebhookConfigTest, BatchFalseWithBatchSizeOneIsFine) {
  auto result =
      Load(R"({type: webhook, url: "http://example.com", batch: false})", "    batch_size: 1\n");
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
}

TEST(WebhookConfigTest, OutOfRangeTimeoutAndConcurrencyAreErrors) {
  auto result =
      Load(R"({type: webhook, url: "http://example.com", timeout_ms: 50, concurrency: 2000})");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 2u) << config::FormatErrors(result.errors);
  EXPECT_EQ(result.errors[0].path, "sinks[0].destination.timeout_ms");
  EXPECT_EQ(result.errors[1].path, "sinks[0].destination.concurrency");
}

TEST(WebhookConfigTest, NonHttpUrlIsAnError) {
  auto result = Load(R"({type: webhook, url: "ftp://example.com/x"})");
  ASSERT_FALSE(result.config);
  EXPECT_NE(OnlyError(result).find("http:// or https://"), std::string::npos);
}

TEST(WebhookConfigTest, PathMustStartWithASlash) {
  auto result = Load(R"({type: webhook, url: "http://example.com", path: orders})");
  ASSERT_FALSE(result.config);
  EXPECT_NE(OnlyError(result).find("must start with '/'"), std::string::npos);
}

TEST(WebhookConfigTest, MalformedWhsecSecretIsAnErrorThatDoesNotEchoIt) {
  auto result = Load(R"({type: webhook, url: "http://example.com", signing_secret: "whsec_%%%"})");
  ASSERT_FALSE(result.config);
  const std::string error = OnlyError(result);
  EXPECT_NE(error.find("base64"), std::string::npos) << error;
  EXPECT_EQ(error.find("%%%"), std::string::npos) << error;
}

TEST(WebhookConfigTest, HeaderTheSinkSetsCannotBeConfigured) {
  auto result =
      Load(R"({type: webhook, url: "http://example.com", headers: {Idempotency-Key: x}})");
  ASSERT_FALSE(result.config);
  EXPECT_NE(OnlyError(result).find("set by the webhook sink"), std::string::npos);
}

TEST(WebhookConfigTest, CreateRejectsAnInvalidDestination) {
  auto result = Load(R"({type: webhook, url: "http://example.com", bogus: 1})", "",
                     "http://127.0.0.1:9/hooks", /*validate=*/false);
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
  CurlHttpClient http;
  SinkContext context{&*result.config, &result.config->sinks[0], &http};
  auto sink = WebhookSinkFactory().create(context);
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsPermanent());
  EXPECT_NE(sink.status().message().find("bogus"), std::string::npos);
}

TEST(WebhookConfigTest, FactoryIsRegisteredUnderWebhook) {
  EXPECT_EQ(WebhookSinkFactory().type, "webhook");
}

// ---------------------------------------------------------------------------
// Delivery to a real HTTP receiver over loopback.

class WebhookSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start().ok()); }

  // Loads a config whose "billing" endpoint is the receiver's /hooks and
  // creates the sink through the factory, as the daemon does.
  std::unique_ptr<Sink> MakeSink(const std::string& destination,
                                 const std::string& sink_lines = "") {
    auto result = Load(destination, sink_lines, receiver_.url() + "/hooks");
    EXPECT_TRUE(result.config) << config::FormatErrors(result.errors);
    if (!result.config) return nullptr;
    config_ = std::move(*result.config);
    SinkContext context{&config_, &config_.sinks[0], &http_};
    auto sink = WebhookSinkFactory().create(context);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    if (!sink.ok()) return nullptr;
    return std::move(sink).value();
  }

  static Batch MakeBatch(const std::vector<Message>& messages) {
    Batch batch;
    for (const Message& message : messages) batch.messages.push_back(&message);
    return batch;
  }

  // Writes one batch and returns its result.
  Status WriteAndWait(Sink& sink, const std::vector<Message>& messages) {
    WriteResults results;
    sink.Write(MakeBatch(messages), results.Callback());
    if (!results.WaitFor(1)) return Status::Fatal("write did not finish in time");
    return results.Get()[0];
  }

  HttpReceiver receiver_;
  WriteResults results_;
  CurlHttpClient http_;  // after the results and receiver: joined first
  config::Config config_;
};

TEST_F(WebhookSinkTest, SingleMessageBodyIsTheMessageJson) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, path: /one, batch: false}");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1)};
  Status status = WriteAndWait(*sink, messages);
  ASSERT_TRUE(status.ok()) << status.ToString();

  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hooks/one");
  EXPECT_EQ(requests[0].body, messages[0].json);
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), messages[0].idempotency_key);
}

TEST_F(WebhookSinkTest, BatchBodyWrapsMessagesInOrder) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}", "    batch_size: 3\n");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1), MakeMessage(2), MakeMessage(3)};
  Status status = WriteAndWait(*sink, messages);
  ASSERT_TRUE(status.ok()) << status.ToString();

  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "{\"data\":[" + messages[0].json + "," + messages[1].json + "," +
                                  messages[2].json + "]}");
  EXPECT_EQ(requests[0].Header("Idempotency-Key"),
            WebhookSink::IdempotencyKey(MakeBatch(messages)));
}

TEST_F(WebhookSinkTest, BatchOfOneIsStillWrappedWhenBatching) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(7)};
  ASSERT_TRUE(WriteAndWait(*sink, messages).ok());
  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "{\"data\":[" + messages[0].json + "]}");
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), messages[0].idempotency_key);
}

TEST_F(WebhookSinkTest, EveryRequestCarriesTheStandardHeaders) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, headers: {X-Shared: mine}}");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1)};
  ASSERT_TRUE(WriteAndWait(*sink, messages).ok());
  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].Header("User-Agent"), "sluice/0.1");
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), messages[0].idempotency_key);
  EXPECT_EQ(requests[0].Header("X-Env"), "prod");
  EXPECT_EQ(requests[0].Header("X-Shared"), "mine");
  EXPECT_FALSE(requests[0].HasHeader("webhook-signature"));
}

TEST(WebhookIdempotencyKeyTest, BatchKeyIsStableCommaFreeAndDependsOnEveryKey) {
  std::vector<Message> a = {MakeMessage(1), MakeMessage(2), MakeMessage(3)};
  std::vector<Message> same = {MakeMessage(1), MakeMessage(2), MakeMessage(3)};
  std::vector<Message> other_middle = {MakeMessage(1), MakeMessage(5), MakeMessage(3)};
  auto batch = [](const std::vector<Message>& messages) {
    Batch b;
    for (const Message& m : messages) b.messages.push_back(&m);
    return b;
  };
  const std::string key = WebhookSink::IdempotencyKey(batch(a));
  EXPECT_EQ(key, WebhookSink::IdempotencyKey(batch(same)));
  EXPECT_NE(key, WebhookSink::IdempotencyKey(batch(other_middle)));
  EXPECT_EQ(key.find(','), std::string::npos);
  EXPECT_EQ(key.rfind("batch_", 0), 0u);
  EXPECT_EQ(key.size(), 6u + 32u);
}

TEST_F(WebhookSinkTest, SignatureVerifiesWithAnIndependentHmac) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto sink =
      MakeSink("{type: webhook, http_endpoint: billing, signing_secret: \"" + secret + "\"}",
               "    batch_size: 2\n");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1), MakeMessage(2)};
  ASSERT_TRUE(WriteAndWait(*sink, messages).ok());

  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& request = requests[0];
  const std::string id = request.Header("webhook-id");
  const std::string timestamp = request.Header("webhook-timestamp");
  EXPECT_EQ(id, request.Header("Idempotency-Key"));
  EXPECT_EQ(request.Header("webhook-signature"),
            ExpectedSignature(secret, id, timestamp, request.body));
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_NEAR(std::stoll(timestamp), now, 60);
}

TEST_F(WebhookSinkTest, ServerErrorIsRetryableAndQuotesStatusAndBody) {
  receiver_.SetReplyFunction([](const ReceivedRequest&) {
    return testing::HttpReply{500, "database\nis down"};
  });
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}");
  ASSERT_TRUE(sink);
  Status status = WriteAndWait(*sink, {MakeMessage(1)});
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.IsRetryable());
  EXPECT_EQ(status.message(),
            "webhook POST " + receiver_.url() + "/hooks returned 500: database is down");
}

TEST_F(WebhookSinkTest, LongErrorBodyIsCutAt200Bytes) {
  receiver_.SetReplyFunction([](const ReceivedRequest&) {
    return testing::HttpReply{503, std::string(1000, 'x')};
  });
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}");
  ASSERT_TRUE(sink);
  Status status = WriteAndWait(*sink, {MakeMessage(1)});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("returned 503: " + std::string(200, 'x') + "..."),
            std::string::npos);
  EXPECT_EQ(status.message().find(std::string(201, 'x')), std::string::npos);
}

TEST_F(WebhookSinkTest, ClientErrorIsPermanentButTooManyRequestsIsRetryable) {
  std::atomic<int> code{400};
  receiver_.SetResponder([&code](const ReceivedRequest&) { return code.load(); });
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}");
  ASSERT_TRUE(sink);
  Status bad_request = WriteAndWait(*sink, {MakeMessage(1)});
  EXPECT_TRUE(bad_request.IsPermanent()) << bad_request.ToString();
  EXPECT_NE(bad_request.message().find("returned 400"), std::string::npos);
  code = 429;
  EXPECT_TRUE(WriteAndWait(*sink, {MakeMessage(1)}).IsRetryable());
  code = 408;
  EXPECT_TRUE(WriteAndWait(*sink, {MakeMessage(1)}).IsRetryable());
  code = 204;
  EXPECT_TRUE(WriteAndWait(*sink, {MakeMessage(1)}).ok());
}

TEST_F(WebhookSinkTest, ReceiverDownIsARetryableTransportErrorUntilItIsBack) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing}");
  ASSERT_TRUE(sink);
  receiver_.Stop();
  Status down = WriteAndWait(*sink, {MakeMessage(1)});
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.IsRetryable());
  EXPECT_EQ(down.message().rfind("webhook POST " + receiver_.url() + "/hooks: ", 0), 0u)
      << down.message();

  ASSERT_TRUE(receiver_.Start().ok());
  Status back = WriteAndWait(*sink, {MakeMessage(1)});
  EXPECT_TRUE(back.ok()) << back.ToString();
  EXPECT_EQ(receiver_.RequestCount(), 1u);
}

TEST_F(WebhookSinkTest, TimeoutIsRetryable) {
  receiver_.SetDelay(milliseconds(30000));
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, timeout_ms: 200}");
  ASSERT_TRUE(sink);
  Status status = WriteAndWait(*sink, {MakeMessage(1)});
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.IsRetryable());
  EXPECT_NE(status.message().find("timed out"), std::string::npos) << status.message();
}

TEST_F(WebhookSinkTest, AtMostConcurrencyRequestsAreInFlight) {
  receiver_.SetDelay(milliseconds(150));
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, concurrency: 4}");
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->MaxInFlight(), 4);
  std::vector<Message> messages;
  for (int i = 0; i < 12; ++i) messages.push_back(MakeMessage(i));
  // More writes than MaxInFlight at once: the sink holds the excess back.
  for (const Message& message : messages) {
    Batch batch;
    batch.messages.push_back(&message);
    sink->Write(batch, results_.Callback());
  }
  ASSERT_TRUE(results_.WaitFor(12));
  for (const Status& status : results_.Get()) EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(receiver_.RequestCount(), 12u);
  EXPECT_EQ(receiver_.MaxInFlight(), 4);
}

TEST_F(WebhookSinkTest, HttpClientShutdownFailsOutstandingWrites) {
  receiver_.SetDelay(milliseconds(60000));
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, concurrency: 2}");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1), MakeMessage(2)};
  for (const Message& message : messages) {
    Batch batch;
    batch.messages.push_back(&message);
    sink->Write(batch, results_.Callback());
  }
  ASSERT_TRUE(receiver_.WaitForRequests(2, kWait));
  http_.Shutdown();
  ASSERT_TRUE(results_.WaitFor(2, milliseconds(0)));
  for (const Status& status : results_.Get()) {
    EXPECT_TRUE(status.IsRetryable());
    EXPECT_NE(status.message().find("shut down"), std::string::npos) << status.message();
  }
}

TEST_F(WebhookSinkTest, CloseFailsUnsentWritesAndWaitsForTheOnesOnTheWire) {
  receiver_.SetDelay(milliseconds(300));
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, concurrency: 1}");
  ASSERT_TRUE(sink);
  std::vector<Message> messages = {MakeMessage(1), MakeMessage(2), MakeMessage(3)};
  for (const Message& message : messages) {
    Batch batch;
    batch.messages.push_back(&message);
    sink->Write(batch, results_.Callback());
  }
  ASSERT_TRUE(receiver_.WaitForRequests(1, kWait));
  sink->Close();
  ASSERT_TRUE(results_.WaitFor(3, milliseconds(0)));
  auto statuses = results_.Get();
  int ok = 0;
  for (const Status& status : statuses) {
    if (status.ok()) {
      ++ok;
    } else {
      EXPECT_NE(status.message().find("closed before"), std::string::npos);
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(receiver_.RequestCount(), 1u);

  WriteResults after;
  sink->Write(MakeBatch(messages), after.Callback());
  ASSERT_TRUE(after.WaitFor(1, milliseconds(0)));
  EXPECT_TRUE(after.Get()[0].IsRetryable());
}

TEST_F(WebhookSinkTest, UnbatchedSinkRejectsABatchOfSeveral) {
  auto sink = MakeSink("{type: webhook, http_endpoint: billing, batch: false}");
  ASSERT_TRUE(sink);
  Status status = WriteAndWait(*sink, {MakeMessage(1), MakeMessage(2)});
  EXPECT_TRUE(status.IsPermanent());
  EXPECT_EQ(receiver_.RequestCount(), 0u);
}

}  // namespace
}  // namespace sluice
