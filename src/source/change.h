// What the source hands to the pipeline: committed row changes with their
// stream position, one transaction at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/lsn.h"
#include "common/message.h"
#include "common/status.h"
#include "values/value_json.h"

namespace sluice::source {

struct ColumnInfo {
  std::string name;
  // `,"name":`, the name as a JSON object key after a comma (JsonMemberKey),
  // set with the name so that rendering a row does not escape it again;
  // empty: the renderer escapes `name` itself.
  std::string json_key;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool replica_identity = false;  // flagged as key by pgoutput
  values::TypeRef type;           // never null (text when unknown)
};

// A table as the latest Relation message describes it. Immutable; a new
// Relation message for the same OID makes a new RelationInfo.
struct RelationInfo {
  uint32_t oid = 0;
  std::string schema;
  std::string table;
  char replica_identity = 'd';
  std::vector<ColumnInfo> columns;
  // Indexes into `columns` of the primary key; when the table has none, of
  // the replica identity columns (unless identity is FULL); else empty.
  std::vector<size_t> key_columns;
  uint64_t version = 0;  // increases with every Relation message
};

using RelationRef = std::shared_ptr<const RelationInfo>;

// One column value as pgoutput sent it.
struct ColumnValue {
  enum class Kind : unsigned char { kNull, kUnchangedToast, kText };
  Kind kind = Kind::kNull;
  std::string_view text;
};

// A committed change. Views (values, annotations) are valid only during the
// ChangeHandler call that receives it.
struct Change {
  Action action = Action::kInsert;
  Position position;
  int64_t commit_time_us = 0;
  RelationRef relation;                 // null for truncate
  std::vector<ColumnValue> new_values;  // insert, update
  std::vector<ColumnValue> old_values;  // update (if sent), delete
  bool has_old = false;
  bool old_is_key_only = false;
  std::string_view annotations;        // raw JSON text, empty when none
  std::vector<RelationRef> truncated;  // truncate only
  // Set for backfill reads (backfill id and key); empty: derived from
  // `position`.
  std::string_view idempotency_key;
  // The message's "record" object (for a delete, the old row) when it was
  // rendered ahead: by the backfill worker that read the page, or while a
  // streamed transaction arrived (ChangeHandler::RenderAhead); empty:
  // rendered from the values.
  std::string_view rendered_record;
  // An update's "changes" object, rendered ahead with the record; empty:
  // rendered from the values.
  std::string_view rendered_changes;
};

// The value new-tuple column `i` stands for: unchanged TOAST takes the old
// value when the old row was sent in full (REPLICA IDENTITY FULL).
inline const ColumnValue* ResolveNewValue(const Change& change, size_t i) {
  const ColumnValue& v = change.new_values[i];
  if (v.kind == ColumnValue::Kind::kUnchangedToast && change.has_old && !change.old_is_key_only &&
      i < change.old_values.size() &&
      change.old_values[i].kind != ColumnValue::Kind::kUnchangedToast) {
    return &change.old_values[i];
  }
  return &v;
}

struct TransactionInfo {
  uint32_t xid = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;  // set at commit
  int64_t commit_time_us = 0;
};

// Receives the stream. Called on the replication reader thread, in commit
// order. OnChange may block (back-pressure); an error from it stops the
// stream and the connection is re-established from the confirmed position.
class ChangeHandler {
 public:
  virtual ~ChangeHandler() = default;
  virtual void OnBegin(const TransactionInfo& txn) = 0;
  virtual Status OnChange(const Change& change) = 0;
  // Every change of the transaction has been passed to OnChange.
  virtual void OnCommit(const TransactionInfo& txn) = 0;
  // Server WAL position from a keepalive, received between transactions.
  virtual void OnIdle(Lsn wal_end) = 0;
  // A transactional logical message whose prefix starts with
  // "sluice:backfill." (backfill watermarks), at its place inside the
  // transaction: between OnBegin and OnCommit, also when a streamed
  // transaction is replayed. An error stops the stream like OnChange's.
  virtual Status OnLogicalMessage(std::string_view prefix, std::string_view content) {
    (void)prefix;
    (void)content;
    return Status::Ok();
  }
  // A row change of a streamed transaction that has just arrived, long
  // before its commit (the change is passed to OnChange again then). The
  // handler may render now what does not depend on the commit: it appends
  // the message's "record" object to `record` and, for an update, the
  // "changes" object to `changes`, and returns true; they come back with the
  // change at its commit as Change::rendered_record and rendered_changes if
  // the table's columns are still the same. The change has no position,
  // commit time or annotations yet, and its relation carries no key
  // columns. False: nothing rendered (no sink wants the change).
  virtual bool RenderAhead(const Change& change, std::string& record, std::string& changes) {
    (void)change;
    (void)record;
    (void)changes;
    return false;
  }
};

}  // namespace sluice::source
