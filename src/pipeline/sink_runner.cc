#include "pipeline/sink_runner.h"

#include <boost/asio/post.hpp>
#include <limits>

#include "common/log.h"

namespace sluice::pipeline {

namespace asio = boost::asio;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// next_retry_at_ms of a message that waits for a person (a held message).
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

constexpr const char* kWaitingBehind = "waiting behind an earlier failed message of its group";

}  // namespace

SinkRunner::SinkRunner(asio::io_context& io, SinkRunnerOptions options, Sink& sink,
                       SinkQueue& queue, AckTracker& acks)
    : io_(io),
      strand_(asio::make_strand(io)),
      options_(std::move(options)),
      sink_(sink),
      queue_(queue),
      acks_(acks),
      batch_timer_(strand_),
      rng_(std::random_device{}()),
      failed_timer_(strand_) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

void SinkRunner::Start() {
  if (options_.failed_store) LoadFailed();
  std::weak_ptr<SinkRunner> weak = weak_from_this();
  queue_.SetOnReady([weak](size_t ready) {
    if (auto self = weak.lock()) self->KickIfReady(ready);
  });
  Kick();
}

void SinkRunner::Kick() {
  // One pending pump is enough: it reads the queue after clearing the flag,
  // so a message pushed before that is seen, and one pushed after kicks anew.
  if (kick_pending_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] {
    self->kick_pending_.store(false);
    self->Pump();
  });
}

void SinkRunner::KickIfReady(size_t ready) {
  // While the runner waits for a full batch (its timer armed), a message that
  // does not fill one needs no wake-up: the timer pumps anyway.
  if (ready < kick_at_ready_.load(std::memory_order_acquire)) return;
  Kick();
}

void SinkRunner::Stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->batch_timer_.cancel();
    self->failed_timer_.cancel();
    for (auto* timer : self->retry_timers_) timer->cancel();
  });
}

void SinkRunner::Pump() {
  if (stopped_) return;
  kick_at_ready_.store(0, std::memory_order_release);
  while (in_flight_ < sink_.MaxInFlight()) {
    const size_t ready = queue_.ReadyCount();
    if (ready == 0) return;
    if (ready < options_.batch_size && options_.batch_timeout.count() > 0) {
      // Wait for a full batch, but no longer than batch_timeout after the
      // oldest ready message arrived.
      auto due = queue_.OldestReady() + options_.batch_timeout;
      if (due > std::chrono::steady_clock::now()) {
        if (!batch_timer_armed_) {
          batch_timer_armed_ = true;
          batch_timer_.expires_at(due);
          batch_timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
            self->batch_timer_armed_ = false;
            self->Pump();
          });
        }
        // Only a full batch needs to wake the runner before the timer. A
        // push that fills one after the count above finds the threshold
        // still 0 and kicks, so none is missed.
        kick_at_ready_.store(options_.batch_size, std::memory_order_release);
        if (queue_.ReadyCount() >= options_.batch_size) continue;
        return;
      }
    }
    auto flight = std::make_shared<InFlight>();
    flight->taken = queue_.TakeBatch(options_.batch_size);
    if (flight->taken.messages.empty()) return;
    if (!failed_groups_.empty() && !DivertBlocked(flight->taken)) {
      // The store refused them: keep the batch (its groups stay in flight)
      // and try again shortly.
      ++in_flight_;
      Park(std::move(flight));
      return;
    }
    if (flight->taken.messages.empty()) continue;  // all of it joined the store
    flight->batch.messages.reserve(flight->taken.messages.size());
    for (const auto& m : flight->taken.messages) flight->batch.messages.push_back(&m->message);
    ++in_flight_;
    stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
    Write(std::move(flight));
  }
}

Status SinkRunner::Prepare(InFlight& flight) {
  for (const Message* m : flight.batch.messages) {
    if (!m->hold_error.empty()) return Status::Permanent(m->hold_error);
  }
  if (!options_.process) return Status::Ok();
  std::vector<Message> out;
  out.reserve(flight.batch.messages.size());
  for (const Message* m : flight.batch.messages) {
    Message copy = *m;
    SLUICE_ASSIGN_OR_RETURN(bool keep, options_.process(copy));
    if (keep) {
      out.push_back(std::move(copy));
    } else {
      stats_.filtered.fetch_add(1, std::memory_order_relaxed);
    }
  }
  flight.processed = std::move(out);
  flight.batch.messages.clear();
  for (const Message& m : flight.processed) flight.batch.messages.push_back(&m);
  return Status::Ok();
}

void SinkRunner::Write(std::shared_ptr<InFlight> flight) {
  ++flight->attempts;
  if (!flight->prepared) {
    Status st = Prepare(*flight);
    if (!st.ok() || flight->batch.messages.empty()) {
      // Failed before reaching the sink, or every message was filtered out:
      // settle it like a write.
      if (st.ok()) flight->prepared = true;
      asio::post(strand_, [self = shared_from_this(), flight, st]() mutable {
        self->OnWriteDone(std::move(flight), std::move(st));
      });
      return;
    }
    flight->prepared = true;
  }
  Batch& batch = flight->batch;
  sink_.Write(batch, [self = shared_from_this(), flight](Status status) mutable {
    asio::post(self->strand_,
               [self, flight = std::move(flight), status = std::move(status)]() mutable {
                 self->OnWriteDone(std::move(flight), std::move(status));
               });
  });
}

void SinkRunner::OnWriteDone(std::shared_ptr<InFlight> flight, Status status) {
  if (flight->stored) {
    OnStoredWriteDone(std::move(flight), std::move(status));
    return;
  }
  if (status.ok()) {
    if (flight->attempts > 1) {
      log::Info("sink delivered after retries",
                {{"sink", options_.name}, {"attempts", flight->attempts}});
    }
    stats_.delivered.fetch_add(flight->batch.messages.size(), std::memory_order_relaxed);
    if (options_.observe_latency) {
      const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      for (const Message* m : flight->batch.messages) {
        if (m->commit_time_us > 0) options_.observe_latency((now_us - m->commit_time_us) / 1e6);
      }
    }
    Finish(std::move(flight));
    return;
  }
  stats_.failed_attempts.fetch_add(1, std::memory_order_relaxed);
  SetLastError(status.message());
  const Message& first = *flight->batch.messages.front();
  if (options_.max_retry_count && flight->attempts > *options_.max_retry_count) {
    log::Error("sink gave up on batch after max_retry_count attempts; messages discarded",
               {{"sink", options_.name},
                {"attempts", flight->attempts},
                {"messages", flight->batch.messages.size()},
                {"first_commit_lsn", FormatLsn(first.position.commit_lsn)},
                {"first_commit_idx", first.position.commit_idx},
                {"error", status.message()}});
    stats_.discarded.fetch_add(flight->taken.messages.size(), std::memory_order_relaxed);
    Finish(std::move(flight));
    return;
  }
  auto delay = BackoffDelay(options_.backoff, flight->attempts, rng_);
  if (options_.failed_store && flight->attempts >= options_.attempts_before_store && !stopped_) {
    Status stored =
        StoreFailed(flight->taken, flight->attempts, status.message(), NowMs() + delay.count());
    if (stored.ok()) {
      log::Warn("sink write keeps failing; messages moved to the failed-message store",
                {{"sink", options_.name},
                 {"attempts", flight->attempts},
                 {"messages", flight->batch.messages.size()},
                 {"table", first.table_schema + "." + first.table_name},
                 {"commit_lsn", FormatLsn(first.position.commit_lsn)},
                 {"error", status.message()}});
      Finish(std::move(flight));
      ScheduleFailedRetries();
      return;
    }
    log::Error("cannot write to the failed-message store; retrying in memory",
               {{"sink", options_.name}, {"error", stored.message()}});
  }
  // Log the first failure and then every 10th, so a long outage is visible
  // without flooding the log.
  if (flight->attempts == 1 || flight->attempts % 10 == 0) {
    log::Warn("sink write failed; will retry",
              {{"sink", options_.name},
               {"attempt", flight->attempts},
               {"retry_in_ms", static_cast<long long>(delay.count())},
               {"table", first.table_schema + "." + first.table_name},
               {"commit_lsn", FormatLsn(first.position.commit_lsn)},
               {"error", status.message()}});
  }
  if (stopped_) {
    Finish(nullptr);
    return;
  }
  flight->retry_timer = std::make_unique<asio::steady_timer>(strand_, delay);
  retry_timers_.insert(flight->retry_timer.get());
  flight->retry_timer->async_wait(
      [self = shared_from_this(), flight](const boost::system::error_code& ec) mutable {
        self->retry_timers_.erase(flight->retry_timer.get());
        if (ec || self->stopped_) {
          --self->in_flight_;
          self->stats_.in_flight_batches.store(self->in_flight_, std::memory_order_relaxed);
          return;
        }
        self->stats_.retried.fetch_add(1, std::memory_order_relaxed);
        self->Write(std::move(flight));
      });
}

void SinkRunner::Finish(std::shared_ptr<InFlight> flight) {
  --in_flight_;
  stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
  if (!flight) return;
  for (const auto& m : flight->taken.messages) acks_.Ack(options_.sink_index, m->ticket);
  queue_.Complete(std::move(flight->taken));
  Pump();
}

std::pair<std::string, int64_t> SinkRunner::last_error() const {
  std::lock_guard lock(error_mu_);
  return {last_error_, last_error_at_ms_};
}

void SinkRunner::SetLastError(const std::string& error) {
  std::lock_guard lock(error_mu_);
  last_error_ = error;
  last_error_at_ms_ = NowMs();
}

// --- failed-message store ---

void SinkRunner::Park(std::shared_ptr<InFlight> flight) {
  flight->retry_timer =
      std::make_unique<asio::steady_timer>(strand_, std::chrono::milliseconds(1000));
  retry_timers_.insert(flight->retry_timer.get());
  flight->retry_timer->async_wait(
      [self = shared_from_this(), flight](const boost::system::error_code& ec) mutable {
        self->retry_timers_.erase(flight->retry_timer.get());
        if (ec || self->stopped_) {
          --self->in_flight_;
          return;
        }
        if (!self->DivertBlocked(flight->taken)) {
          self->Park(std::move(flight));
          return;
        }
        if (flight->taken.messages.empty()) {
          --self->in_flight_;
          self->Pump();
          return;
        }
        flight->batch.messages.clear();
        for (const auto& m : flight->taken.messages) {
          flight->batch.messages.push_back(&m->message);
        }
        self->Write(std::move(flight));
      });
}

void SinkRunner::LoadFailed() {
  auto loaded = options_.failed_store->LoadFailedMessages(options_.name, /*with_bodies=*/false);
  if (!loaded.ok()) {
    log::Error("cannot load failed messages; they stay in the store",
               {{"sink", options_.name}, {"error", loaded.status().message()}});
    return;
  }
  size_t count = 0;
  for (state::FailedMessage& m : *loaded) {
    next_failed_id_ = std::max(next_failed_id_, m.id + 1);
    FailedEntry entry;
    entry.meta = std::move(m);
    failed_groups_[entry.meta.group_key].push_back(std::move(entry));
    ++count;
  }
  for (const auto& [group, entries] : failed_groups_) {
    due_.insert({entries.front().meta.next_retry_at_ms, group});
  }
  stats_.failed_messages.store(count, std::memory_order_relaxed);
  if (count > 0) {
    log::Info("failed messages waiting for retry",
              {{"sink", options_.name}, {"messages", count}, {"groups", failed_groups_.size()}});
    asio::post(strand_, [self = shared_from_this()] { self->ScheduleFailedRetries(); });
  }
}

bool SinkRunner::GroupBlocked(const std::string& group) const {
  return failed_groups_.count(group) != 0;
}

bool SinkRunner::DivertBlocked(TakenBatch& taken) {
  TakenBatch blocked;
  TakenBatch rest;
  for (auto& m : taken.messages) {
    (GroupBlocked(m->message.group_key) ? blocked : rest).messages.push_back(std::move(m));
  }
  for (SinkQueueGroup* g : taken.groups)
    (GroupBlocked(g->key) ? blocked : rest).groups.push_back(g);
  if (!blocked.messages.empty()) {
    Status st = StoreFailed(blocked, 0, kWaitingBehind, 0);
    if (!st.ok()) {
      log::Error("cannot write to the failed-message store",
                 {{"sink", options_.name}, {"error", st.message()}});
      // Put everything back together for the caller to retry.
      for (auto& m : blocked.messages) rest.messages.push_back(std::move(m));
      for (SinkQueueGroup* g : blocked.groups) rest.groups.push_back(g);
      taken = std::move(rest);
      return false;
    }
    for (const auto& m : blocked.messages) acks_.Ack(options_.sink_index, m->ticket);
    queue_.Complete(std::move(blocked));
  }
  taken = std::move(rest);
  return true;
}

Status SinkRunner::StoreFailed(const TakenBatch& taken, uint32_t attempts, const std::string& error,
                               int64_t next_retry_at_ms) {
  const int64_t now = NowMs();
  std::vector<state::FailedMessage> rows;
  rows.reserve(taken.messages.size());
  for (const auto& q : taken.messages) {
    const Message& m = q->message;
    // After a restart the stream can bring a message the store already has.
    auto it = failed_groups_.find(m.group_key);
    if (it != failed_groups_.end()) {
      bool known = false;
      for (const FailedEntry& e : it->second) known = known || e.meta.position == m.position;
      if (known) continue;
    }
    state::FailedMessage f;
    f.id = next_failed_id_ + rows.size();
    f.group_key = m.group_key;
    f.position = m.position;
    f.action = static_cast<unsigned char>(m.action);
    f.commit_time_us = m.commit_time_us;
    f.table_schema = m.table_schema;
    f.table_name = m.table_name;
    f.idempotency_key = m.idempotency_key;
    f.json = m.json;
    f.attempts = attempts;
    f.last_error = error;
    f.first_failed_at_ms = now;
    f.last_failed_at_ms = now;
    f.next_retry_at_ms = m.hold_error.empty() ? next_retry_at_ms : kNever;
    f.hold_error = m.hold_error;
    rows.push_back(std::move(f));
  }
  if (rows.empty()) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(options_.failed_store->InsertFailedMessages(options_.name, rows));
  next_failed_id_ += rows.size();
  for (state::FailedMessage& f : rows) {
    f.json.clear();
    f.json.shrink_to_fit();
    auto& entries = failed_groups_[f.group_key];
    if (entries.empty()) due_.insert({f.next_retry_at_ms, f.group_key});
    FailedEntry entry;
    entry.meta = std::move(f);
    entries.push_back(std::move(entry));
  }
  stats_.failed_messages.fetch_add(rows.size(), std::memory_order_relaxed);
  stats_.stored_failures.fetch_add(rows.size(), std::memory_order_relaxed);
  return Status::Ok();
}

void SinkRunner::ScheduleFailedRetries() {
  if (stopped_ || due_.empty()) return;
  const int64_t earliest = due_.begin()->first;
  if (earliest == kNever) return;  // only held messages: they wait for the API
  if (failed_timer_due_ms_ != 0 && failed_timer_due_ms_ <= earliest) return;
  failed_timer_due_ms_ = std::max<int64_t>(earliest, 1);
  const int64_t delay = std::max<int64_t>(0, earliest - NowMs());
  failed_timer_.expires_after(std::chrono::milliseconds(delay));
  failed_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or stopped
    self->failed_timer_due_ms_ = 0;
    self->RetryDueFailed();
  });
}

void SinkRunner::RetryDueFailed() {
  if (stopped_) return;
  const int64_t now = NowMs();
  while (!due_.empty() && due_.begin()->first <= now && in_flight_ < sink_.MaxInFlight()) {
    const std::string group = due_.begin()->second;
    due_.erase(due_.begin());
    auto it = failed_groups_.find(group);
    if (it == failed_groups_.end() || it->second.empty()) continue;
    FailedEntry& head = it->second.front();
    auto body = options_.failed_store->LoadFailedMessageBody(options_.name, head.meta.id);
    if (!body.ok()) {
      log::Error("cannot read a failed message from the store",
                 {{"sink", options_.name}, {"error", body.status().message()}});
      head.meta.next_retry_at_ms = now + 1000;
      due_.insert({head.meta.next_retry_at_ms, group});
      break;
    }
    if (!body->has_value()) {  // removed behind our back
      PopFailedHead(group);
      continue;
    }
    auto msg = std::make_unique<Message>();
    msg->position = head.meta.position;
    msg->action = static_cast<Action>(head.meta.action);
    msg->commit_time_us = head.meta.commit_time_us;
    msg->table_schema = head.meta.table_schema;
    msg->table_name = head.meta.table_name;
    msg->group_key = head.meta.group_key;
    msg->idempotency_key = head.meta.idempotency_key;
    msg->json = std::move(**body);
    msg->hold_error = head.meta.hold_error;
    auto flight = std::make_shared<InFlight>();
    flight->attempts = head.meta.attempts;
    flight->stored_id = head.meta.id;
    flight->batch.messages.push_back(msg.get());
    flight->stored = std::move(msg);
    head.in_flight = true;
    ++in_flight_;
    stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
    if (flight->attempts > 0) stats_.retried.fetch_add(1, std::memory_order_relaxed);
    Write(std::move(flight));
  }
  ScheduleFailedRetries();
}

void SinkRunner::PopFailedHead(const std::string& group) {
  auto it = failed_groups_.find(group);
  if (it == failed_groups_.end()) return;
  if (!it->second.empty()) {
    it->second.pop_front();
    stats_.failed_messages.fetch_sub(1, std::memory_order_relaxed);
  }
  if (it->second.empty()) {
    failed_groups_.erase(it);  // the group flows again
    Pump();
    return;
  }
  due_.insert({it->second.front().meta.next_retry_at_ms, group});
}

void SinkRunner::OnStoredWriteDone(std::shared_ptr<InFlight> flight, Status status) {
  --in_flight_;
  stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
  const Message& m = *flight->stored;
  auto it = failed_groups_.find(m.group_key);
  if (it == failed_groups_.end() || it->second.empty() ||
      it->second.front().meta.id != flight->stored_id) {
    return;  // cannot happen: a group's head is only removed when not in flight
  }
  FailedEntry& head = it->second.front();
  head.in_flight = false;
  head.meta.attempts = flight->attempts;
  const int64_t now = NowMs();
  bool remove = false;
  if (status.ok()) {
    stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    if (options_.observe_latency && m.commit_time_us > 0) {
      options_.observe_latency((now * 1000 - m.commit_time_us) / 1e6);
    }
    if (head.meta.attempts > 1) {
      log::Info("failed message delivered",
                {{"sink", options_.name}, {"id", head.meta.id}, {"attempts", head.meta.attempts}});
    }
    remove = true;
  } else {
    stats_.failed_attempts.fetch_add(1, std::memory_order_relaxed);
    SetLastError(status.message());
    const bool give_up = options_.max_retry_count && head.meta.attempts > *options_.max_retry_count;
    if (give_up || head.discard_requested) {
      log::Error(give_up ? "failed message discarded after max_retry_count attempts"
                         : "failed message discarded on request",
                 {{"sink", options_.name},
                  {"id", head.meta.id},
                  {"attempts", head.meta.attempts},
                  {"table", m.table_schema + "." + m.table_name},
                  {"commit_lsn", FormatLsn(m.position.commit_lsn)},
                  {"commit_idx", m.position.commit_idx},
                  {"error", status.message()}});
      stats_.discarded.fetch_add(1, std::memory_order_relaxed);
      remove = true;
    } else {
      auto delay = BackoffDelay(options_.backoff, head.meta.attempts, rng_);
      head.meta.last_error = status.message();
      head.meta.last_failed_at_ms = now;
      head.meta.next_retry_at_ms = head.retry_now ? now : now + delay.count();
      if (!head.meta.hold_error.empty()) head.meta.next_retry_at_ms = kNever;
      head.retry_now = false;
      if (head.meta.attempts % 10 == 0) {
        log::Warn("failed message still failing",
                  {{"sink", options_.name},
                   {"id", head.meta.id},
                   {"attempts", head.meta.attempts},
                   {"retry_in_ms", static_cast<long long>(delay.count())},
                   {"error", status.message()}});
      }
      Status st = options_.failed_store->UpdateFailedMessages(options_.name, {head.meta});
      if (!st.ok()) {
        log::Warn("cannot update a failed message in the store",
                  {{"sink", options_.name}, {"error", st.message()}});
      }
      due_.insert({head.meta.next_retry_at_ms, m.group_key});
    }
  }
  if (remove) {
    Status st = options_.failed_store->DeleteFailedMessages(options_.name, {flight->stored_id});
    if (!st.ok()) {
      // It would be sent again after a restart: a duplicate, never a loss.
      log::Warn("cannot remove a delivered failed message from the store",
                {{"sink", options_.name}, {"error", st.message()}});
    }
    PopFailedHead(m.group_key);
  }
  if (stopped_) return;
  Pump();
  RetryDueFailed();
}

void SinkRunner::RetryFailed(std::vector<uint64_t> ids,
                             std::function<void(FailedMessageActionResult)> done) {
  asio::post(strand_, [self = shared_from_this(), ids = std::move(ids), done = std::move(done)] {
    FailedMessageActionResult result;
    std::set<uint64_t> wanted(ids.begin(), ids.end());
    std::set<uint64_t> seen;
    const int64_t now = NowMs();
    std::vector<state::FailedMessage> updates;
    for (auto& [group, entries] : self->failed_groups_) {
      for (size_t i = 0; i < entries.size(); ++i) {
        FailedEntry& e = entries[i];
        if (!wanted.empty() && !wanted.count(e.meta.id)) continue;
        seen.insert(e.meta.id);
        ++result.matched;
        if (e.in_flight) {
          e.meta.hold_error.clear();
          e.retry_now = true;  // once this attempt ends
          continue;
        }
        if (i == 0) self->due_.erase({e.meta.next_retry_at_ms, group});
        e.meta.next_retry_at_ms = now;
        e.meta.hold_error.clear();  // a person asked for it: send it as it is
        if (i == 0) self->due_.insert({now, group});
        updates.push_back(e.meta);
      }
    }
    for (uint64_t id : wanted) {
      if (!seen.count(id)) result.unknown_ids.push_back(id);
    }
    if (!updates.empty()) {
      Status st = self->options_.failed_store->UpdateFailedMessages(self->options_.name, updates);
      if (!st.ok()) {
        log::Warn("cannot update failed messages in the store",
                  {{"sink", self->options_.name}, {"error", st.message()}});
      }
    }
    self->RetryDueFailed();
    done(std::move(result));
  });
}

void SinkRunner::DiscardFailed(std::vector<uint64_t> ids,
                               std::function<void(FailedMessageActionResult)> done) {
  asio::post(strand_, [self = shared_from_this(), ids = std::move(ids), done = std::move(done)] {
    FailedMessageActionResult result;
    std::set<uint64_t> wanted(ids.begin(), ids.end());
    std::set<uint64_t> seen;
    std::vector<uint64_t> removed;
    std::vector<std::string> emptied;
    for (auto& [group, entries] : self->failed_groups_) {
      const bool head_idle = !entries.empty() && !entries.front().in_flight;
      if (head_idle) self->due_.erase({entries.front().meta.next_retry_at_ms, group});
      std::deque<FailedEntry> kept;
      for (FailedEntry& e : entries) {
        const bool match = wanted.empty() || wanted.count(e.meta.id);
        if (match) {
          seen.insert(e.meta.id);
          ++result.matched;
        }
        if (match && e.in_flight) {
          e.discard_requested = true;  // settled when its write completes
        } else if (match) {
          removed.push_back(e.meta.id);
          continue;
        }
        kept.push_back(std::move(e));
      }
      entries = std::move(kept);
      if (entries.empty()) {
        emptied.push_back(group);
      } else if (!entries.front().in_flight) {
        self->due_.insert({entries.front().meta.next_retry_at_ms, group});
      }
    }
    for (const std::string& g : emptied) self->failed_groups_.erase(g);
    for (uint64_t id : wanted) {
      if (!seen.count(id)) result.unknown_ids.push_back(id);
    }
    if (!removed.empty()) {
      Status st = self->options_.failed_store->DeleteFailedMessages(self->options_.name, removed);
      if (!st.ok()) {
        log::Warn("cannot delete failed messages from the store",
                  {{"sink", self->options_.name}, {"error", st.message()}});
      }
      self->stats_.discarded.fetch_add(removed.size(), std::memory_order_relaxed);
      self->stats_.failed_messages.fetch_sub(removed.size(), std::memory_order_relaxed);
      log::Warn("failed messages discarded on request",
                {{"sink", self->options_.name}, {"messages", removed.size()}});
    }
    self->Pump();
    self->RetryDueFailed();
    done(std::move(result));
  });
}

}  // namespace sluice::pipeline
