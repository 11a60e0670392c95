// What an HTTP handler sees: a Request, a Response it builds, and a Responder
// it calls, now or later, from any thread. No Beast types: handlers (pull
// queue, management API) are written and tested without the server.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::api {

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // "/api/streams/orders/receive?x=1", as sent
  std::string path;    // "/api/streams/orders/receive" (still percent-encoded)
  std::string query;   // "x=1"; empty when absent
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  // Filled by the router: {name} segments of the route pattern, percent-decoded.
  std::map<std::string, std::string, std::less<>> path_params;
  // The name of the API token that authenticated the request (config
  // api_tokens[].name); empty for public routes or when no tokens are configured.
  std::string token_name;
  std::string remote;  // peer "address:port", for logs

  // The first header named `name` (case-insensitive); empty when absent.
  std::string_view Header(std::string_view name) const;
  // The path parameter `name`; empty when the route has no such parameter.
  std::string_view PathParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  // Extra headers (Allow, WWW-Authenticate, Retry-After, ...). The server sets
  // Content-Type, Content-Length, Connection, Server and Cache-Control itself.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends the response to one request. Copyable; every copy refers to the same
// request. Thread-safe: may be called from any thread, at any later time.
//
// - The first call wins; later calls are ignored.
// - When the client has gone away (or the server has closed the connection)
//   responding is a harmless no-op.
// - When the last copy is destroyed without a call, the client gets a 500
//   ("the handler did not respond"), so a lost responder never hangs a client.
// - Must not be called, or its last copy destroyed, after the io_context the
//   server runs on has been destroyed.
class Responder {
 public:
  // `deliver` receives the response exactly once (the server's posts it to the
  // connection; tests and adapters pass their own).
  explicit Responder(std::function<void(Response)> deliver);

  void operator()(Response response) const;

  // True once the client is gone (or the server gave up on the request); a
  // long-poll handler may then stop waiting.
  bool Cancelled() const;
  // Runs `on_cancel` once if the request is cancelled before it is answered:
  // at once on the calling thread when already cancelled, else later on the
  // connection's thread. Responding drops the callback (it never runs after a
  // response), so it may capture objects that live until the response.
  // Replaces an earlier callback.
  void OnCancel(std::function<void()> on_cancel) const;

  // Lets the owner of a connection cancel the request without keeping the
  // responder alive (keeping it would defeat the "not answered" 500).
  class CancelHandle {
   public:
    CancelHandle() = default;
    // Marks the request cancelled and runs the OnCancel callback, unless it
    // was already answered. Later responses are dropped.
    void Cancel() const;
    bool Answered() const;

   private:
    friend class Responder;
    struct State;
    explicit CancelHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };
  CancelHandle GetCancelHandle() const;

 private:
  struct Handle;
  std::shared_ptr<Handle> handle_;
};

}  // namespace sluice::api
