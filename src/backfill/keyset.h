// The pure parts of reading a table in keyset pages: the table as a backfill
// sees it, the page query, cursors, row keys and idempotency keys. No I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/pg_connection.h"

namespace sluice::backfill {

struct ShapeColumn {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool not_null = false;
};

// A table as a backfill reads it, from the catalog. Immutable once built.
struct TableShape {
  uint64_t id = 0;  // unique in this process (a new id for every load)
  uint32_t oid = 0;
  std::string schema;
  std::string table;
  char replica_identity = 'd';
  // In attribute order, without dropped and generated columns (what
  // pgoutput sends).
  std::vector<ShapeColumn> columns;
  // Primary key, in key order: indexes into `columns`.
  std::vector<size_t> key_columns;
  // The keyset order: the sort column (when it is not a key column) then the
  // key columns; or the sort column first, then the other key columns.
  std::vector<size_t> order_columns;
  std::optional<size_t> sort_column;  // index into `columns`; nullopt: key order
};

using ShapeRef = std::shared_ptr<const TableShape>;

// Builds order_columns (and sort_column) for `sort_column` (empty: the
// primary key). Errors (permanent) when the table has no primary key, the
// column does not exist, or it may be NULL and is not part of the key.
Status SetKeysetOrder(TableShape& shape, const std::string& sort_column);

// The page query and its parameter types (column type OIDs), for
//   SELECT cols FROM t WHERE (order cols) > ($1..) [AND sort >= $n]
//   ORDER BY order cols LIMIT limit
// `has_cursor`: the row comparison is included; `has_start`: the start
// position condition is. Parameters are the cursor values, then the start
// position. Identifiers are quoted; values are never inlined.
struct PageQuery {
  std::string sql;
  std::vector<uint32_t> param_types;
};
PageQuery BuildPageQuery(const TableShape& shape, bool has_cursor, bool has_start, size_t limit);

// `SELECT count(*) FROM t` with the same quoting.
std::string QualifiedName(const TableShape& shape);

// The text of the order columns of `row` (a row of a page, in shape column
// order): the parameters of the query for the rows after it. Errors when one
// is NULL.
Result<std::vector<std::string>> CursorValues(const TableShape& shape, const source::TextRows& rows,
                                              size_t row);
// The cursor after `row`: CursorValues as a JSON array.
Result<std::string> CursorAfter(const TableShape& shape, const source::TextRows& rows, size_t row);
// Parses a stored cursor; its length must match the order columns.
Result<std::vector<std::string>> ParseCursor(const TableShape& shape, std::string_view json);

// An unambiguous byte string for a row key (the key column texts in key
// order); equal keys give equal strings. Used to match page rows with the
// changes of the stream.
void AppendKeyPart(std::string& out, std::string_view text);

// base64 of "<backfill_id>:<JSON array of the key values as strings>".
std::string ReadIdempotencyKey(int64_t backfill_id, const std::vector<std::string_view>& key);
// The same into `out`, with `raw` for the text before base64: both keep
// their buffers from one read to the next.
void WriteReadIdempotencyKey(std::string& out, std::string& raw, int64_t backfill_id,
                             const std::vector<std::string_view>& key);

// Adaptive page size: starts at `initial`, doubles while a page query takes
// under `fast`, halves when one takes over `slow`, within [min, max].
class PageSizer {
 public:
  PageSizer(size_t initial = 1000, size_t min = 100, size_t max = 50000)
      : size_(initial), min_(min), max_(max) {}
  size_t size() const { return size_; }
  void Observe(double seconds);

 private:
  size_t size_;
  size_t min_;
  size_t max_;
};

}  // namespace sluice::backfill
