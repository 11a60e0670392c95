// Per-row cost of rendering a change of the suite's `events` table
// (bench/bench.mjs: bigserial, text, text, numeric, timestamptz, jsonb; the
// row of W1, W3 and W5) to its JSON: the record alone (what a backfill
// worker renders for every row read) and a whole message prefix.
//
//   build/release/bench/sluice_render_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "pipeline/renderer.h"
#include "values/value_json.h"

namespace {

using sluice::source::ColumnValue;

struct Row {
  std::vector<std::string> storage;
  sluice::source::Change change;
};

std::unique_ptr<Row> EventsRow() {
  auto row = std::make_unique<Row>();
  auto rel = std::make_shared<sluice::source::RelationInfo>();
  rel->oid = 16390;
  rel->schema = "public";
  rel->table = "events";
  const std::vector<std::pair<const char*, uint32_t>> cols = {
      {"id", 20},       {"kind", 25},         {"customer", 25},
      {"amount", 1700}, {"created_at", 1184}, {"payload", 3802}};
  for (const auto& [name, oid] : cols) {
    sluice::source::ColumnInfo info;
    info.name = name;
    info.json_key = sluice::JsonMemberKey(name);
    info.type_oid = oid;
    info.type = sluice::values::BuiltinType(oid);
    rel->columns.push_back(info);
  }
  rel->key_columns = {0};
  row->storage = {
      "731245",
      "order.created",
      "customer-731245@example.com",
      "7312.45",
      "2026-11-22 07:40:11.123456+00",
      R"({"qty": 3, "sku": "SKU-1245", "note": "lorem ipsum dolor sit amet, consectetur adipiscing", "tags": ["web", "promo"]})"};
  row->change.action = sluice::Action::kInsert;
  row->change.position = {24023128, 3};
  row->change.commit_time_us = 1795000000000000;
  row->change.relation = rel;
  for (const std::string& s : row->storage) {
    row->change.new_values.push_back(ColumnValue{ColumnValue::Kind::kText, s});
  }
  return row;
}

void BM_RenderRecord(benchmark::State& state) {
  auto row = EventsRow();
  std::string out;
  for (auto _ : state) {
    out.clear();
    sluice::pipeline::RenderRecord(row->change, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RenderRecord);

void BM_RenderChangePrefix(benchmark::State& state) {
  auto row = EventsRow();
  std::string out;
  for (auto _ : state) {
    out.clear();
    sluice::pipeline::RenderChangePrefix(row->change, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RenderChangePrefix);

}  // namespace

BENCHMARK_MAIN();
