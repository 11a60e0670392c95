// Start-up checks and set-up of the publication and slot, on a regular
// connection, with errors that say what is wrong and what to do.
#pragma once

#include <string>

#include "common/lsn.h"
#include "common/status.h"
#include "config/config.h"

namespace sluice::source {

struct SlotState {
  Lsn confirmed_flush = 0;
  int server_version = 0;
  bool created = false;
};

// Checks, in order: the server is reachable and the login works; wal_level
// is logical; the user may replicate; the publication exists (creating it
// first when configured); the slot exists and uses pgoutput on this database
// (creating it when configured) and is not in use (waiting up to
// `busy_wait` for a previous session of ours to let go).
// Errors are fatal (a configuration or server problem) or retryable (the
// server is unreachable).
Result<SlotState> PrepareSlot(const config::DatabaseConfig& db,
                              std::chrono::milliseconds busy_wait);

}  // namespace sluice::source
