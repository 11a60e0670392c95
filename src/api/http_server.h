// The daemon's HTTP/1.1 server (Boost.Beast): /health, /metrics and the API
// under /api (pull queue, management), on an io_context the caller runs.
//
// - Many connections, keep-alive and pipelining, one request at a time per
//   connection; each connection lives on its own strand.
// - Handlers are asynchronous (router.h): a long poll keeps a Responder, not a
//   thread, so one loop thread serves any number of waiting clients. While a
//   handler works the server keeps reading the socket, so a client that goes
//   away is noticed: its Responder is cancelled (Responder::OnCancel) and a
//   late response is dropped.
// - Limits: request bodies above max_body_bytes get 413, headers above
//   max_header_bytes 431, malformed requests 400 (each closes the connection
//   after the response); a request must arrive within read_timeout once it
//   has started, a kept-alive connection may idle for idle_timeout, a
//   response must be written within write_timeout. There is no deadline while
//   a handler works: the handler owns that (e.g. a long poll's wait_for).
// - Auth: /api and /api/* need a Bearer token (auth.h for the policy);
//   everything else (/health, /metrics) is public, so never register a
//   sensitive route outside /api.
// - Every error is the JSON envelope of json_error.h.
//
// Thread-safety: Create, router(), SetHealthCheck and Start are for the
// owning thread, before Start. Stop may be called from any thread (and is
// idempotent); port()/local_address() are safe after Create.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/router.h"
#include "common/status.h"
#include "config/config.h"
#include "metrics/registry.h"

namespace sluice::api {

struct HttpServerOptions {
  // "host:port": "127.0.0.1:7376", "[::1]:7376", "0.0.0.0:7376",
  // "localhost:7376". A name binds its first address. Port 0 lets the OS pick
  // a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:7376";
  std::vector<config::ApiToken> api_tokens;
  // 1 MiB fits an ack of thousands of ids; anything bigger is a mistake or an
  // attack, and the body is held in memory.
  size_t max_body_bytes = 1 << 20;
  uint32_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds read_timeout{30000};
  // Longer than typical client pools keep idle connections (curl, Go: 90 s
  // would be too long for a server holding file descriptors).
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{30000};
  // Beyond this many open connections new ones are closed at once (protects
  // file descriptors; long polls each hold one connection).
  size_t max_connections = 4096;
};

// Returns why the process is unhealthy; empty when healthy. Runs on a loop
// thread for each GET /health, possibly on several threads at once: must be
// quick, thread-safe and must not block (read atomics).
using HealthCheck = std::function<std::vector<std::string>()>;

class HttpServer {
 public:
  // Applies the auth policy, resolves and binds `options.listen` (so a busy
  // port is a start-up error, not a later surprise) and registers GET /health
  // and GET /metrics (served from `registry`), and its own metrics
  // (sluice_http_*; one server per registry). Does not accept before Start().
  // `io` and `registry` must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Create(boost::asio::io_context& io,
                                                    HttpServerOptions options,
                                                    metrics::Registry& registry);
  // Stop(0) if not stopped yet.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Add routes before Start(). Handlers must stay callable until Stop()
  // returns; none is called after that.
  Router& router();
  // Default: always healthy.
  void SetHealthCheck(HealthCheck check);
  // Starts accepting connections on the io_context. Once; later calls do nothing.
  void Start();

  // The bound port (the real one when listen asked for port 0).
  uint16_t port() const;
  // "127.0.0.1:7376" or "[::1]:7376": where the server listens.
  std::string local_address() const;
  // Whether /api needs a token (false: no tokens configured, loopback only).
  bool auth_required() const;

  // Graceful stop: stops accepting, closes idle connections, lets requests
  // already being read or handled finish (their responses say
  // "Connection: close") for up to `grace`, then closes whatever is left
  // (pending Responders become no-ops). After it returns no handler runs.
  // Called on a thread that is not running the io_context, it blocks until
  // done (the io_context must be running); called on a loop thread (say, from
  // a handler) it only starts the stop and the rest happens on the loop.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  struct Core;

 private:
  HttpServer(std::shared_ptr<Core> core, metrics::GaugeFamily* connections_gauge)
      : core_(std::move(core)), connections_gauge_(connections_gauge) {}
  std::shared_ptr<Core> core_;
  metrics::GaugeFamily* connections_gauge_;
};

}  // namespace sluice::api
