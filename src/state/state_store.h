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

// A message held by an HTTP pull queue (one row per message per stream).
struct StreamMessage {
  uint64_t seq = 0;  // arrival order within the stream
  std::string group_key;
  Position position;
  std::string json;  // empty when loaded without bodies
  uint32_t deliver_count = 0;
  int64_t visible_at_ms = 0;  // Unix ms; while handed out, the lease expiry
  std::string ack_token;      // of the current delivery; empty when not handed out
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

  // Pull-queue messages. Append is durable when it returns OK.
  virtual Status AppendStreamMessages(const std::string& stream,
                                      const std::vector<StreamMessage>& messages) = 0;
  virtual Status DeleteStreamMessages(const std::string& stream,
                                      const std::vector<uint64_t>& seqs) = 0;
  // Updates deliver_count, visible_at_ms and ack_token.
  virtual Status UpdateStreamDeliveries(const std::string& stream,
                                        const std::vector<StreamMessage>& messages) = 0;
  // Every message of `stream` in seq order, without bodies.
  virtual Result<std::vector<StreamMessage>> LoadStreamIndex(const std::string& stream) = 0;
  // Bodies of the given messages, in the order of `seqs` (missing ones are
  // left out).
  virtual Result<std::vector<std::pair<uint64_t, std::string>>> LoadStreamBodies(
      const std::string& stream, const std::vector<uint64_t>& seqs) = 0;
};

}  // namespace sluice::state
