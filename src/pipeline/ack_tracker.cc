#include "pipeline/ack_tracker.h"

#include <algorithm>

namespace sluice::pipeline {

AckTracker::AckTracker(Lsn start_lsn, std::vector<Position> acked_through)
    : sinks_(acked_through.size()), routed_end_(start_lsn), last_safe_(start_lsn) {
  for (size_t i = 0; i < acked_through.size(); ++i) {
    sinks_[i].acked_through = acked_through[i];
    sinks_[i].prior_acked_through = acked_through[i];
  }
}

bool AckTracker::ShouldSkip(size_t sink, Position pos) const {
  std::lock_guard lock(mu_);
  const SinkState& s = sinks_[sink];
  if (s.prior_acked_through.commit_lsn != 0 && pos <= s.prior_acked_through) return true;
  return s.last_tracked.commit_lsn != 0 && pos <= s.last_tracked;
}

void AckTracker::Reconnected() {
  std::lock_guard lock(mu_);
  txn_open_ = false;
}

void AckTracker::BeginTransaction(Lsn) {
  std::lock_guard lock(mu_);
  txn_open_ = true;
}

uint64_t AckTracker::Track(size_t sink, Position pos) {
  std::lock_guard lock(mu_);
  SinkState& s = sinks_[sink];
  s.pending.push_back(Pending{pos, false});
  s.last_tracked = std::max(s.last_tracked, pos);
  return s.first_ticket + s.pending.size() - 1;
}

void AckTracker::CommitTransaction(Lsn end_lsn) {
  std::lock_guard lock(mu_);
  txn_open_ = false;
  routed_end_ = std::max(routed_end_, end_lsn);
}

void AckTracker::Idle(Lsn wal_end) {
  std::lock_guard lock(mu_);
  if (txn_open_) return;
  routed_end_ = std::max(routed_end_, wal_end);
}

void AckTracker::Ack(size_t sink, uint64_t ticket) {
  std::lock_guard lock(mu_);
  SinkState& s = sinks_[sink];
  if (ticket < s.first_ticket || ticket >= s.first_ticket + s.pending.size()) return;
  s.pending[ticket - s.first_ticket].acked = true;
  while (!s.pending.empty() && s.pending.front().acked) {
    s.acked_through = std::max(s.acked_through, s.pending.front().pos);
    s.pending.pop_front();
    ++s.first_ticket;
  }
}

Lsn AckTracker::SafeLsn() {
  std::lock_guard lock(mu_);
  Lsn safe = routed_end_;
  for (const SinkState& s : sinks_) {
    // Confirming the commit LSN of the oldest undelivered message's
    // transaction makes Postgres send that transaction again (it skips only
    // transactions whose commit record starts before the confirmed LSN);
    // ShouldSkip filters out what was delivered of it.
    if (!s.pending.empty()) safe = std::min(safe, s.pending.front().pos.commit_lsn);
  }
  last_safe_ = std::max(last_safe_, safe);
  return last_safe_;
}

std::vector<Position> AckTracker::AckedThrough() const {
  std::lock_guard lock(mu_);
  std::vector<Position> out;
  out.reserve(sinks_.size());
  for (const SinkState& s : sinks_) out.push_back(s.acked_through);
  return out;
}

size_t AckTracker::InFlight(size_t sink) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& p : sinks_[sink].pending) n += p.acked ? 0 : 1;
  return n;
}

}  // namespace sluice::pipeline
