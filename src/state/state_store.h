// Durable state (DESIGN §6). This interface holds checkpoints; later parts of
// the state (failed messages, pull-queue messages, backfill cursors) extend it.
// Implementations are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/lsn.h"
#include "common/status.h"

namespace sluice::state {

struct SinkCheckpoint {
  std::string sink;        // sink name
  Position acked_through;  // every message at or below is acknowledged
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Atomically records the LSN about to be confirmed for `slot_key`
  // ("database/slot") and the sinks' positions. Durable when it returns OK.
  virtual Status SaveCheckpoint(const std::string& slot_key, Lsn confirmed_lsn,
                                const std::vector<SinkCheckpoint>& sinks) = 0;
  virtual Result<std::optional<Lsn>> LoadSlotCheckpoint(const std::string& slot_key) = 0;
  virtual Result<std::optional<Position>> LoadSinkCheckpoint(const std::string& sink) = 0;
};

}  // namespace sluice::state
