// The replication reader: owns the libpq replication connection (COPY BOTH),
// feeds XLogData to the TransactionAssembler, answers keepalives, sends
// standby status updates on a timer (also while the pipeline applies
// back-pressure) and at once when asked, and reconnects with exponential
// backoff and jitter after any disconnect.
//
// Run() blocks on the calling thread (the reader thread) until Stop().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "common/lsn.h"
#include "common/status.h"
#include "config/config.h"
#include "source/catalog.h"
#include "source/change.h"
#include "source/transaction_assembler.h"

typedef struct pg_conn PGconn;

namespace sluice::source {

struct ReplicatorStats {
  std::atomic<bool> connected{false};
  std::atomic<Lsn> received_lsn{0};
  std::atomic<Lsn> confirmed_lsn{0};
  std::atomic<Lsn> server_wal_end{0};
  std::atomic<uint64_t> reconnects{0};
};

class Replicator {
 public:
  // `confirm` returns the LSN that may be confirmed as flushed: one already
  // durable in the state store (see pipeline::Checkpointer). Must be cheap.
  // `on_reconnect` runs on the reader thread after a lost connection, before
  // streaming resumes.
  Replicator(const config::DatabaseConfig& db, Catalog& catalog, ChangeHandler& handler,
             std::function<Lsn()> confirm, std::function<void()> on_reconnect,
             std::string spill_dir, Lsn start_lsn, int server_version);
  ~Replicator();

  void Run();
  // Thread-safe. Run returns after a final status update.
  void Stop();
  const std::atomic<bool>& stopping() const { return stopping_; }

  // Sends a status update if one is due. Called by the pipeline while it
  // blocks the reader thread on a full queue.
  void KeepConnectionAlive();

  const ReplicatorStats& stats() const { return stats_; }
  const TransactionAssembler& assembler() const { return assembler_; }

 private:
  Status StreamOnce();
  Status SendStatus(bool reply_requested);
  Status MaybeSendStatus();
  void LogProgress();
  std::string StartCommand() const;

  const config::DatabaseConfig& db_;
  ChangeHandler& handler_;
  std::function<Lsn()> confirm_;
  std::function<void()> on_reconnect_;
  TransactionAssembler assembler_;
  const int server_version_;
  std::atomic<bool> stopping_{false};
  PGconn* conn_ = nullptr;  // the live replication connection, if any
  Lsn start_lsn_;
  Lsn last_flushed_sent_ = 0;
  std::chrono::steady_clock::time_point next_status_;
  std::chrono::steady_clock::time_point next_progress_log_;
  std::mt19937_64 rng_;
  ReplicatorStats stats_;
};

}  // namespace sluice::source
