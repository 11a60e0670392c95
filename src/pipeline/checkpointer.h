// Writes checkpoints to the state store before they are confirmed to
// Postgres: Checkpoint() returns only an LSN that is durably recorded along
// with every sink's acknowledged position. Called on the replication reader
// thread before each standby status update.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/lsn.h"
#include "pipeline/ack_tracker.h"
#include "state/state_store.h"

namespace sluice::pipeline {

class Checkpointer {
 public:
  Checkpointer(AckTracker& acks, state::StateStore& store, std::string slot_key,
               std::vector<std::string> sink_names, Lsn start_lsn);

  // The LSN that may be confirmed now. If the store cannot be written, the
  // last durable LSN (so nothing unrecorded is ever confirmed).
  Lsn Checkpoint();
  // False while the last attempt to write a checkpoint failed.
  bool healthy() const { return !warned_.load(); }

 private:
  AckTracker& acks_;
  state::StateStore& store_;
  std::string slot_key_;
  std::vector<std::string> sink_names_;
  Lsn durable_lsn_;
  std::vector<Position> durable_positions_;
  std::atomic<bool> warned_{false};
};

}  // namespace sluice::pipeline
