// Writes checkpoints to the state store before they are confirmed to
// Postgres: only an LSN that is durably recorded, along with every sink's
// acknowledged position, is ever handed out for confirmation.
//
// The writes (an fsync each) run on the checkpointer's own thread every
// `interval`, so the replication reader never waits on the disk; the reader
// asks DurableLsn() before each standby status update.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/lsn.h"
#include "pipeline/ack_tracker.h"
#include "state/state_store.h"

namespace sluice::pipeline {

class Checkpointer {
 public:
  Checkpointer(AckTracker& acks, state::StateStore& store, std::string slot_key,
               std::vector<std::string> sink_names, Lsn start_lsn,
               std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  ~Checkpointer();

  // Starts the background writer.
  void Start();
  // Stops it (after a last write).
  void Stop();

  // The latest durable LSN: safe to confirm. Cheap, thread-safe.
  Lsn DurableLsn() const { return durable_lsn_.load(); }
  // Writes a checkpoint now, on the calling thread, and returns the durable
  // LSN. If the store cannot be written, the last durable LSN (so nothing
  // unrecorded is ever confirmed).
  Lsn Checkpoint();
  // False while the last attempt to write a checkpoint failed.
  bool healthy() const { return !warned_.load(); }

 private:
  AckTracker& acks_;
  state::StateStore& store_;
  const std::string slot_key_;
  const std::vector<std::string> sink_names_;
  const std::chrono::milliseconds interval_;
  std::mutex write_mu_;  // one write at a time
  std::atomic<Lsn> durable_lsn_;
  std::vector<Position> durable_positions_;  // guarded by write_mu_
  std::atomic<bool> warned_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::pipeline
