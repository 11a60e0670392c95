#include "api/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "api/auth.h"
#include "api/json_error.h"
#include "common/log.h"
#include "metrics/text_format.h"

namespace sluice::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// While a handler works, the connection keeps reading (to notice the client
// leaving) into its buffer, up to this many bytes of a pipelined request.
constexpr size_t kMaxReadAhead = 64 * 1024;
constexpr size_t kReadChunk = 4096;
// After an error response that closes the connection, the rest of the request
// is read and dropped for this long: closing a socket with unread data sends
// a reset, and the client would lose the response (RFC 9112 §9.6).
constexpr auto kLingerTime = std::chrono::seconds(2);
// How long Stop() waits for connections to vanish after forcing them closed.
constexpr auto kForceCloseWait = std::chrono::seconds(1);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// Route label for requests that matched no route (keeps label values bounded).
constexpr std::string_view kUnmatchedRoute = "unmatched";

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

bool IsLoopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

std::string_view ToStd(beast::string_view text) { return {text.data(), text.size()}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Header names and values from handlers must not smuggle CR/LF onto the wire.
std::string SanitizeHeader(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

class Session;

}  // namespace

struct HttpServer::Core : std::enable_shared_from_this<HttpServer::Core> {
  Core(asio::io_context& io_context, HttpServerOptions server_options, Authenticator authenticator,
       metrics::Registry& metrics_registry)
      : io(io_context),
        options(std::move(server_options)),
        auth(std::move(authenticator)),
        registry(metrics_registry),
        requests(registry.AddCounter("sluice_http_requests_total",
                                     "HTTP requests answered, by route pattern and status code.")),
        accepted(registry
                     .AddCounter("sluice_http_connections_accepted_total",
                                 "HTTP connections accepted since start.")
                     .Add({})),
        acceptor(asio::make_strand(io)),
        accept_retry(acceptor.get_executor()),
        stop_timer(acceptor.get_executor()) {}

  void Accept();
  void OnAccept(const beast::error_code& ec, tcp::socket socket);
  // Runs a parsed request through auth and the router; returns the route
  // label for metrics. On the connection's strand.
  std::string Dispatch(Request request, Responder respond);
  Response Health();
  void SessionGone(uint64_t id);
  // Bars handlers and force-closes every connection. `wait`: block until
  // running handlers return.
  void ForceCloseAll(bool wait);
  std::vector<std::shared_ptr<Session>> LiveSessions();

  asio::io_context& io;
  const HttpServerOptions options;
  const Authenticator auth;
  Router router;
  HealthCheck health_check;
  metrics::Registry& registry;
  metrics::CounterFamily& requests;
  // Read by the sluice_http_connections callback, which HttpServer removes
  // when destroyed: sessions may outlive the server (and the registry) by a
  // few loop iterations, so they must not touch a metric themselves.
  std::atomic<int64_t> open_connections{0};
  metrics::Counter& accepted;
  tcp::acceptor acceptor;  // on its own strand
  asio::steady_timer accept_retry;
  asio::steady_timer stop_timer;
  tcp::endpoint endpoint;
  bool accept_error_logged = false;  // acceptor strand
  bool started = false;              // owning thread

  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::weak_ptr<Session>> sessions;  // guarded by mu
  uint64_t next_session_id = 1;                         // guarded by mu
  bool stopping = false;                                // guarded by mu
  bool handlers_closed = false;                         // guarded by mu
  int handlers_running = 0;                             // guarded by mu
};

namespace {

// One connection. Everything runs on the socket's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Core> core, uint64_t id)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        core_(std::move(core)),
        id_(id) {
    beast::error_code ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    remote_ = ec ? "unknown" : FormatEndpoint(peer);
    core_->open_connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() {
    core_->open_connections.fetch_sub(1, std::memory_order_relaxed);
    core_->SessionGone(id_);
  }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }
  // Stop reusing the connection; close it now if it is idle.
  void BeginShutdown() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      if (self->phase_ == Phase::kIdle) self->Close();
    });
  }
  void ForceClose() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase : unsigned char {
    kIdle,       // waiting for the first byte of the next request
    kReading,    // parsing a request
    kHandling,   // a handler has the request; waiting for its response
    kWriting,    // sending the response
    kLingering,  // response sent with Connection: close; draining input
    kClosed,
  };

  void WaitForRequest() {
    if (phase_ == Phase::kClosed) return;  // closed before the first read
    phase_ = Phase::kIdle;
    if (stopping_) return Close();
    ArmTimer(core_->options.idle_timeout);
    if (buffer_.size() > 0) {
      // A pipelined request is already here. A read started while the
      // handler worked may still be pending: cancel it, its completion
      // starts parsing.
      if (read_pending_) {
        beast::error_code ec;
        socket_.cancel(ec);
      } else {
        ReadRequest();
      }
      return;
    }
    if (!read_pending_) StartReadSome();
  }

  void StartReadSome() {
    read_pending_ = true;
    const size_t room =
        phase_ == Phase::kLingering
            ? kReadChunk
            : std::min(kReadChunk, kMaxReadAhead - std::min(kMaxReadAhead, buffer_.size()));
    socket_.async_read_some(
        buffer_.prepare(std::max<size_t>(room, 1)),
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnReadSome(ec, n); });
  }

  void OnReadSome(beast::error_code ec, size_t n) {
    read_pending_ = false;
    if (phase_ == Phase::kClosed) return;
    buffer_.commit(n);
    if (phase_ == Phase::kLingering) {
      buffer_.consume(buffer_.size());
      if (ec) return Close();
      return StartReadSome();
    }
    const bool cancelled_by_us = ec == asio::error::operation_aborted && phase_ == Phase::kIdle;
    if (ec && !cancelled_by_us) {
      // The client closed or reset the connection: fine between requests;
      // while a handler works it cancels the request.
      return Close();
    }
    switch (phase_) {
      case Phase::kIdle:
        if (buffer_.size() == 0) return StartReadSome();
        return ReadRequest();
      case Phase::kHandling:
      case Phase::kWriting:
        if (buffer_.size() < kMaxReadAhead) StartReadSome();
        return;
      default:
        return;
    }
  }

  void ReadRequest() {
    phase_ = Phase::kReading;
    ArmTimer(core_->options.read_timeout);
    parser_.emplace();
    parser_->header_limit(core_->options.max_header_bytes);
    parser_->body_limit(core_->options.max_body_bytes);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return OnReadError(ec);
    const auto& request = parser_->get();
    if (!parser_->is_done() && request.version() >= 11 &&
        EqualsIgnoreCase(ToStd(request[http::field::expect]), "100-continue")) {
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code write_ec, size_t) {
                          if (self->phase_ == Phase::kClosed) return;
                          if (write_ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (self->phase_ == Phase::kClosed) return;
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    route_label_ = kUnmatchedRoute;
    version_ = 11;
    if (ec == http::error::body_limit) {
      return Send(PayloadTooLarge(core_->options.max_body_bytes), false);
    }
    if (ec == http::error::header_limit) {
      return Send(ErrorResponse(431, ErrorCode::kHeadersTooLarge,
                                "request headers exceed the limit of " +
                                    std::to_string(core_->options.max_header_bytes) + " bytes"),
                  false);
    }
    const bool closed_by_client =
        ec == http::error::end_of_stream || ec == http::error::partial_message;
    if (ec.category() == beast::http::make_error_code(http::error::bad_method).category() &&
        !closed_by_client) {
      return Send(BadRequest("malformed HTTP request: " + ec.message()), false);
    }
    Close();  // socket error, timeout, or the client went away mid-request
  }

  void Dispatch() {
    DisarmTimer();  // the handler decides how long it takes
    phase_ = Phase::kHandling;
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    parser_.reset();
    method_ = request.method;
    path_ = request.path;
    started_ = Clock::now();

    Responder respond([weak = weak_from_this(), executor = socket_.get_executor()](Response r) {
      if (weak.expired()) return;
      asio::post(executor, [weak, r = std::move(r)]() mutable {
        if (auto self = weak.lock()) self->OnResponse(std::move(r));
      });
    });
    pending_ = respond.GetCancelHandle();
    if (!read_pending_ && buffer_.size() < kMaxReadAhead) StartReadSome();
    route_label_ = core_->Dispatch(std::move(request), std::move(respond));
  }

  void OnResponse(Response response) {
    if (phase_ != Phase::kHandling) return;
    pending_ = {};
    Send(std::move(response), keep_alive_ && !stopping_);
  }

  void Send(Response response, bool keep_alive) {
    phase_ = Phase::kWriting;
    if (response.status < 100 || response.status > 599) {
      response =
          InternalError("handler returned invalid status " + std::to_string(response.status));
    }
    core_->requests.Add({{"route", route_label_}, {"code", std::to_string(response.status)}})
        .Increment();
    if (!method_.empty() && log::CurrentLevel() <= log::Level::kDebug) {
      log::Debug(
          "http request",
          {{"method", method_},
           {"path", path_},
           {"status", response.status},
           {"ms", static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_)
                          .count())},
           {"remote", remote_}});
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(http::field::server, "sluice");
    response_.set(http::field::content_type, SanitizeHeader(response.content_type));
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) {
      response_.insert(SanitizeHeader(name), SanitizeHeader(value));
    }
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    ArmTimer(core_->options.write_timeout);
    http::async_write(socket_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->OnWrite(ec, keep_alive);
                      });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    if (phase_ == Phase::kClosed) return;
    response_ = {};
    method_.clear();
    if (ec) return Close();
    if (!keep_alive) return Linger();
    WaitForRequest();
  }

  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    ArmTimer(kLingerTime);
    // A pending read (started while the handler worked) drains on completion.
    if (!read_pending_) {
      buffer_.consume(buffer_.size());
      StartReadSome();
    }
  }

  void ArmTimer(Clock::duration timeout) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->timer_generation_ || self->phase_ == Phase::kClosed) return;
      log::Debug("http connection timed out",
                 {{"remote", self->remote_}, {"phase", static_cast<int>(self->phase_)}});
      self->Close();
    });
  }

  void DisarmTimer() {
    ++timer_generation_;
    timer_.cancel();
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    DisarmTimer();
    Responder::CancelHandle pending = std::move(pending_);
    pending_ = {};
    pending.Cancel();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  Phase phase_ = Phase::kIdle;
  bool read_pending_ = false;
  bool stopping_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  Responder::CancelHandle pending_;
  std::string route_label_;
  std::string method_;
  std::string path_;
  Clock::time_point started_;
  std::shared_ptr<HttpServer::Core> core_;
  const uint64_t id_;
  std::string remote_;
};

// "host:port" -> host (brackets removed) and port; false when malformed.
bool SplitListen(const std::string& listen, std::string& host, std::string& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  port = listen.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      port.size() > 5 || std::stoi(port) > 65535) {
    return false;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false;  // bare IPv6 needs brackets
  }
  return true;
}

}  // namespace

void HttpServer::Core::Accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          self->OnAccept(ec, std::move(socket));
                        });
}

void HttpServer::Core::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Typically EMFILE: back off instead of spinning on the same error.
    if (!accept_error_logged) {
      log::Warn("http accept failed; retrying", {{"error", ec.message()}});
      accept_error_logged = true;
    }
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->Accept();
    });
    return;
  }
  accept_error_logged = false;
  accepted.Increment();
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu);
    if (stopping) return;  // `socket` closes as it goes out of scope
    if (sessions.size() >= options.max_connections) {
      log::Warn("http connection refused: too many connections",
                {{"max_connections", static_cast<unsigned long>(options.max_connections)}});
    } else {
      beast::error_code option_ec;
      socket.set_option(tcp::no_delay(true), option_ec);
      const uint64_t id = next_session_id++;
      session = std::make_shared<Session>(std::move(socket), shared_from_this(), id);
      sessions.emplace(id, session);
    }
  }
  if (session) session->Start();
  Accept();
}

std::string HttpServer::Core::Dispatch(Request request, Responder respond) {
  const bool is_api = request.path == "/api" || request.path.starts_with("/api/");
  // Authenticate before routing, so that without a token nothing about the
  // API (which routes exist, which methods) can be learned.
  if (is_api) {
    Authenticator::Decision decision = auth.Check(request.Header("Authorization"));
    if (!decision.allowed()) {
      respond(std::move(*decision.rejection));
      return std::string(kUnmatchedRoute);
    }
    request.token_name = std::move(decision.token_name);
  }
  Router::Match match = router.Find(request.method, request.path);
  switch (match.kind) {
    case Router::Match::Kind::kBadPath:
      respond(BadRequest(match.error));
      return std::string(kUnmatchedRoute);
    case Router::Match::Kind::kNotFound:
      respond(NotFound("no route for " + request.method + " " + request.path));
      return std::string(kUnmatchedRoute);
    case Router::Match::Kind::kMethodNotAllowed:
      respond(MethodNotAllowed(request.method, request.path, match.allowed));
      return std::string(kUnmatchedRoute);
    case Router::Match::Kind::kFound:
      break;
  }
  {
    std::lock_guard lock(mu);
    if (handlers_closed) {
      respond(ServiceUnavailable("the server is shutting down"));
      return match.pattern;
    }
    ++handlers_running;
  }
  request.path_params = std::move(match.params);
  // Handlers are ours and should not throw; if one does, the client gets a
  // 500 and the process lives on.
  try {
    (*match.handler)(std::move(request), respond);
  } catch (const std::exception& e) {
    log::Error("http handler threw", {{"route", match.pattern}, {"error", e.what()}});
    respond(InternalError(std::string("internal error: ") + e.what()));
  } catch (...) {
    log::Error("http handler threw", {{"route", match.pattern}});
    respond(InternalError("internal error"));
  }
  {
    std::lock_guard lock(mu);
    --handlers_running;
  }
  cv.notify_all();
  return match.pattern;
}

Response HttpServer::Core::Health() {
  std::vector<std::string> reasons;
  if (health_check) {
    try {
      reasons = health_check();
    } catch (const std::exception& e) {
      reasons.push_back(std::string("health check failed: ") + e.what());
    }
  }
  {
    std::lock_guard lock(mu);
    if (stopping) reasons.push_back("shutting down");
  }
  if (reasons.empty()) return JsonResponse(200, {{"status", "ok"}});
  return JsonResponse(503, {{"status", "unavailable"}, {"reasons", reasons}});
}

void HttpServer::Core::SessionGone(uint64_t id) {
  {
    std::lock_guard lock(mu);
    sessions.erase(id);
  }
  cv.notify_all();
}

std::vector<std::shared_ptr<Session>> HttpServer::Core::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(mu);
  for (auto& [id, weak] : sessions) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

void HttpServer::Core::ForceCloseAll(bool wait) {
  {
    std::unique_lock lock(mu);
    handlers_closed = true;
    if (wait) cv.wait(lock, [&] { return handlers_running == 0; });
  }
  for (auto& session : LiveSessions()) session->ForceClose();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(asio::io_context& io,
                                                       HttpServerOptions options,
                                                       metrics::Registry& registry) {
  const std::string listen = options.listen;
  std::string host;
  std::string port;
  if (!SplitListen(listen, host, port)) {
    return Status::Permanent("server.listen \"" + listen +
                             "\": expected \"host:port\" (e.g. \"127.0.0.1:7376\" or "
                             "\"[::1]:7376\")");
  }
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::Permanent("server.listen \"" + listen + "\": cannot resolve \"" + host +
                             "\": " + (ec ? ec.message() : "no address"));
  }
  const tcp::endpoint wanted = endpoints.begin()->endpoint();
  SLUICE_ASSIGN_OR_RETURN(
      Authenticator auth,
      Authenticator::Create(options.api_tokens, IsLoopback(wanted.address()), listen));

  auto core = std::make_shared<Core>(io, std::move(options), std::move(auth), registry);
  tcp::acceptor& acceptor = core->acceptor;
  auto fail = [&](const char* step) {
    return Status::Permanent("server.listen \"" + listen + "\": cannot " + step + " " +
                             FormatEndpoint(wanted) + ": " + ec.message() +
                             (ec == asio::error::address_in_use
                                  ? " (is another Sluice running? pick another port)"
                                  : ""));
  };
  acceptor.open(wanted.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  acceptor.bind(wanted, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  core->endpoint = acceptor.local_endpoint(ec);
  if (ec) return fail("read the bound address of");

  Core* raw = core.get();
  Status status =
      core->router.AddSync("GET", "/health", [raw](const Request&) { return raw->Health(); });
  if (status.ok()) {
    status = core->router.AddSync("GET", "/metrics", [raw](const Request&) {
      Response response;
      response.content_type = std::string(metrics::kTextContentType);
      response.body = raw->registry.RenderText();
      return response;
    });
  }
  if (!status.ok()) return status;
  auto* connections = &registry.AddGauge("sluice_http_connections", "Open HTTP connections.");
  connections->AddCallback({}, [raw] {
    return static_cast<double>(raw->open_connections.load(std::memory_order_relaxed));
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(core), connections));
}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  connections_gauge_->Remove({});
}

Router& HttpServer::router() { return core_->router; }

void HttpServer::SetHealthCheck(HealthCheck check) { core_->health_check = std::move(check); }

void HttpServer::Start() {
  if (core_->started) return;
  core_->started = true;
  log::Info("http server listening",
            {{"address", local_address()},
             {"api_auth", core_->auth.required() ? "bearer tokens" : "none (loopback only)"}});
  asio::post(core_->acceptor.get_executor(), [core = core_] { core->Accept(); });
}

uint16_t HttpServer::port() const { return core_->endpoint.port(); }

std::string HttpServer::local_address() const { return FormatEndpoint(core_->endpoint); }

bool HttpServer::auth_required() const { return core_->auth.required(); }

void HttpServer::Stop(std::chrono::milliseconds grace) {
  Core& core = *core_;
  {
    std::lock_guard lock(core.mu);
    if (core.stopping) return;
    core.stopping = true;
  }
  asio::post(core.acceptor.get_executor(), [core = core_] {
    beast::error_code ec;
    core->accept_retry.cancel();
    core->acceptor.close(ec);
  });
  for (auto& session : core.LiveSessions()) session->BeginShutdown();

  if (core.io.get_executor().running_in_this_thread()) {
    // Waiting here would stall the loop the connections need: finish later.
    core.stop_timer.expires_after(grace);
    core.stop_timer.async_wait(
        [core = core_](beast::error_code) { core->ForceCloseAll(/*wait=*/false); });
    return;
  }
  {
    std::unique_lock lock(core.mu);
    core.cv.wait_for(lock, grace, [&] { return core.sessions.empty(); });
  }
  core.ForceCloseAll(/*wait=*/true);
  std::unique_lock lock(core.mu);
  core.cv.wait_for(lock, kForceCloseWait, [&] { return core.sessions.empty(); });
}

}  // namespace sluice::api
