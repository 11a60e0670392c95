#include "backfill/keyset.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_writer.h"

namespace sluice::backfill {

using source::QuoteIdentifier;

Status SetKeysetOrder(TableShape& shape, const std::string& sort_column) {
  const std::string table = shape.schema + "." + shape.table;
  if (shape.key_columns.empty()) {
    return Status::Permanent("table " + table +
                             " has no primary key; backfills read tables in primary key order "
                             "and need one");
  }
  shape.order_columns.clear();
  shape.sort_column.reset();
  if (sort_column.empty()) {
    shape.order_columns = shape.key_columns;
    return Status::Ok();
  }
  std::optional<size_t> sort;
  for (size_t i = 0; i < shape.columns.size(); ++i) {
    if (shape.columns[i].name == sort_column) sort = i;
  }
  if (!sort) {
    return Status::Permanent("table " + table + " has no column \"" + sort_column +
                             "\" to sort by (column names are case-sensitive)");
  }
  const bool in_key = std::find(shape.key_columns.begin(), shape.key_columns.end(), *sort) !=
                      shape.key_columns.end();
  if (!in_key && !shape.columns[*sort].not_null) {
    return Status::Permanent("sort column \"" + sort_column + "\" of " + table +
                             " may be NULL; sort by a NOT NULL column or a primary key column");
  }
  shape.sort_column = sort;
  shape.order_columns.push_back(*sort);
  for (size_t k : shape.key_columns) {
    if (k != *sort) shape.order_columns.push_back(k);
  }
  return Status::Ok();
}

std::string QualifiedName(const TableShape& shape) {
  return QuoteIdentifier(shape.schema) + "." + QuoteIdentifier(shape.table);
}

PageQuery BuildPageQuery(const TableShape& shape, bool has_cursor, bool has_start, size_t limit) {
  PageQuery q;
  std::string& sql = q.sql;
  sql = "SELECT ";
  for (size_t i = 0; i < shape.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(shape.columns[i].name);
  }
  sql += " FROM " + QualifiedName(shape);
  std::string order;
  for (size_t i = 0; i < shape.order_columns.size(); ++i) {
    if (i > 0) order += ", ";
    order += QuoteIdentifier(shape.columns[shape.order_columns[i]].name);
  }
  std::vector<std::string> conditions;
  int param = 0;
  if (has_cursor) {
    std::string values;
    for (size_t i = 0; i < shape.order_columns.size(); ++i) {
      if (i > 0) values += ", ";
      values += "$" + std::to_string(++param);
      q.param_types.push_back(shape.columns[shape.order_columns[i]].type_oid);
    }
    conditions.push_back("(" + order + ") > (" + values + ")");
  }
  if (has_start && shape.sort_column) {
    const ShapeColumn& c = shape.columns[*shape.sort_column];
    conditions.push_back(QuoteIdentifier(c.name) + " >= $" + std::to_string(++param));
    q.param_types.push_back(c.type_oid);
  }
  for (size_t i = 0; i < conditions.size(); ++i)
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  sql += " ORDER BY " + order + " LIMIT " + std::to_string(limit);
  return q;
}

Result<std::vector<std::string>> CursorValues(const TableShape& shape, const source::TextRows& rows,
                                              size_t row) {
  std::vector<std::string> values;
  for (size_t idx : shape.order_columns) {
    const std::optional<std::string_view> v = rows.Value(row, idx);
    if (!v) {
      return Status::Permanent("order column \"" + shape.columns[idx].name + "\" of " +
                               shape.schema + "." + shape.table + " is NULL in a row read");
    }
    values.emplace_back(*v);
  }
  return values;
}

Result<std::string> CursorAfter(const TableShape& shape, const source::TextRows& rows, size_t row) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> values, CursorValues(shape, rows, row));
  return nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<std::string>> ParseCursor(const TableShape& shape, std::string_view json) {
  auto parsed = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return Status::Permanent("stored backfill cursor is not a JSON array: " + std::string(json));
  }
  if (parsed.size() != shape.order_columns.size()) {
    return Status::Permanent("stored backfill cursor has " + std::to_string(parsed.size()) +
                             " values but the sort order of " + shape.schema + "." + shape.table +
                             " has " + std::to_string(shape.order_columns.size()) +
                             " columns (was the primary key changed?)");
  }
  std::vector<std::string> out;
  for (const auto& v : parsed) {
    if (!v.is_string()) {
      return Status::Permanent("stored backfill cursor holds a value that is not a string");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

void AppendKeyPart(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out.push_back(':');
  out.append(text);
}

std::string ReadIdempotencyKey(int64_t backfill_id, const std::vector<std::string_view>& key) {
  std::string out;
  std::string raw;
  WriteReadIdempotencyKey(out, raw, backfill_id, key);
  return out;
}

void WriteReadIdempotencyKey(std::string& out, std::string& raw, int64_t backfill_id,
                             const std::vector<std::string_view>& key) {
  // "<id>:" and the key as a JSON array of strings, written directly (one
  // per read: this is on the backfill's hot path).
  char id[24];
  raw.assign(id, std::to_chars(id, id + sizeof(id), backfill_id).ptr);
  raw += ":[";
  for (size_t i = 0; i < key.size(); ++i) {
    if (i > 0) raw.push_back(',');
    AppendJsonString(raw, key[i]);
  }
  raw.push_back(']');
  out.clear();
  AppendBase64(out, raw);
}

void PageSizer::Observe(double seconds) {
  if (seconds < 0.1) {
    size_ = std::min(max_, size_ * 2);
  } else if (seconds > 1.0) {
    size_ = std::max(min_, size_ / 2);
  }
}

}  // namespace sluice::backfill
