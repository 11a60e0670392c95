// Asynchronous HTTP client used by HTTP-based sinks. Injected so that sinks
// can be tested without a network; the production one is libcurl multi.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// Transport failures (connect refused, timeout, TLS) arrive as a retryable
// Status; any HTTP status, even 500, arrives as an HttpResponse.
using HttpDone = std::function<void(Result<HttpResponse>)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Queues the request and returns at once; `done` runs exactly once, on the
  // client's own thread. Thread-safe.
  virtual void Send(HttpRequest request, HttpDone done) = 0;
  // Fails outstanding requests (their done runs) and stops the thread.
  virtual void Shutdown() = 0;
};

}  // namespace sluice
