#include "backfill/table_reader.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>

namespace sluice::backfill {
namespace {

std::atomic<uint64_t> next_shape_id{1};

}  // namespace

Result<std::unique_ptr<TableReader>> TableReader::Connect(const std::string& conninfo,
                                                          const std::string& display) {
  SLUICE_ASSIGN_OR_RETURN(auto conn, source::PgConnection::Connect(conninfo, display, false));
  return std::unique_ptr<TableReader>(new TableReader(std::move(conn)));
}

Result<std::vector<source::Row>> TableReader::Exec(const std::string& sql,
                                                   const std::vector<std::string>& params,
                                                   const std::vector<uint32_t>& types) {
  return conn_->Query(sql, params, types);
}

Result<ShapeRef> TableReader::LoadShape(const std::string& schema, const std::string& table,
                                        const std::string& sort_column) {
  const std::string name = schema + "." + table;
  SLUICE_ASSIGN_OR_RETURN(auto rel, Exec("SELECT c.oid, c.relreplident, c.relkind FROM pg_class c "
                                         "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                         "WHERE n.nspname = $1 AND c.relname = $2",
                                         {schema, table}, {}));
  if (rel.empty()) {
    return Status::Permanent("table " + name +
                             " does not exist (names are case-sensitive; write "
                             "schema.table)");
  }
  const std::string kind = rel[0][2].value_or("");
  if (kind == "p") {
    return Status::Permanent("table " + name +
                             " is partitioned; backfill each of its partitions instead");
  }
  if (kind != "r") return Status::Permanent(name + " is not a table");
  auto shape = std::make_shared<TableShape>();
  shape->id = next_shape_id.fetch_add(1);
  shape->oid = static_cast<uint32_t>(std::stoul(rel[0][0].value_or("0")));
  shape->schema = schema;
  shape->table = table;
  shape->replica_identity = rel[0][1].value_or("d").empty() ? 'd' : (*rel[0][1])[0];
  const std::string oid = std::to_string(shape->oid);
  SLUICE_ASSIGN_OR_RETURN(
      auto columns, Exec("SELECT attname, atttypid, atttypmod, attnotnull, attgenerated <> '' "
                         "FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND "
                         "NOT attisdropped ORDER BY attnum",
                         {oid}, {}));
  for (const source::Row& c : columns) {
    if (c[4].value_or("f") == "t") {
      if (c[0].value_or("") == sort_column) {
        return Status::Permanent("sort column \"" + sort_column + "\" of " + name +
                                 " is a generated column; sort by a stored column");
      }
      continue;  // pgoutput does not send generated columns
    }
    ShapeColumn col;
    col.name = c[0].value_or("");
    col.type_oid = static_cast<uint32_t>(std::stoul(c[1].value_or("0")));
    col.type_modifier = std::stoi(c[2].value_or("-1"));
    col.not_null = c[3].value_or("f") == "t";
    shape->columns.push_back(std::move(col));
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto key, Exec("SELECT a.attname FROM pg_index i "
                     "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
                     "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                     "WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
                     {oid}, {}));
  for (const source::Row& k : key) {
    for (size_t i = 0; i < shape->columns.size(); ++i) {
      if (shape->columns[i].name == k[0].value_or("")) shape->key_columns.push_back(i);
    }
  }
  SLUICE_RETURN_IF_ERROR(SetKeysetOrder(*shape, sort_column));
  return ShapeRef(std::move(shape));
}

Status TableReader::CheckStartPosition(const TableShape& shape, const std::string& value) {
  if (!shape.sort_column) {
    return Status::Permanent("start_position needs a sort_column");
  }
  const ShapeColumn& c = shape.columns[*shape.sort_column];
  auto r = Exec("SELECT $1", {value}, {c.type_oid});
  if (!r.ok() && r.status().IsPermanent()) {
    return Status::Permanent("start_position \"" + value +
                             "\" is not a valid value for sort column \"" + c.name +
                             "\": " + r.status().message());
  }
  return r.ok() ? Status::Ok() : r.status();
}

Result<int64_t> TableReader::EstimateRows(const TableShape& shape) {
  SLUICE_ASSIGN_OR_RETURN(auto rows,
                          Exec("SELECT reltuples::bigint, pg_relation_size(oid) FROM pg_class "
                               "WHERE oid = $1",
                               {std::to_string(shape.oid)}, {}));
  if (rows.empty()) return int64_t{-1};
  const int64_t reltuples = std::stoll(rows[0][0].value_or("-1"));
  const int64_t bytes = std::stoll(rows[0][1].value_or("0"));
  // Counting is exact and cheap for small tables; an analyzed large table's
  // estimate is good enough for progress.
  if (reltuples >= 100000) return reltuples;
  if (bytes <= (int64_t{256} << 20)) {
    SLUICE_ASSIGN_OR_RETURN(auto count,
                            Exec("SELECT count(*) FROM " + QualifiedName(shape), {}, {}));
    if (!count.empty()) return static_cast<int64_t>(std::stoll(count[0][0].value_or("-1")));
  }
  return reltuples;
}

Status TableReader::EmitWatermark(const Watermark& watermark) {
  const std::string prefix(watermark.high ? kHighWatermarkPrefix : kLowWatermarkPrefix);
  auto r = Exec("SELECT pg_logical_emit_message(true, $1::text, $2::text)",
                {prefix, WatermarkContent(watermark)}, {});
  return r.ok() ? Status::Ok() : r.status();
}

Result<TableReader::PageRead> TableReader::ReadPage(
    const TableShape& shape, const std::vector<std::string>* cursor,
    const std::optional<std::string>& start_position, size_t limit, source::TextRows rows,
    const OnRows& on_rows, size_t chunk_rows) {
  const bool has_start = start_position.has_value() && shape.sort_column.has_value();
  if (chunk_rows == 0) chunk_rows = limit;
  // One chunk's query: the next rows after `after` (the page's cursor, then
  // the last row read), in the page's snapshot.
  std::vector<std::string> after;
  if (cursor) after = *cursor;
  auto send_chunk = [&](size_t count) {
    PageQuery q = BuildPageQuery(shape, !after.empty(), has_start, count);
    std::vector<std::string> params = after;
    if (has_start) params.push_back(*start_position);
    return conn_->SendQuery(q.sql, params, q.param_types);
  };
  // The snapshot is taken by the transaction's first statement and used by
  // every chunk's query too.
  auto read = [&]() -> Result<PageRead> {
    SLUICE_RETURN_IF_ERROR(
        Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, {}).status());
    SLUICE_ASSIGN_OR_RETURN(auto snap, Exec("SELECT pg_current_snapshot()::text", {}, {}));
    std::optional<PageSnapshot> snapshot;
    if (!snap.empty() && snap[0][0]) snapshot = ParsePageSnapshot(*snap[0][0]);
    if (!snapshot) return Status::Permanent("cannot parse the page query's snapshot");
    rows.Clear(shape.columns.size());
    size_t asked = std::min(chunk_rows, limit);
    SLUICE_RETURN_IF_ERROR(send_chunk(asked));
    while (true) {
      const size_t from = rows.size();
      SLUICE_RETURN_IF_ERROR(conn_->ReceiveRows(rows));
      const bool more = rows.size() - from == asked && rows.size() < limit;
      if (more) {
        SLUICE_ASSIGN_OR_RETURN(after, CursorValues(shape, rows, rows.size() - 1));
        asked = std::min(chunk_rows, limit - rows.size());
        SLUICE_RETURN_IF_ERROR(send_chunk(asked));
      }
      if (on_rows) on_rows(rows, from, rows.size());
      if (!more) break;
    }
    SLUICE_RETURN_IF_ERROR(Exec("COMMIT", {}, {}).status());
    return PageRead{std::move(rows), std::move(*snapshot)};
  };
  auto result = read();
  if (!result.ok()) (void)Exec("ROLLBACK", {}, {});
  return result;
}

Result<std::vector<uint32_t>> TableReader::RunningXids() {
  SLUICE_ASSIGN_OR_RETURN(auto rows,
                          Exec("SELECT DISTINCT transactionid::text FROM pg_locks "
                               "WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' "
                               "AND granted",
                               {}, {}));
  std::vector<uint32_t> out;
  for (const source::Row& r : rows) {
    if (r[0]) out.push_back(static_cast<uint32_t>(std::stoul(*r[0])));
  }
  return out;
}

}  // namespace sluice::backfill
