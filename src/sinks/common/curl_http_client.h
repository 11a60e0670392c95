// The production HttpClient: libcurl multi driven by one background thread
// ("sluice-http"). Connections are kept alive and reused across requests to
// the same host; TLS, proxies (from the environment) and HTTP/2 are libcurl's.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sinks/common/http_client.h"

namespace sluice {

// Response bodies beyond this many bytes are read and discarded: sinks only
// quote the start of a body in error messages.
inline constexpr size_t kMaxHttpResponseBodyBytes = 64 * 1024;

// `url` without credentials, for logs and errors: drops "user:password@" and
// the query string (which often carries tokens), keeping scheme, host, port
// and path.
std::string RedactUrl(std::string_view url);

class CurlHttpClient final : public HttpClient {
 public:
  // At most `max_concurrent_transfers` requests are on the wire at once; more
  // wait in a FIFO queue (their timeout starts when they go on the wire).
  // Starts the thread. Initialises libcurl globally on first use.
  explicit CurlHttpClient(int max_concurrent_transfers = 64);
  // Shuts down (see Shutdown).
  ~CurlHttpClient() override;

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Thread-safe. `done` runs exactly once on the client thread, or inline on
  // the caller's thread when the client is already shut down. Transport
  // failures (connect, TLS, timeout, an unusable request) arrive as a
  // retryable Status whose message names the method and the redacted URL.
  void Send(HttpRequest request, HttpDone done) override;

  // Fails every queued and in-flight request with a retryable error (their
  // done runs), then joins the thread. Idempotent. May be called from a done
  // callback: then the thread is joined by the destructor instead.
  void Shutdown() override;

 private:
  struct Transfer;
  struct Multi;

  void Run();
  // Moves queued requests onto the wire while below the cap. Client thread.
  void StartQueued();
  // Hands finished transfers to their done callbacks. Client thread. Returns
  // how many finished.
  int CompleteFinished();
  void FailAll();

  const int max_concurrent_;
  std::unique_ptr<Multi> multi_;  // client thread only, after construction

  std::mutex mu_;
  bool stopping_ = false;                         // guarded by mu_
  std::deque<std::unique_ptr<Transfer>> queued_;  // guarded by mu_

  std::mutex join_mu_;  // serialises concurrent Shutdown calls
  std::thread thread_;
};

}  // namespace sluice
