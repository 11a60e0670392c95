// Durable state (DESIGN §6). This interface holds checkpoints; later parts of
// the state (failed messages, pull-queue messages, backfill cursors) extend it.
// Implementations are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/lsn.h"
#include "common/status.h"
#include "state/backfill_record.h"  // backfills

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

// A push sink's message that kept failing (DESIGN §1, §6): held here so that
// the slot can advance while its group stays blocked behind it.
struct FailedMessage {
  uint64_t id = 0;  // per sink, increasing in arrival order
  std::string group_key;
  Position position;
  unsigned char action = 0;  // sluice::Action
  int64_t commit_time_us = 0;
  std::string table_schema;
  std::string table_name;
  std::string idempotency_key;
  std::string json;  // empty when loaded without bodies
  uint32_t attempts = 0;
  std::string last_error;
  int64_t first_failed_at_ms = 0;  // Unix ms
  int64_t last_failed_at_ms = 0;
  int64_t next_retry_at_ms = 0;
  // Not empty: the message must not be sent until a person retries it (its
  // filter could not be evaluated); see Message::hold_error.
  std::string hold_error;
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

  // Pull-queue messages. Append, Delete and UpdateDeliveries survive a crash
  // of the process when they return OK, and a power loss once a later
  // SaveCheckpoint returned OK (the checkpoint is written before any LSN is
  // confirmed to Postgres, so no appended message can be lost with the slot
  // advanced; a lost delete or delivery update means a redelivery).
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

  // Failed messages of push sinks. Insert is durable when it returns OK.
  virtual Status InsertFailedMessages(const std::string& sink,
                                      const std::vector<FailedMessage>& messages) = 0;
  // Updates attempts, last_error, last_failed_at_ms, next_retry_at_ms and
  // hold_error.
  virtual Status UpdateFailedMessages(const std::string& sink,
                                      const std::vector<FailedMessage>& messages) = 0;
  virtual Status DeleteFailedMessages(const std::string& sink,
                                      const std::vector<uint64_t>& ids) = 0;
  // Every failed message of `sink` in id order; bodies only when asked.
  virtual Result<std::vector<FailedMessage>> LoadFailedMessages(const std::string& sink,
                                                                bool with_bodies) = 0;
  // The body of one failed message (nullopt when it is gone).
  virtual Result<std::optional<std::string>> LoadFailedMessageBody(const std::string& sink,
                                                                   uint64_t id) = 0;

  // --- backfills ---
  // Stores `record` as a new backfill; returns it with its id. Durable when
  // it returns OK.
  virtual Result<BackfillRecord> CreateBackfill(const BackfillRecord& record) = 0;
  // Overwrites every mutable field (state, cursor, counters, estimate,
  // timestamps, last_error) of the backfill with record.id.
  virtual Status UpdateBackfill(const BackfillRecord& record) = 0;
  // The backfills of `sink` (every sink when empty), in id order.
  virtual Result<std::vector<BackfillRecord>> LoadBackfills(const std::string& sink) = 0;
  // --- end backfills ---
};

}  // namespace sluice::state
