// Turns the decoded pgoutput stream into committed changes: tracks
// Begin..Commit, numbers changes (commit_idx), keeps the relation cache (by
// OID, replaced on every Relation message, so ALTER TABLE mid-stream is
// handled), applies transaction annotations, and buffers transactions that
// are streamed in progress until they commit (StreamBuffer).
//
// Used only on the replication reader thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/status.h"
#include "pgoutput/decoder.h"
#include "source/catalog.h"
#include "source/change.h"
#include "source/stream_buffer.h"

namespace sluice::source {

struct AssemblerStats {
  uint64_t transactions = 0;
  uint64_t changes = 0;
  uint64_t streamed_transactions = 0;
  uint64_t aborted_streams = 0;
  // Changes of streamed transactions rendered while they arrived, and of
  // those, the ones whose rendering was used at the commit (not used: the
  // table's columns changed in between).
  uint64_t rendered_ahead = 0;
  uint64_t rendered_ahead_used = 0;
};

class TransactionAssembler {
 public:
  TransactionAssembler(Catalog& catalog, ChangeHandler& handler, std::string spill_dir,
                       uint64_t stream_memory_cap);

  // One XLogData payload.
  Status Process(std::string_view payload);
  // A keepalive arrived; forwards to OnIdle when no transaction is open.
  void Keepalive(Lsn wal_end);
  // The connection was lost: forget the open transaction and streamed
  // buffers (the server sends them again). The relation cache survives.
  void Reset();

  bool in_transaction() const { return in_txn_; }
  const AssemblerStats& stats() const { return stats_; }
  const StreamBuffer& stream_buffer() const { return streams_; }

 private:
  Status Handle(const pgoutput::Message& message, std::string_view raw);
  Status HandleRelation(const pgoutput::Relation& rel);
  // A RelationInfo for `rel` with its columns' types resolved, without key
  // columns.
  Result<std::shared_ptr<RelationInfo>> DescribeRelation(const pgoutput::Relation& rel);
  // On arrival of a streamed transaction's messages: a Relation message
  // (kept for the transaction's later changes), a row change (rendered
  // through ChangeHandler::RenderAhead; returns the annex to buffer with it,
  // empty when nothing was rendered).
  void NoteAheadRelation(const pgoutput::Relation& rel);
  std::string_view RenderAhead(const pgoutput::Message& message);
  // At the commit: sets the change's rendered record and changes from the
  // annex that came back with its message, if its columns are unchanged.
  void UseRenderedAhead(Change& change);
  // The parts of an Insert, Update or Delete message a Change is made of.
  struct RowMessage {
    Action action = Action::kInsert;
    uint32_t relation_oid = 0;
    const pgoutput::TupleData* new_tuple = nullptr;
    const pgoutput::TupleData* old_tuple = nullptr;
    bool old_is_key_only = false;
  };
  static std::optional<RowMessage> AsRowMessage(const pgoutput::Message& message);
  // Sets the row part of `c` (action, relation, values); false when a tuple
  // does not have the relation's column count.
  static bool FillRow(const RowMessage& row, RelationRef relation, Change& c);
  Status EmitRow(const RowMessage& row);
  Status EmitTruncate(const pgoutput::Truncate& truncate);
  void HandleLogicalMessage(const pgoutput::LogicalMessage& message);
  Status ReplayStream(const pgoutput::StreamCommit& commit);

  Catalog& catalog_;
  ChangeHandler& handler_;
  pgoutput::Decoder decoder_;
  StreamBuffer streams_;
  std::unordered_map<uint32_t, RelationRef> relations_;
  uint64_t relation_version_ = 0;
  std::unordered_set<uint32_t> toast_warned_;

  bool in_txn_ = false;
  bool replaying_ = false;
  TransactionInfo txn_;
  uint32_t commit_idx_ = 0;
  std::string annotations_;
  uint32_t stream_xid_ = 0;  // top-level xid of the open streamed block
  bool in_stream_block_ = false;
  Change change_;  // reused to avoid reallocating per change
  AssemblerStats stats_;

  // Streamed transactions' relations as their changes were rendered on
  // arrival, by top-level xid: the latest by OID (from the transaction's own
  // Relation messages; else the cache's is used), and every one an annex
  // names, by version. Dropped at the stream's commit or abort.
  struct AheadRelations {
    std::unordered_map<uint32_t, RelationRef> latest;
    std::unordered_map<uint64_t, RelationRef> by_version;
  };
  std::unordered_map<uint32_t, AheadRelations> ahead_;
  Change ahead_change_;
  std::string annex_;
  std::string ahead_changes_;
  // During a replay: the replayed transaction's entry, and the annex of the
  // message being handled.
  AheadRelations* replay_ahead_ = nullptr;
  std::string_view replay_annex_;
  // The last comparison of an annex's relation with the replay's.
  uint64_t compared_ahead_version_ = 0;
  uint64_t compared_version_ = 0;
  bool compared_same_ = false;
};

}  // namespace sluice::source
