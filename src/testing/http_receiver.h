// A real HTTP/1.1 server for tests (Boost.Beast), listening on 127.0.0.1 on a
// port the OS picks. It records every request and answers with a status the
// test chooses, optionally after a delay; it can be stopped (clients then see
// "connection refused") and started again on the same port to simulate a
// receiver that goes down and comes back.
//
// Thread-safety: every method may be called from any thread. The server runs
// on its own thread; responders run on it and must not call Stop()/Start().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice::testing {

struct ReceivedRequest {
  std::string method;                                        // "POST"
  std::string target;                                        // "/hooks/orders?x=1"
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  std::chrono::steady_clock::time_point arrival;
  uint64_t connection_id = 0;  // requests on one kept-alive connection share it

  // The first header named `name` (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct HttpReply {
  int status = 200;
  std::string body = "ok";
};

class HttpReceiver {
 public:
  // Decides the status of the reply. Runs on the server thread.
  using Responder = std::function<int(const ReceivedRequest&)>;
  using ReplyFunction = std::function<HttpReply(const ReceivedRequest&)>;
  using Predicate = std::function<bool(const std::vector<ReceivedRequest>&)>;

  HttpReceiver();
  ~HttpReceiver();  // Stops.
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  // Listens on 127.0.0.1: the first time on a free port picked by the OS,
  // after a Stop() on that same port again. Error if already running or the
  // port cannot be bound.
  Status Start();
  // Closes the listener and every connection (requests waiting for their
  // delayed reply get none) and joins the server thread. Idempotent. Recorded
  // requests are kept.
  void Stop();
  bool running() const;

  // 0 before the first Start().
  uint16_t port() const;
  // "http://127.0.0.1:<port>"
  std::string url() const;

  // Status to answer (default: 200 with body "ok"; other statuses get the body
  // "status <code>").
  void SetResponder(Responder responder);
  // Full control over the reply. Replaces any Responder.
  void SetReplyFunction(ReplyFunction reply);
  // Wait this long after a request arrived before answering (0 by default).
  // The wait does not block other connections.
  void SetDelay(std::chrono::milliseconds delay);

  // Every request received since construction (or ClearRequests), in arrival
  // order.
  std::vector<ReceivedRequest> Requests() const;
  size_t RequestCount() const;
  void ClearRequests();

  // Waits until `predicate` (called under the receiver's lock with the
  // recorded requests; must not call into the receiver) is true or `timeout`
  // passes. Returns the predicate's last value.
  bool WaitFor(const Predicate& predicate, std::chrono::milliseconds timeout) const;
  // Waits until at least `count` requests have arrived.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  // Requests that arrived and were not yet answered, now and at most ever.
  int InFlight() const;
  int MaxInFlight() const;
  // TCP connections accepted since construction.
  uint64_t ConnectionsAccepted() const;

 private:
  class Server;
  friend class Server;

  // Server thread callbacks. OnRequest records an arrival and returns the
  // reply and how long to wait before sending it; OnReplied balances it once
  // the reply is written or the connection is gone.
  HttpReply OnRequest(ReceivedRequest request, std::chrono::milliseconds* delay);
  void OnReplied();
  uint64_t OnAccepted();

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<ReceivedRequest> requests_;  // guarded by mu_
  ReplyFunction reply_;                    // guarded by mu_
  std::chrono::milliseconds delay_{0};     // guarded by mu_
  int in_flight_ = 0;                      // guarded by mu_
  int max_in_flight_ = 0;                  // guarded by mu_
  uint64_t connections_ = 0;               // guarded by mu_
  uint16_t port_ = 0;                      // guarded by mu_

  mutable std::mutex lifecycle_mu_;  // serialises Start/Stop
  std::unique_ptr<Server> server_;   // guarded by lifecycle_mu_
};

}  // namespace sluice::testing
