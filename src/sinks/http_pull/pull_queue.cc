#include "sinks/http_pull/pull_queue.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <cstdio>

#include "common/log.h"

namespace sluice {

namespace asio = boost::asio;

PullQueue::PullQueue(std::string stream, state::StateStore& store, PullQueueOptions options,
                     asio::io_context& io, Clock clock)
    : stream_(std::move(stream)),
      store_(store),
      options_(options),
      io_(io),
      clock_(std::move(clock)),
      wake_timer_(io),
      rng_(std::random_device{}()) {
  if (options_.flush_interval.count() > 0) flusher_ = std::thread([this] { FlushLoop(); });
}

PullQueue::~PullQueue() { Close(); }

void PullQueue::Close() {
  Shutdown();
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Status st = Flush();
  if (!st.ok()) {
    log::Warn(
        "pull queue: last flush of deliveries and acks failed; they are handed out again "
        "after a restart",
        {{"stream", stream_}, {"error", st.ToString()}});
  }
}

void PullQueue::FlushLoop() {
  pthread_setname_np(pthread_self(), "sluice-pullq");
  std::unique_lock lock(mu_);
  while (!closed_) {
    flush_cv_.wait(lock, [&] { return closed_ || !dirty_.empty() || !pending_deletes_.empty(); });
    if (closed_) break;
    // Gather what one interval brings into one transaction.
    flush_cv_.wait_for(lock, options_.flush_interval, [&] { return closed_; });
    lock.unlock();
    Status st = Flush();
    if (!st.ok()) {
      log::Warn("pull queue: writing deliveries and acks failed; retrying",
                {{"stream", stream_}, {"error", st.ToString()}});
    }
    lock.lock();
    // After a failure, wait an interval before the retry.
    if (!st.ok()) flush_cv_.wait_for(lock, options_.flush_interval, [&] { return closed_; });
  }
}

state::StreamMessage PullQueue::DeliveryRow(uint64_t seq, const Entry& e) const {
  state::StreamMessage u;
  u.seq = seq;
  u.deliver_count = e.deliver_count;
  u.visible_at_ms = e.visible_at_ms;
  if (!e.token.empty()) u.ack_token = e.token.Text();
  return u;
}

void PullQueue::MarkDirtyLocked(uint64_t seq, Entry& e) {
  if (e.dirty) return;
  e.dirty = true;
  if (dirty_.empty() && pending_deletes_.empty()) flush_cv_.notify_one();
  dirty_.push_back(seq);
}

Status PullQueue::Flush() {
  std::lock_guard order(flush_mu_);
  std::vector<state::StreamMessage> updates;
  std::vector<uint64_t> deletes;
  {
    std::lock_guard lock(mu_);
    deletes.swap(pending_deletes_);
    for (uint64_t seq : dirty_) {
      auto it = entries_.find(seq);
      if (it == entries_.end() || !it->second.dirty) continue;  // acknowledged, or listed twice
      it->second.dirty = false;
      updates.push_back(DeliveryRow(seq, it->second));
    }
    dirty_.clear();
  }
  Status st = Status::Ok();
  if (!updates.empty()) st = store_.UpdateStreamDeliveries(stream_, updates);
  if (!st.ok()) {
    std::lock_guard lock(mu_);
    for (const state::StreamMessage& u : updates) {
      auto it = entries_.find(u.seq);
      if (it != entries_.end()) MarkDirtyLocked(u.seq, it->second);
    }
  }
  Status del = Status::Ok();
  if (!deletes.empty()) del = store_.DeleteStreamMessages(stream_, deletes);
  if (!del.ok()) {
    std::lock_guard lock(mu_);
    pending_deletes_.insert(pending_deletes_.end(), deletes.begin(), deletes.end());
    return del;
  }
  return st;
}

int64_t PullQueue::Now() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PullQueue::Token::Text() const {
  char text[33];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return text;
}

std::optional<PullQueue::Token> PullQueue::Token::Parse(std::string_view text) {
  if (text.size() != 32) return std::nullopt;
  Token t;
  for (auto [part, out] : {std::pair{text.substr(0, 16), &t.hi}, {text.substr(16), &t.lo}}) {
    auto r = std::from_chars(part.data(), part.data() + part.size(), *out, 16);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size()) return std::nullopt;
  }
  return t;
}

Status PullQueue::Load() {
  auto index = store_.LoadStreamIndex(stream_);
  if (!index.ok()) return index.status();
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  for (state::StreamMessage& m : *index) {
    Entry e;
    e.deliver_count = m.deliver_count;
    e.visible_at_ms = m.visible_at_ms;
    e.token = Token::Parse(m.ack_token).value_or(Token{});
    // A delivery whose lease is still running stays outstanding: the worker
    // that holds it may still acknowledge it after our restart.
    e.outstanding = !e.token.empty() && e.visible_at_ms > now;
    if (e.outstanding) ++outstanding_;
    next_seq_ = std::max(next_seq_, m.seq + 1);
    if (Link(m.seq, std::move(e), std::move(m.group_key))) {
      heads_.emplace(entries_.at(m.seq).visible_at_ms, m.seq);
    }
  }
  return Status::Ok();
}

bool PullQueue::Link(uint64_t seq, Entry entry, std::string group) {
  auto g = groups_.try_emplace(std::move(group)).first;
  entry.group = &g->first;
  entries_.emplace(seq, std::move(entry));
  GroupSeqs& seqs = g->second;
  if (seqs.head == 0) {
    seqs.head = seqs.tail = seq;
    return true;
  }
  entries_.at(seqs.tail).next = seq;
  seqs.tail = seq;
  return false;
}

Status PullQueue::Append(const Batch& batch) {
  std::vector<state::StreamMessage> rows;
  rows.reserve(batch.messages.size());
  uint64_t first_seq;
  {
    std::lock_guard lock(mu_);
    first_seq = next_seq_;
    next_seq_ += batch.messages.size();
  }
  for (size_t i = 0; i < batch.messages.size(); ++i) {
    const Message& m = *batch.messages[i];
    state::StreamMessage row;
    row.seq = first_seq + i;
    row.group_key = m.group_key;
    row.position = m.position;
    row.json = m.json;
    rows.push_back(std::move(row));
  }
  SLUICE_RETURN_IF_ERROR(store_.AppendStreamMessages(stream_, rows));
  {
    std::lock_guard lock(mu_);
    for (state::StreamMessage& row : rows) {
      if (Link(row.seq, Entry{}, std::move(row.group_key))) heads_.emplace(0, row.seq);
      if (fresh_bytes_ + row.json.size() <= options_.fresh_body_bytes) {
        fresh_bytes_ += row.json.size();
        fresh_.emplace(row.seq, std::move(row.json));
      }
    }
  }
  ServeWaiters();
  return Status::Ok();
}

std::vector<PulledMessage> PullQueue::TakeLocked(size_t max, int64_t now,
                                                 std::vector<state::StreamMessage>* updates,
                                                 std::vector<uint64_t>* seqs) {
  std::vector<PulledMessage> out;
  auto it = heads_.begin();
  while (it != heads_.end() && out.size() < max && it->first <= now) {
    const uint64_t seq = it->second;
    Entry& e = entries_.at(seq);
    if (!e.outstanding) {
      if (outstanding_ >= options_.max_ack_pending) break;
      ++outstanding_;
    }
    // Handing out (again, when a lease expired): a new token, so the
    // previous holder's ack id no longer counts.
    e.outstanding = true;
    ++e.deliver_count;
    e.visible_at_ms = now + options_.ack_wait.count();
    e.token = Token{rng_(), rng_() | 1};  // never empty
    it = heads_.erase(it);
    heads_.emplace(e.visible_at_ms, seq);
    PulledMessage p;
    p.ack_id = std::to_string(seq) + "-" + e.token.Text();
    p.deliver_count = e.deliver_count;
    out.push_back(std::move(p));
    if (WriteBehindLocked()) {
      MarkDirtyLocked(seq, e);
    } else {
      updates->push_back(DeliveryRow(seq, e));
    }
    seqs->push_back(seq);
  }
  return out;
}

Result<std::vector<PulledMessage>> PullQueue::Finish(
    std::vector<PulledMessage> taken, const std::vector<state::StreamMessage>& updates,
    const std::vector<uint64_t>& seqs) {
  if (taken.empty()) return taken;
  if (!updates.empty()) SLUICE_RETURN_IF_ERROR(store_.UpdateStreamDeliveries(stream_, updates));
  // Bodies still in memory leave it now (a redelivery reads the store).
  std::vector<bool> have(taken.size(), false);
  std::vector<uint64_t> missing;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < taken.size(); ++i) {
      auto it = fresh_.find(seqs[i]);
      if (it == fresh_.end()) {
        missing.push_back(seqs[i]);
        continue;
      }
      fresh_bytes_ -= it->second.size();
      taken[i].json = std::move(it->second);
      fresh_.erase(it);
      have[i] = true;
    }
  }
  std::unordered_map<uint64_t, std::string*> by_seq;
  Result<std::vector<std::pair<uint64_t, std::string>>> bodies =
      std::vector<std::pair<uint64_t, std::string>>{};
  if (!missing.empty()) {
    bodies = store_.LoadStreamBodies(stream_, missing);
    if (!bodies.ok()) return bodies.status();
    for (auto& [seq, body] : *bodies) by_seq[seq] = &body;
  }
  std::vector<PulledMessage> out;
  out.reserve(taken.size());
  for (size_t i = 0; i < taken.size(); ++i) {
    if (!have[i]) {
      auto it = by_seq.find(seqs[i]);
      if (it == by_seq.end()) continue;  // acknowledged meanwhile
      taken[i].json = std::move(*it->second);
    }
    out.push_back(std::move(taken[i]));
  }
  return out;
}

uint64_t PullQueue::Receive(size_t max, std::chrono::milliseconds wait_for, ReceiveDone done) {
  std::vector<state::StreamMessage> updates;
  std::vector<uint64_t> seqs;
  std::vector<PulledMessage> taken;
  {
    std::lock_guard lock(mu_);
    const int64_t now = Now();
    taken = TakeLocked(max, now, &updates, &seqs);
    if (taken.empty() && wait_for.count() > 0 && !shut_down_) {
      if (waiters_.size() >= options_.max_waiting) {
        done(Status::Permanent("too many waiting receive requests on stream " + stream_ +
                               " (max_waiting " + std::to_string(options_.max_waiting) + ")"));
        return 0;
      }
      auto waiter = std::make_shared<Waiter>();
      waiter->id = next_wait_id_++;
      waiter->max = max;
      waiter->done = std::move(done);
      waiter->timer = std::make_unique<asio::steady_timer>(io_, wait_for);
      waiters_.push_back(waiter);
      std::weak_ptr<Waiter> weak = waiter;
      waiter->timer->async_wait([this, weak](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: served or shut down
        auto w = weak.lock();
        if (!w) return;
        ReceiveDone d;
        {
          std::lock_guard lock(mu_);
          waiters_.remove(w);
          d = std::move(w->done);
        }
        if (d) d(std::vector<PulledMessage>{});
      });
      ArmWakeTimerLocked(now);
      return waiter->id;
    }
  }
  done(Finish(std::move(taken), updates, seqs));
  return 0;
}

void PullQueue::CancelWait(uint64_t wait_id) {
  std::shared_ptr<Waiter> found;
  {
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if ((*it)->id == wait_id) {
        found = *it;
        waiters_.erase(it);
        break;
      }
    }
  }
  if (!found) return;
  found->timer->cancel();
  if (found->done) found->done(std::vector<PulledMessage>{});
}

void PullQueue::ServeWaiters() {
  struct Served {
    ReceiveDone done;
    std::vector<PulledMessage> taken;
    std::vector<state::StreamMessage> updates;
    std::vector<uint64_t> seqs;
  };
  std::vector<Served> served;
  {
    std::lock_guard lock(mu_);
    const int64_t now = Now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      Served s;
      s.taken = TakeLocked((*it)->max, now, &s.updates, &s.seqs);
      if (s.taken.empty()) break;  // nothing for the oldest waiter: nothing for later ones
      (*it)->timer->cancel();
      s.done = std::move((*it)->done);
      served.push_back(std::move(s));
      it = waiters_.erase(it);
    }
    if (!waiters_.empty()) ArmWakeTimerLocked(now);
  }
  // Persisting the deliveries and loading bodies happens outside the lock.
  for (Served& s : served) {
    auto result = Finish(std::move(s.taken), s.updates, s.seqs);
    asio::post(io_, [done = std::move(s.done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
}

void PullQueue::ArmWakeTimerLocked(int64_t now) {
  // Wake when the earliest delayed or leased message becomes available.
  auto it = heads_.begin();
  if (it == heads_.end() || it->first <= now) return;
  if (wake_at_ != 0 && wake_at_ <= it->first && wake_at_ > now) return;
  wake_at_ = it->first;
  wake_timer_.expires_after(std::chrono::milliseconds(it->first - now + 1));
  wake_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    {
      std::lock_guard lock(mu_);
      wake_at_ = 0;
    }
    ServeWaiters();
  });
}

bool PullQueue::ParseAckId(const std::string& ack_id, uint64_t* seq, Token* token) const {
  auto dash = ack_id.find('-');
  if (dash == std::string::npos || dash == 0) return false;
  auto r = std::from_chars(ack_id.data(), ack_id.data() + dash, *seq);
  if (r.ec != std::errc() || r.ptr != ack_id.data() + dash) return false;
  auto parsed = Token::Parse(std::string_view(ack_id).substr(dash + 1));
  if (!parsed || parsed->empty()) return false;
  *token = *parsed;
  return true;
}

void PullQueue::MakeHead(const std::string& group) {
  auto g = groups_.find(group);
  if (g == groups_.end()) return;
  if (g->second.head == 0) {
    groups_.erase(g);  // `group` may be this node's key: not used after
    return;
  }
  const Entry& head = entries_.at(g->second.head);
  heads_.emplace(head.visible_at_ms, g->second.head);
}

AckOutcome PullQueue::Ack(const std::vector<std::string>& ack_ids) {
  AckOutcome outcome;
  std::vector<uint64_t> removed;
  bool write_behind;
  {
    std::lock_guard lock(mu_);
    write_behind = WriteBehindLocked();
    const int64_t now = Now();
    for (const std::string& id : ack_ids) {
      uint64_t seq;
      Token token;
      auto it = entries_.end();
      if (ParseAckId(id, &seq, &token)) it = entries_.find(seq);
      if (it == entries_.end() || !it->second.outstanding || it->second.token != token ||
          it->second.visible_at_ms <= now ||
          std::find(removed.begin(), removed.end(), seq) != removed.end()) {
        outcome.unknown.push_back(id);
        continue;
      }
      removed.push_back(seq);
    }
  }
  if (!removed.empty()) {
    Status st = write_behind ? Status::Ok() : store_.DeleteStreamMessages(stream_, removed);
    if (!st.ok()) {
      // Not removed durably: report every id as not acknowledged; the
      // messages come back after their lease.
      for (const std::string& id : ack_ids) outcome.unknown.push_back(id);
      outcome.done = 0;
      return outcome;
    }
    std::lock_guard lock(mu_);
    for (uint64_t seq : removed) {
      auto it = entries_.find(seq);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      heads_.erase({e.visible_at_ms, seq});
      if (e.outstanding) --outstanding_;
      // Only a group's head is ever outstanding, so `seq` is its head.
      GroupSeqs& seqs = groups_.at(*e.group);
      if (seqs.head == seq) {
        seqs.head = e.next;
        if (seqs.head == 0) seqs.tail = 0;
      }
      const std::string& group = *e.group;
      entries_.erase(it);
      if (auto f = fresh_.find(seq); f != fresh_.end()) {
        fresh_bytes_ -= f->second.size();
        fresh_.erase(f);
      }
      MakeHead(group);
      ++outcome.done;
      if (write_behind) {
        if (dirty_.empty() && pending_deletes_.empty()) flush_cv_.notify_one();
        pending_deletes_.push_back(seq);
      }
    }
  }
  ServeWaiters();
  return outcome;
}

AckOutcome PullQueue::Nack(const std::vector<std::string>& ack_ids,
                           std::chrono::milliseconds delay) {
  AckOutcome outcome;
  std::vector<state::StreamMessage> updates;
  {
    std::lock_guard lock(mu_);
    const int64_t now = Now();
    for (const std::string& id : ack_ids) {
      uint64_t seq;
      Token token;
      auto it = entries_.end();
      if (ParseAckId(id, &seq, &token)) it = entries_.find(seq);
      if (it == entries_.end() || !it->second.outstanding || it->second.token != token ||
          it->second.visible_at_ms <= now) {
        outcome.unknown.push_back(id);
        continue;
      }
      Entry& e = it->second;
      heads_.erase({e.visible_at_ms, seq});
      e.outstanding = false;
      --outstanding_;
      e.token = Token{};
      e.visible_at_ms = now + delay.count();
      heads_.emplace(e.visible_at_ms, seq);
      if (WriteBehindLocked()) {
        MarkDirtyLocked(seq, e);
      } else {
        updates.push_back(DeliveryRow(seq, e));
      }
      ++outcome.done;
    }
  }
  if (!updates.empty()) (void)store_.UpdateStreamDeliveries(stream_, updates);
  ServeWaiters();
  {
    std::lock_guard lock(mu_);
    if (!waiters_.empty()) ArmWakeTimerLocked(Now());
  }
  return outcome;
}

void PullQueue::Shutdown() {
  std::list<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    waiters.swap(waiters_);
    wake_timer_.cancel();
  }
  for (auto& w : waiters) {
    w->timer->cancel();
    if (w->done) w->done(std::vector<PulledMessage>{});
  }
}

size_t PullQueue::depth() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t PullQueue::outstanding() const {
  std::lock_guard lock(mu_);
  return outstanding_;
}

size_t PullQueue::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace sluice
