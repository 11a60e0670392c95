// The LSN rule (DESIGN §3), in one place. Decides which LSN may be confirmed
// to Postgres: the minimum over sinks of the highest LSN below which every
// message for that sink is delivered, filtered or persisted. When nothing is
// in flight, the keepalive's WAL end, so an idle slot never pins WAL.
//
// Thread-safe: Track/Begin/Commit/Idle come from the replication reader, Ack
// from sink runners, SafeLsn/AckedThrough from whoever checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "common/lsn.h"

namespace sluice::pipeline {

class AckTracker {
 public:
  // `start_lsn`: the slot's confirmed position when streaming began.
  // `acked_through`: per sink, the checkpointed position at or below which
  // every message was acknowledged before (Position{} when none).
  AckTracker(Lsn start_lsn, std::vector<Position> acked_through);

  size_t sink_count() const { return sinks_.size(); }

  // True when a message at `pos` must not be routed to `sink` again: it was
  // acknowledged in an earlier run, or it was already routed in this run
  // (the server resends from the confirmed position after a reconnect).
  bool ShouldSkip(size_t sink, Position pos) const;

  // The replication connection was re-established: any transaction that was
  // open is abandoned and will be sent again.
  void Reconnected();

  // A transaction committed at `commit_lsn` is being routed.
  void BeginTransaction(Lsn commit_lsn);
  // Registers a message routed to `sink`; returns its ticket for Ack. Must be
  // called in stream order per sink.
  uint64_t Track(size_t sink, Position pos);
  // Every change of the open transaction has been routed.
  void CommitTransaction(Lsn end_lsn);
  // A keepalive said the server has sent everything up to `wal_end` and no
  // transaction is open.
  void Idle(Lsn wal_end);

  // The message with `ticket` is delivered (or filtered, persisted, or
  // discarded by policy) for `sink`.
  void Ack(size_t sink, uint64_t ticket);

  // The LSN it is safe to confirm as flushed now. Never decreases.
  Lsn SafeLsn();
  // Per sink: every message at or below this position is acknowledged.
  std::vector<Position> AckedThrough() const;
  // Messages tracked and not yet acknowledged, per sink.
  size_t InFlight(size_t sink) const;

 private:
  struct Pending {
    Position pos;
    bool acked = false;
  };
  struct SinkState {
    std::deque<Pending> pending;
    uint64_t first_ticket = 0;  // ticket of pending.front()
    Position acked_through;
    Position prior_acked_through;  // from the previous run, for ShouldSkip
    Position last_tracked;         // highest position routed in this run
  };

  mutable std::mutex mu_;
  std::vector<SinkState> sinks_;
  Lsn routed_end_;  // end LSN of the last fully routed transaction
  bool txn_open_ = false;
  Lsn last_safe_;
};

}  // namespace sluice::pipeline
