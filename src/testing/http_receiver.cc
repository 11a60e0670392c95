#include "testing/http_receiver.h"

#include <pthread.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace sluice::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr uint64_t kMaxBodyBytes = 64ull << 20;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string ReceivedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool ReceivedRequest::HasHeader(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

// One listening socket and its connections, all on one io_context thread.
// Created by Start(), destroyed by Stop().
class HttpReceiver::Server {
 public:
  explicit Server(HttpReceiver* owner) : owner_(owner) {}

  ~Server() { Shutdown(); }

  Status Listen(uint16_t port, uint16_t* bound_port) {
    error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1", ec), port);
    if (!ec) acceptor_.open(endpoint.protocol(), ec);
    // Lets a restarted receiver bind the port again while connections of the
    // previous run linger in TIME_WAIT.
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) *bound_port = acceptor_.local_endpoint(ec).port();
    if (ec) {
      return Status::Retryable("test HTTP receiver cannot listen on 127.0.0.1:" +
                               std::to_string(port) + ": " + ec.message());
    }
    Accept();
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "test-http-recv");
      io_.run();
    });
    return Status::Ok();
  }

  void Shutdown() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      error_code ec;
      acceptor_.close(ec);
      for (auto& weak : sessions_) {
        if (auto session = weak.lock()) session->Close();
      }
      sessions_.clear();
      io_.stop();
    });
    thread_.join();
  }

 private:
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(HttpReceiver* owner, tcp::socket socket, uint64_t id)
        : owner_(owner), socket_(std::move(socket)), timer_(socket_.get_executor()), id_(id) {}

    ~Session() { Settle(); }

    void ReadNext() {
      parser_.emplace();
      parser_->body_limit(kMaxBodyBytes);
      http::async_read(socket_, buffer_, *parser_,
                       [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
    }

    void Close() {
      Settle();
      error_code ec;
      timer_.cancel();
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }

   private:
    void OnRead(error_code ec) {
      if (ec) {
        Close();
        return;
      }
      const auto& req = parser_->get();
      ReceivedRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      for (const auto& field : req) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = req.body();
      request.arrival = std::chrono::steady_clock::now();
      request.connection_id = id_;

      std::chrono::milliseconds delay{0};
      HttpReply reply = owner_->OnRequest(std::move(request), &delay);
      pending_reply_ = true;

      response_ = {};
      response_.version(req.version());
      response_.result(static_cast<unsigned>(reply.status));
      response_.set(http::field::server, "sluice-test-receiver");
      response_.set(http::field::content_type, "text/plain");
      response_.keep_alive(req.keep_alive());
      // 1xx, 204 and 304 carry no body; Beast's prepare_payload throws for
      // one.
      const int status = reply.status;
      if (status >= 200 && status != 204 && status != 304) response_.body() = std::move(reply.body);
      response_.prepare_payload();

      if (delay.count() > 0) {
        timer_.expires_after(delay);
        timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
          if (!wait_ec) self->Reply();
        });
      } else {
        Reply();
      }
    }

    void Reply() {
      http::async_write(socket_, response_, [self = shared_from_this()](error_code ec, size_t) {
        self->OnWritten(ec);
      });
    }

    void OnWritten(error_code ec) {
      Settle();
      if (ec || !response_.keep_alive()) {
        Close();
        return;
      }
      ReadNext();
    }

    // Balances OnRequest exactly once per request.
    void Settle() {
      if (!pending_reply_) return;
      pending_reply_ = false;
      owner_->OnReplied();
    }

    HttpReceiver* owner_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    uint64_t id_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    bool pending_reply_ = false;
  };

  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (!acceptor_.is_open()) return;
      if (!ec) {
        std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
        auto session = std::make_shared<Session>(owner_, std::move(socket), owner_->OnAccepted());
        sessions_.push_back(session);
        session->ReadNext();
      }
      Accept();
    });
  }

  HttpReceiver* owner_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};
  std::vector<std::weak_ptr<Session>> sessions_;  // server thread only
  std::thread thread_;
};

HttpReceiver::HttpReceiver() = default;
HttpReceiver::~HttpReceiver() { Stop(); }

Status HttpReceiver::Start() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (server_ != nullptr) return Status::Permanent("test HTTP receiver is already running");
  uint16_t port = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    port = port_;
  }
  auto server = std::make_unique<Server>(this);
  uint16_t bound = 0;
  SLUICE_RETURN_IF_ERROR(server->Listen(port, &bound));
  {
    std::lock_guard<std::mutex> lock(mu_);
    port_ = bound;
  }
  server_ = std::move(server);
  return Status::Ok();
}

void HttpReceiver::Stop() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (server_ == nullptr) return;
  server_->Shutdown();
  server_.reset();
}

bool HttpReceiver::running() const {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  return server_ != nullptr;
}

uint16_t HttpReceiver::port() const {
  std::lock_guard<std::mutex> lock(mu_);
  return port_;
}

std::string HttpReceiver::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void HttpReceiver::SetResponder(Responder responder) {
  SetReplyFunction([responder = std::move(responder)](const ReceivedRequest& request) {
    int status = responder(request);
    HttpReply reply;
    reply.status = status;
    if (status < 200 || status > 299) reply.body = "status " + std::to_string(status);
    return reply;
  });
}

void HttpReceiver::SetReplyFunction(ReplyFunction reply) {
  std::lock_guard<std::mutex> lock(mu_);
  reply_ = std::move(reply);
}

void HttpReceiver::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

std::vector<ReceivedRequest> HttpReceiver::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t HttpReceiver::RequestCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

void HttpReceiver::ClearRequests() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
  changed_.notify_all();
}

bool HttpReceiver::WaitFor(const Predicate& predicate, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return predicate(requests_); });
}

bool HttpReceiver::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  return WaitFor([count](const std::vector<ReceivedRequest>& r) { return r.size() >= count; },
                 timeout);
}

int HttpReceiver::InFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

int HttpReceiver::MaxInFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

uint64_t HttpReceiver::ConnectionsAccepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

HttpReply HttpReceiver::OnRequest(ReceivedRequest request, std::chrono::milliseconds* delay) {
  ReplyFunction reply_function;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    *delay = delay_;
    reply_function = reply_;
  }
  // The reply function runs outside the lock so that it may read the
  // receiver's state; the request is recorded after it, so a waiter that sees
  // the request also sees the reply decided.
  HttpReply reply = reply_function ? reply_function(request) : HttpReply{};
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(std::move(request));
  changed_.notify_all();
  return reply;
}

void HttpReceiver::OnReplied() {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  changed_.notify_all();
}

uint64_t HttpReceiver::OnAccepted() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++connections_;
}

}  // namespace sluice::testing
