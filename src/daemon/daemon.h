// The composition root: the only place that names concrete sinks and wires
// real clients. Builds, per configured database, the chain
// Replicator -> TransactionAssembler -> Router -> SinkQueue -> SinkRunner ->
// Sink, with the AckTracker and Checkpointer deciding what is confirmed.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "config/config_loader.h"

namespace sluice::daemon {

// LoadOptions with every registered sink type and its validator.
config::LoadOptions DefaultLoadOptions();

class Daemon {
 public:
  // Performs the start-up checks (state store, Postgres reachable, login,
  // wal_level, privileges, publication, slot) and creates sinks. Any problem
  // is returned as an error: the caller prints it and exits non-zero.
  static Result<std::unique_ptr<Daemon>> Create(config::Config config);
  ~Daemon();

  // Streams until Stop(); returns the process exit code.
  int Run();
  // Thread-safe; may be called from a signal-handling thread.
  void Stop();

 private:
  struct DatabasePipeline;
  Daemon() = default;
  // The HTTP server: pull-queue API, /api/sinks, /api/databases, /health,
  // /metrics. Bound at creation so a busy port is a start-up error.
  Status StartApi();

  config::Config config_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::daemon
