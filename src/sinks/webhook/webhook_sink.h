// Delivers batches as HTTP POST requests with a JSON body. A batch is
// delivered when the receiver answered 2xx; see README.md.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sinks/common/http_client.h"
#include "sinks/common/standard_webhooks.h"
#include "sinks/sink.h"

namespace sluice {

inline constexpr char kWebhookUserAgent[] = "sluice/0.1";

struct WebhookSinkOptions {
  std::string url;       // http(s) URL the requests go to (endpoint URL + path)
  std::string base_url;  // the endpoint URL alone: a routed `path` replaces the path
  // Extra request headers (endpoint headers merged with the destination's).
  // A Content-Type or User-Agent here replaces the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{30000};  // per request, connect to last byte
  int concurrency = 16;                      // MaxInFlight()
  // true: the body is {"data":[msg,...]}. false: the body is the one message
  // of the batch (batches must then hold exactly one message).
  bool batch = true;
  std::string signing_secret;  // empty: no Standard Webhooks headers
};

class WebhookSink final : public Sink {
 public:
  // `http` must outlive the sink (it is the daemon's shared client). Permanent
  // error for a signing secret that cannot be used.
  static Result<std::unique_ptr<WebhookSink>> Create(WebhookSinkOptions options, HttpClient* http);
  // Closes.
  ~WebhookSink() override;

  // Sends one request for the whole batch. `done` runs on the HTTP client's
  // thread: OK on 2xx; otherwise an error naming the URL and the status (with
  // the start of the response body) or the transport failure. 4xx other than
  // 408 and 429 are permanent, everything else retryable. Never retries itself.
  // Writes beyond `concurrency` outstanding wait in the sink until one ends.
  //
  // Messages carrying a route (a routing function's result: `path`, `method`,
  // headers) go to that path of the endpoint with that method and those extra
  // headers; a batch whose messages route differently is sent as one request
  // per run of equally routed messages, one after the other, in order.
  void Write(const Batch& batch, WriteDone done) override;
  int MaxInFlight() const override { return options_.concurrency; }
  // Fails writes that were not sent yet, then waits for the ones on the wire
  // (at most the request timeout plus a margin, after which they are failed
  // as retryable). Later writes fail at once. Must not be called from a done
  // callback.
  void Close() override;

  // The Idempotency-Key (and webhook-id) of a batch: the message's own key
  // for one message; for several, "batch_" + 32 hex digits of a SHA-256 over
  // every key in order, so a retry of the same batch carries the same key and
  // two different batches never share one.
  static std::string IdempotencyKey(const Batch& batch);

 private:
  struct State;

  WebhookSink(WebhookSinkOptions options, HttpClient* http,
              std::optional<StandardWebhooksSigner> signer);
  // One request for `batch`, whose messages share `route` (may be null).
  void WriteOne(const Batch& batch, const MessageRoute* route, WriteDone done);

  const WebhookSinkOptions options_;
  HttpClient* const http_;
  const std::optional<StandardWebhooksSigner> signer_;
  // Content-Type, User-Agent and the configured headers, in that order.
  std::vector<std::pair<std::string, std::string>> base_headers_;
  // Shared with the response callbacks, which may outlive the sink.
  std::shared_ptr<State> state_;
};

}  // namespace sluice
