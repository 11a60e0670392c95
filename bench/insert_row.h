// One insert into a table of built-in column types, for the in-process
// micro-benchmarks: the change as the replication reader hands it on, its
// values' text kept alongside.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "source/change.h"
#include "values/value_json.h"

namespace sluice::bench {

struct InsertRow {
  std::vector<std::string> storage;  // the values' text
  source::Change change;
};

// An insert into public.`table` (its first column the key) of `values`, one
// per column of `columns` (name, type OID). Column keys are escaped ahead, as
// the reader's relations have them.
inline std::unique_ptr<InsertRow> MakeInsertRow(
    const std::string& table, const std::vector<std::pair<const char*, uint32_t>>& columns,
    std::vector<std::string> values) {
  auto row = std::make_unique<InsertRow>();
  auto rel = std::make_shared<source::RelationInfo>();
  rel->oid = 16384;
  rel->schema = "public";
  rel->table = table;
  for (const auto& [name, oid] : columns) {
    source::ColumnInfo info;
    info.name = name;
    info.json_key = JsonMemberKey(name);
    info.type_oid = oid;
    info.type = values::BuiltinType(oid);
    if (info.type == nullptr) info.type = values::TextType();
    rel->columns.push_back(info);
  }
  rel->key_columns = {0};
  row->storage = std::move(values);
  row->change.action = Action::kInsert;
  row->change.position = {24023128, 3};
  row->change.commit_time_us = 1795000000000000;
  row->change.relation = rel;
  for (const std::string& s : row->storage) {
    row->change.new_values.push_back(source::ColumnValue{source::ColumnValue::Kind::kText, s});
  }
  return row;
}

}  // namespace sluice::bench
