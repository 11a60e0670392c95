#include "sinks/common/curl_http_client.h"

#include <curl/curl.h>
#include <pthread.h>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice {
namespace {

std::once_flag curl_init_once;

// How long one curl_multi_poll may sleep when nothing happens. Sends and
// Shutdown wake it at once, so this only bounds the cost of a lost wakeup.
constexpr int kPollTimeoutMs = 1000;

bool HasLineBreak(std::string_view text) { return text.find_first_of("\r\n") != text.npos; }

}  // namespace

std::string RedactUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t authority_begin = scheme_end == url.npos ? 0 : scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == url.npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  size_t at = authority.rfind('@');
  if (at != authority.npos) authority.remove_prefix(at + 1);
  std::string_view rest = url.substr(authority_end);
  rest = rest.substr(0, rest.find_first_of("?#"));

  std::string out(url.substr(0, authority_begin));
  out.append(authority);
  out.append(rest);
  return out;
}

struct CurlHttpClient::Transfer {
  HttpRequest request;
  HttpDone done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  // "POST http://host/path" for error messages.
  std::string What() const { return request.method + " " + RedactUrl(request.url); }

  // The result of a finished transfer; moves the response out.
  Result<HttpResponse> Outcome(CURLcode code) {
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      response.status = status;
      return std::move(response);
    }
    std::string message = What() + ": " + (error[0] != '\0' ? error : curl_easy_strerror(code));
    // A URL curl cannot use will never work; everything else (refused, reset,
    // DNS, TLS, timeout) may on the next attempt.
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
      return Status::Permanent(std::move(message));
    }
    return Status::Retryable(std::move(message));
  }
};

struct CurlHttpClient::Multi {
  CURLM* handle = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;

  ~Multi() {
    // Transfers must leave the multi handle before their easy handles die.
    for (auto& [easy, transfer] : active) curl_multi_remove_handle(handle, easy);
    active.clear();
    if (handle != nullptr) curl_multi_cleanup(handle);
  }
};

namespace {

size_t OnResponseBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  const size_t room = kMaxHttpResponseBodyBytes - std::min(body->size(), kMaxHttpResponseBodyBytes);
  body->append(data, std::min(bytes, room));
  return bytes;  // Accept (and drop) the rest: returning less would abort the transfer.
}

// Prepares `easy` for `request`. On error the transfer must not be started.
Status SetUp(CURL* easy, HttpRequest& request, curl_slist** headers, HttpResponse* response,
             char* error, void* private_data) {
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) || name.find(':') != name.npos) {
      return Status::Permanent(
          "invalid HTTP header name or value (empty name, ':' in the name, "
          "or a line break)");
    }
    // "Name;" is curl's way to send a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* appended = curl_slist_append(*headers, line.c_str());
    if (appended == nullptr) return Status::Retryable("out of memory building headers");
    *headers = appended;
  }
  // Without this curl waits for "100 Continue" before sending large bodies,
  // costing a round trip (or a second) with servers that never send it.
  curl_slist* appended = curl_slist_append(*headers, "Expect:");
  if (appended == nullptr) return Status::Retryable("out of memory building headers");
  *headers = appended;

  CURLcode rc = CURLE_OK;
  auto check = [&rc](CURLcode code) {
    if (rc == CURLE_OK) rc = code;
  };
  check(curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str()));
  check(curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"));
  check(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
  check(curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L));
  check(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(std::max<int64_t>(1, request.timeout.count()))));
  check(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error));
  check(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnResponseBody));
  check(curl_easy_setopt(easy, CURLOPT_WRITEDATA, static_cast<void*>(&response->body)));
  check(curl_easy_setopt(easy, CURLOPT_PRIVATE, private_data));
  check(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers));

  if (request.method == "GET") {
    check(curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L));
  } else if (request.method == "HEAD") {
    check(curl_easy_setopt(easy, CURLOPT_NOBODY, 1L));
  } else {
    if (request.method != "POST") {
      check(curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str()));
    }
    // The body stays alive in the Transfer for the whole transfer, so curl
    // need not copy it.
    check(curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(request.body.size())));
    check(curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data()));
  }
  if (rc != CURLE_OK)
    return Status::Permanent(std::string("bad request: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace

CurlHttpClient::CurlHttpClient(int max_concurrent_transfers)
    : max_concurrent_(std::max(1, max_concurrent_transfers)), multi_(std::make_unique<Multi>()) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_->handle = curl_multi_init();
  if (multi_->handle != nullptr) {
    // Keep as many idle connections as can be busy at once, so that a burst
    // does not reconnect.
    curl_multi_setopt(multi_->handle, CURLMOPT_MAXCONNECTS, static_cast<long>(max_concurrent_));
  }
  thread_ = std::thread([this] { Run(); });
}

CurlHttpClient::~CurlHttpClient() {
  Shutdown();
  // Shutdown from a done callback could not join its own thread.
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

void CurlHttpClient::Send(HttpRequest request, HttpDone done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_ && multi_->handle != nullptr) {
      queued_.push_back(std::move(transfer));
      // Under the lock so that Shutdown and the destructor cannot free the
      // multi handle between the push and the wakeup.
      curl_multi_wakeup(multi_->handle);
      return;
    }
  }
  std::string what = transfer->What();
  transfer->done(Status::Retryable(what + ": HTTP client is shut down"));
}

void CurlHttpClient::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      if (multi_->handle != nullptr) curl_multi_wakeup(multi_->handle);
    }
  }
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void CurlHttpClient::Run() {
  pthread_setname_np(pthread_self(), "sluice-http");
  if (multi_->handle == nullptr) {
    // curl_multi_init failed (out of memory): fail whatever arrives until shutdown.
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    lock.unlock();
    FailAll();
    return;
  }
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    StartQueued();
    int running = 0;
    curl_multi_perform(multi_->handle, &running);
    // A finished transfer frees a slot for a queued one: go round again
    // without sleeping.
    if (CompleteFinished() > 0) continue;
    curl_multi_poll(multi_->handle, nullptr, 0, kPollTimeoutMs, nullptr);
  }
  FailAll();
}

void CurlHttpClient::StartQueued() {
  std::vector<std::unique_ptr<Transfer>> starting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!queued_.empty() &&
           static_cast<int>(multi_->active.size() + starting.size()) < max_concurrent_) {
      starting.push_back(std::move(queued_.front()));
      queued_.pop_front();
    }
  }
  for (auto& transfer : starting) {
    Transfer& t = *transfer;
    Status status;
    t.easy = curl_easy_init();
    if (t.easy == nullptr) {
      status = Status::Retryable("out of memory creating a transfer");
    } else {
      status = SetUp(t.easy, t.request, &t.headers, &t.response, t.error, &t);
    }
    if (status.ok() && curl_multi_add_handle(multi_->handle, t.easy) != CURLM_OK) {
      status = Status::Retryable("could not start the transfer");
    }
    if (!status.ok()) {
      HttpDone done = std::move(t.done);
      Status error = status.WithContext(t.What());
      transfer.reset();
      done(std::move(error));
      continue;
    }
    CURL* easy = t.easy;
    multi_->active.emplace(easy, std::move(transfer));
  }
}

int CurlHttpClient::CompleteFinished() {
  int finished = 0;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_->handle, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;  // Read before remove_handle invalidates msg.
    auto it = multi_->active.find(easy);
    if (it == multi_->active.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    multi_->active.erase(it);
    curl_multi_remove_handle(multi_->handle, easy);
    ++finished;

    Result<HttpResponse> result = transfer->Outcome(code);
    HttpDone done = std::move(transfer->done);
    transfer.reset();
    done(std::move(result));
  }
  return finished;
}

void CurlHttpClient::FailAll() {
  std::deque<std::unique_ptr<Transfer>> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queued_);
  }
  std::vector<std::unique_ptr<Transfer>> failing;
  for (auto& [easy, transfer] : multi_->active) {
    if (multi_->handle != nullptr) curl_multi_remove_handle(multi_->handle, easy);
    failing.push_back(std::move(transfer));
  }
  multi_->active.clear();
  for (auto& transfer : failing) {
    HttpDone done = std::move(transfer->done);
    std::string what = transfer->What();
    transfer.reset();
    done(Status::Retryable(what + ": HTTP client shut down before the response arrived"));
  }
  for (auto& transfer : queued) {
    HttpDone done = std::move(transfer->done);
    std::string what = transfer->What();
    transfer.reset();
    done(Status::Retryable(what + ": HTTP client shut down before the request was sent"));
  }
}

}  // namespace sluice
