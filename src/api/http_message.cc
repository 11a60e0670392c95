#include "api/http_message.h"

#include <mutex>

#include "api/json_error.h"

namespace sluice::api {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

std::string_view Request::PathParam(std::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? std::string_view() : std::string_view(it->second);
}

struct Responder::CancelHandle::State {
  std::mutex mu;
  bool answered = false;  // responded or cancelled: deliver is gone
  bool cancelled = false;
  std::function<void(Response)> deliver;
  std::function<void()> on_cancel;

  void Respond(Response response) {
    std::function<void(Response)> to_call;
    std::function<void()> dropped;
    {
      std::lock_guard lock(mu);
      if (answered) return;
      answered = true;
      to_call = std::move(deliver);
      dropped = std::move(on_cancel);
    }
    // Callbacks run and die outside the lock: they may call back in.
    dropped = nullptr;
    if (to_call) to_call(std::move(response));
  }
};

// The object every Responder copy shares; its destruction means "nobody can
// answer any more".
struct Responder::Handle {
  std::shared_ptr<CancelHandle::State> state;
  ~Handle() {
    state->Respond(ErrorResponse(500, ErrorCode::kInternal, "the handler did not respond"));
  }
};

Responder::Responder(std::function<void(Response)> deliver) : handle_(std::make_shared<Handle>()) {
  handle_->state = std::make_shared<CancelHandle::State>();
  handle_->state->deliver = std::move(deliver);
}

void Responder::operator()(Response response) const {
  handle_->state->Respond(std::move(response));
}

bool Responder::Cancelled() const {
  std::lock_guard lock(handle_->state->mu);
  return handle_->state->cancelled;
}

void Responder::OnCancel(std::function<void()> on_cancel) const {
  CancelHandle::State& state = *handle_->state;
  {
    std::unique_lock lock(state.mu);
    if (!state.answered) {
      std::function<void()> previous = std::move(state.on_cancel);
      state.on_cancel = std::move(on_cancel);
      lock.unlock();
      return;  // `previous` dies here, outside the lock
    }
    if (!state.cancelled) return;  // answered: the callback would never run
  }
  if (on_cancel) on_cancel();
}

Responder::CancelHandle Responder::GetCancelHandle() const { return CancelHandle(handle_->state); }

void Responder::CancelHandle::Cancel() const {
  if (!state_) return;
  std::function<void()> to_call;
  std::function<void(Response)> dropped;
  {
    std::lock_guard lock(state_->mu);
    if (state_->answered) return;
    state_->answered = true;
    state_->cancelled = true;
    to_call = std::move(state_->on_cancel);
    dropped = std::move(state_->deliver);
  }
  dropped = nullptr;
  if (to_call) to_call();
}

bool Responder::CancelHandle::Answered() const {
  if (!state_) return true;
  std::lock_guard lock(state_->mu);
  return state_->answered;
}

}  // namespace sluice::api
