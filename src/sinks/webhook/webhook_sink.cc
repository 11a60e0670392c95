#include "sinks/webhook/webhook_sink.h"

#include <openssl/evp.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "sinks/common/curl_http_client.h"

namespace sluice {
namespace {

// How much of a failed response's body an error message quotes.
constexpr size_t kErrorBodyExcerptBytes = 200;
// How long Close waits beyond the request timeout before it gives up on
// outstanding requests (the HTTP client may have had them queued).
constexpr std::chrono::milliseconds kCloseMargin{5000};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The first bytes of `body`, cut at a UTF-8 character boundary, with control
// characters as spaces so that the error stays on one line.
std::string Excerpt(std::string_view body) {
  size_t size = body.size();
  bool cut = false;
  if (size > kErrorBodyExcerptBytes) {
    size = kErrorBodyExcerptBytes;
    while (size > 0 && (static_cast<unsigned char>(body[size]) & 0xC0) == 0x80) --size;
    cut = true;
  }
  std::string out(body.substr(0, size));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (cut) out += "...";
  return out;
}

Status ResponseStatus(const Result<HttpResponse>& result, const std::string& url) {
  if (!result.ok()) {
    // The client's message already reads "POST <url>: <what failed>".
    const Status& error = result.status();
    std::string message = "webhook " + error.message();
    if (error.IsPermanent()) return Status::Permanent(std::move(message));
    if (error.IsFatal()) return Status::Fatal(std::move(message));
    return Status::Retryable(std::move(message));
  }
  const long code = result->status;
  if (code >= 200 && code <= 299) return Status::Ok();
  std::string message = "webhook POST " + url + " returned " + std::to_string(code);
  message += result->body.empty() ? " (empty body)" : ": " + Excerpt(result->body);
  // The request itself is wrong (bad URL path, auth, payload rejected), so the
  // same request will fail again; 408 and 429 ask to come back later.
  const bool permanent = code >= 400 && code <= 499 && code != 408 && code != 429;
  return permanent ? Status::Permanent(std::move(message)) : Status::Retryable(std::move(message));
}

int64_t UnixSecondsNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Outstanding writes. Response callbacks hold it by shared_ptr, so a response
// that arrives after Close gave up (or after the sink is gone) finds no entry
// and is dropped.
struct WebhookSink::State : std::enable_shared_from_this<WebhookSink::State> {
  struct Waiting {
    uint64_t id;
    HttpRequest request;
  };

  HttpClient* http = nullptr;  // outlives the sink and every request
  std::string redacted_url;
  int concurrency = 1;

  std::mutex mu;
  std::condition_variable idle;
  bool closed = false;
  uint64_t next_id = 0;
  int sending = 0;                                  // requests handed to `http`
  std::unordered_map<uint64_t, WriteDone> pending;  // sent or waiting
  std::deque<Waiting> waiting;                      // over the concurrency cap

  // Hands `request` to the HTTP client; the response finishes write `id`.
  static void Send(const std::shared_ptr<State>& state, uint64_t id, HttpRequest request) {
    state->http->Send(std::move(request), [state, id](Result<HttpResponse> result) {
      state->Finish(id, ResponseStatus(result, state->redacted_url));
    });
  }

  // Runs the done of write `id` unless it already ran, and starts the next
  // waiting request.
  void Finish(uint64_t id, Status status) {
    WriteDone done;
    std::optional<Waiting> next;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = pending.find(id);
      if (it == pending.end()) return;
      done = std::move(it->second);
      pending.erase(it);
      --sending;
      if (!waiting.empty() && !closed) {
        next = std::move(waiting.front());
        waiting.pop_front();
        ++sending;
      }
      if (pending.empty()) idle.notify_all();
    }
    if (next) Send(shared_from_this(), next->id, std::move(next->request));
    done(std::move(status));
  }
};

Result<std::unique_ptr<WebhookSink>> WebhookSink::Create(WebhookSinkOptions options,
                                                         HttpClient* http) {
  if (http == nullptr) return Status::Permanent("webhook sink needs an HTTP client");
  std::optional<StandardWebhooksSigner> signer;
  if (!options.signing_secret.empty()) {
    auto created = StandardWebhooksSigner::FromSecret(options.signing_secret);
    if (!created.ok()) return created.status().WithContext("webhook signing_secret");
    signer = std::move(created).value();
  }
  return std::unique_ptr<WebhookSink>(new WebhookSink(std::move(options), http, std::move(signer)));
}

WebhookSink::WebhookSink(WebhookSinkOptions options, HttpClient* http,
                         std::optional<StandardWebhooksSigner> signer)
    : options_(std::move(options)),
      http_(http),
      signer_(std::move(signer)),
      state_(std::make_shared<State>()) {
  state_->http = http_;
  state_->redacted_url = RedactUrl(options_.url);
  state_->concurrency = std::max(1, options_.concurrency);
  base_headers_ = {{"Content-Type", "application/json"}, {"User-Agent", kWebhookUserAgent}};
  for (const auto& [name, value] : options_.headers) {
    bool replaced = false;
    for (auto& [base_name, base_value] : base_headers_) {
      if (EqualsIgnoreCase(base_name, name)) {
        base_value = value;
        replaced = true;
      }
    }
    if (!replaced) base_headers_.emplace_back(name, value);
  }
}

WebhookSink::~WebhookSink() { Close(); }

std::string WebhookSink::IdempotencyKey(const Batch& batch) {
  if (batch.messages.empty()) return "";
  if (batch.messages.size() == 1) return batch.messages[0]->idempotency_key;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  for (const Message* message : batch.messages) {
    // Keys are base64, so a newline cannot occur in one: the separator keeps
    // ["ab","c"] and ["a","bc"] apart.
    ok = ok && EVP_DigestUpdate(ctx, message->idempotency_key.data(),
                                message->idempotency_key.size()) == 1;
    ok = ok && EVP_DigestUpdate(ctx, "\n", 1) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || digest_len < 16) {
    // Only on allocation failure: fall back to the keys themselves, which are
    // still stable and unique, if long.
    std::string key = "batch_";
    for (const Message* message : batch.messages) key += message->idempotency_key + ".";
    return key;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key = "batch_";
  for (int i = 0; i < 16; ++i) {
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 15];
  }
  return key;
}

void WebhookSink::Write(const Batch& batch, WriteDone done) {
  if (batch.messages.empty()) {
    done(Status::Ok());
    return;
  }
  if (!options_.batch && batch.messages.size() != 1) {
    done(Status::Permanent("webhook sink with batch: false got a batch of " +
                           std::to_string(batch.messages.size()) +
                           " messages; its batch_size must be 1"));
    return;
  }
  // Runs of messages with equal routes, in order.
  std::vector<Batch> runs;
  const MessageRoute* last = nullptr;
  for (const Message* m : batch.messages) {
    const MessageRoute* route = m->route.get();
    const bool same = runs.empty()                            ? false
                      : (route == nullptr || last == nullptr) ? route == last
                                                              : *route == *last;
    if (!same) runs.emplace_back();
    runs.back().messages.push_back(m);
    last = route;
  }
  if (runs.size() == 1) {
    WriteOne(batch, last, std::move(done));
    return;
  }
  // Sent one after the other so that a row's changes keep their order.
  struct Chain {
    std::vector<Batch> runs;
    size_t next = 0;
    WriteDone done;
    std::function<void(Status)> step;
  };
  auto chain = std::make_shared<Chain>();
  chain->runs = std::move(runs);
  chain->done = std::move(done);
  chain->step = [this, chain](Status status) {
    if (!status.ok() || chain->next == chain->runs.size()) {
      WriteDone finished = std::move(chain->done);
      chain->step = nullptr;  // breaks the cycle
      finished(std::move(status));
      return;
    }
    const Batch& run = chain->runs[chain->next++];
    WriteOne(run, run.messages.front()->route.get(),
             [chain](Status st) { chain->step(std::move(st)); });
  };
  chain->step(Status::Ok());
}

void WebhookSink::WriteOne(const Batch& batch, const MessageRoute* route, WriteDone done) {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.url;
  if (route != nullptr) {
    if (const std::string* path = route->Find("path")) {
      if (path->empty() || (*path)[0] != '/' ||
          path->find_first_of(" \t\r\n") != std::string::npos) {
        done(Status::Permanent("routing function returned path \"" + *path +
                               "\"; a path starts with '/' and has no spaces"));
        return;
      }
      std::string base = options_.base_url.empty() ? options_.url : options_.base_url;
      if (!base.empty() && base.back() == '/') base.pop_back();
      request.url = base + *path;
    }
    if (const std::string* method = route->Find("method")) {
      if (*method != "POST" && *method != "PUT" && *method != "PATCH") {
        done(Status::Permanent("routing function returned method \"" + *method +
                               "\"; allowed: POST, PUT, PATCH"));
        return;
      }
      request.method = *method;
    }
  }
  request.timeout = options_.timeout;
  if (options_.batch) {
    size_t size = 12;
    for (const Message* message : batch.messages) size += message->json.size() + 1;
    request.body = "{\"data\":[";
    request.body.reserve(size);
    for (size_t i = 0; i < batch.messages.size(); ++i) {
      if (i > 0) request.body += ',';
      request.body += batch.messages[i]->json;
    }
    request.body += "]}";
  } else {
    request.body = batch.messages[0]->json;
  }

  const std::string key = IdempotencyKey(batch);
  request.headers = base_headers_;
  if (route != nullptr) {
    for (const auto& [name, value] : route->headers) {
      if (name.find_first_of(":\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        done(Status::Permanent("routing function returned an invalid header \"" + name + "\""));
        return;
      }
      request.headers.emplace_back(name, value);
    }
  }
  request.headers.emplace_back("Idempotency-Key", key);
  if (signer_) signer_->AddHeaders(key, UnixSecondsNow(), request.body, request.headers);

  uint64_t id = 0;
  bool send_now = false;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (!state_->closed) {
      id = ++state_->next_id;
      state_->pending.emplace(id, std::move(done));
      // Callers keep at most MaxInFlight() writes outstanding; holding extra
      // ones back here keeps the promise to the receiver even if one does not.
      send_now = state_->sending < state_->concurrency;
      if (send_now) {
        ++state_->sending;
      } else {
        state_->waiting.push_back(State::Waiting{id, std::move(request)});
      }
    }
  }
  if (id == 0) {
    done(Status::Retryable("webhook sink is closed"));
    return;
  }
  if (send_now) State::Send(state_, id, std::move(request));
}

void WebhookSink::Close() {
  std::vector<WriteDone> abandoned;
  std::vector<WriteDone> never_sent;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->closed = true;
    for (State::Waiting& waiting : state_->waiting) {
      auto it = state_->pending.find(waiting.id);
      never_sent.push_back(std::move(it->second));
      state_->pending.erase(it);
    }
    state_->waiting.clear();
  }
  for (WriteDone& done : never_sent) {
    done(
        Status::Retryable("webhook sink closed before POST " + state_->redacted_url + " was sent"));
  }
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->idle.wait_for(lock, options_.timeout + kCloseMargin,
                          [this] { return state_->pending.empty(); });
    for (auto& [id, done] : state_->pending) abandoned.push_back(std::move(done));
    state_->pending.clear();
  }
  for (WriteDone& done : abandoned) {
    done(Status::Retryable("webhook sink closed before POST " + state_->redacted_url +
                           " was answered"));
  }
}

}  // namespace sluice
