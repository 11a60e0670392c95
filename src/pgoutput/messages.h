// The logical replication protocol's messages as pgoutput sends them
// (protocols 1 and 2; Postgres docs "Logical Replication Message Formats").
// String fields are views into the bytes passed to the decoder: they are valid
// only while those bytes are.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "common/lsn.h"

namespace sluice::pgoutput {

// Microseconds between 1970-01-01 and 2000-01-01 (Postgres' epoch).
inline constexpr int64_t kPostgresEpochOffsetUs = 946684800000000LL;

// Postgres-epoch microseconds -> Unix-epoch microseconds. Saturates instead of
// overflowing, so that Postgres' +-infinity (INT64_MAX / INT64_MIN) and
// garbage input stay well defined.
constexpr int64_t PostgresToUnixUs(int64_t postgres_us) {
  if (postgres_us > INT64_MAX - kPostgresEpochOffsetUs) return INT64_MAX;
  return postgres_us + kPostgresEpochOffsetUs;
}

// Unix-epoch microseconds -> Postgres-epoch microseconds, saturating.
constexpr int64_t UnixToPostgresUs(int64_t unix_us) {
  if (unix_us < INT64_MIN + kPostgresEpochOffsetUs) return INT64_MIN;
  return unix_us - kPostgresEpochOffsetUs;
}

struct TupleColumn {
  enum class Kind : char {
    kNull = 'n',
    kUnchangedToast = 'u',  // TOASTed value not changed by this update: no data sent.
    kText = 't',
    kBinary = 'b',
  };
  Kind kind = Kind::kNull;
  std::string_view value;  // kText / kBinary only.
};

struct TupleData {
  std::vector<TupleColumn> columns;
};

struct Begin {
  Lsn final_lsn = 0;           // LSN of the commit record.
  int64_t commit_time_us = 0;  // Unix epoch microseconds.
  uint32_t xid = 0;
};

struct Commit {
  uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;  // End of the commit record: confirm this once all is delivered.
  int64_t commit_time_us = 0;
};

struct Origin {
  Lsn commit_lsn = 0;
  std::string_view name;
};

struct RelationColumn {
  uint8_t flags = 0;  // 1: part of the replica identity key.
  std::string_view name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool IsKey() const { return (flags & 1) != 0; }
};

// `xid` of the data messages below (Relation, Type, Insert, Update, Delete,
// Truncate, LogicalMessage) is set only inside a streamed block: it is the
// (sub)transaction that made the change, which may be a subtransaction of the
// top-level xid named by the enclosing StreamStart. A StreamAbort whose
// subxid differs from its xid discards only that subtransaction's changes.
struct Relation {
  std::optional<uint32_t> xid;
  uint32_t oid = 0;
  std::string_view schema;  // Empty means pg_catalog.
  std::string_view name;
  char replica_identity = 'd';  // d default, n nothing, f full, i index
  std::vector<RelationColumn> columns;
};

struct Type {
  std::optional<uint32_t> xid;
  uint32_t oid = 0;
  std::string_view schema;
  std::string_view name;
};

struct Insert {
  std::optional<uint32_t> xid;
  uint32_t relation_oid = 0;
  TupleData new_tuple;
};

struct Update {
  std::optional<uint32_t> xid;
  uint32_t relation_oid = 0;
  // 'K' (key columns only) or 'O' (whole old row, REPLICA IDENTITY FULL);
  // absent when the key did not change and identity is not FULL.
  std::optional<TupleData> old_tuple;
  bool old_is_key_only = false;
  TupleData new_tuple;
};

struct Delete {
  std::optional<uint32_t> xid;
  uint32_t relation_oid = 0;
  TupleData old_tuple;
  bool old_is_key_only = false;
};

struct Truncate {
  std::optional<uint32_t> xid;
  uint8_t options = 0;  // 1: CASCADE, 2: RESTART IDENTITY
  std::vector<uint32_t> relation_oids;
};

// pg_logical_emit_message.
struct LogicalMessage {
  std::optional<uint32_t> xid;
  bool transactional = false;
  Lsn lsn = 0;
  std::string_view prefix;
  std::string_view content;
};

struct StreamStart {
  uint32_t xid = 0;
  bool first_segment = false;
};

struct StreamStop {};

struct StreamCommit {
  uint32_t xid = 0;
  uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;
  int64_t commit_time_us = 0;
};

struct StreamAbort {
  uint32_t xid = 0;     // Top-level transaction.
  uint32_t subxid = 0;  // Equal to xid when the whole transaction aborted.
  // Sent only by protocol 4 (Postgres 16+ with streaming = parallel); absent
  // in protocols 2 and 3.
  std::optional<Lsn> abort_lsn;
  std::optional<int64_t> abort_time_us;  // Unix epoch microseconds.
};

using Message =
    std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate,
                 LogicalMessage, StreamStart, StreamStop, StreamCommit, StreamAbort>;

}  // namespace sluice::pgoutput
