// The Postgres side of a backfill, on a normal (non-replication) connection
// of its own: the table's shape from the catalog, the row estimate, the
// watermarks and the page queries. Not thread-safe: one per worker.
//
// Errors: permanent for what will not get better by retrying (no such
// table, no primary key, a bad sort column or start position, permission
// denied), retryable for a lost connection.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backfill/keyset.h"
#include "backfill/page_snapshot.h"
#include "backfill/watermark.h"
#include "common/status.h"
#include "source/pg_connection.h"

namespace sluice::backfill {

class TableReader {
 public:
  static Result<std::unique_ptr<TableReader>> Connect(const std::string& conninfo,
                                                      const std::string& display);

  // Reads the table's columns and primary key and sets the keyset order for
  // `sort_column` (empty: the primary key).
  Result<ShapeRef> LoadShape(const std::string& schema, const std::string& table,
                             const std::string& sort_column);
  // Checks that `value` is valid input for the sort column's type.
  Status CheckStartPosition(const TableShape& shape, const std::string& value);
  // pg_class.reltuples, or count(*) when the table is small or was never
  // analyzed; -1 when unknown.
  Result<int64_t> EstimateRows(const TableShape& shape);
  // pg_logical_emit_message(true, prefix, content) in a transaction of its
  // own.
  Status EmitWatermark(const Watermark& watermark);
  // The next page after `cursor` (nullptr: from the start), restricted to
  // sort column >= `start_position` when given, with the snapshot it was
  // read with (one REPEATABLE READ transaction).
  //
  // The page is read in chunks of `chunk_rows`, each query sent before the
  // previous chunk is handed to `on_rows` (rows [from, to) of the page so
  // far): the caller works on one chunk while Postgres reads the next. The
  // rows go to `rows`, cleared first (the buffers of an earlier page).
  struct PageRead {
    source::TextRows rows;
    PageSnapshot snapshot;
  };
  using OnRows = std::function<void(const source::TextRows& rows, size_t from, size_t to)>;
  static constexpr size_t kChunkRows = 10000;
  Result<PageRead> ReadPage(const TableShape& shape, const std::vector<std::string>* cursor,
                            const std::optional<std::string>& start_position, size_t limit,
                            source::TextRows rows = {}, const OnRows& on_rows = nullptr,
                            size_t chunk_rows = kChunkRows);
  // The xids of the transactions that hold their transaction lock: running,
  // or committed but not yet visible (pg_locks, readable by every role).
  Result<std::vector<uint32_t>> RunningXids();

 private:
  explicit TableReader(std::unique_ptr<source::PgConnection> conn) : conn_(std::move(conn)) {}
  Result<std::vector<source::Row>> Exec(const std::string& sql,
                                        const std::vector<std::string>& params,
                                        const std::vector<uint32_t>& types);

  std::unique_ptr<source::PgConnection> conn_;
};

}  // namespace sluice::backfill
