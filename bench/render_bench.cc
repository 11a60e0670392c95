// Per-row cost of rendering a change of the suite's `events` table
// (bench/bench.mjs: bigserial, text, text, numeric, timestamptz, jsonb; the
// row of W1, W3 and W5) to its JSON: the record alone (what a backfill
// worker renders for every row read) and a whole message prefix.
//
//   build/release/bench/sluice_render_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "insert_row.h"
#include "pipeline/renderer.h"

namespace {

std::unique_ptr<sluice::bench::InsertRow> EventsRow() {
  return sluice::bench::MakeInsertRow(
      "events",
      {{"id", 20},
       {"kind", 25},
       {"customer", 25},
       {"amount", 1700},
       {"created_at", 1184},
       {"payload", 3802}},
      {"731245", "order.created", "customer-731245@example.com", "7312.45",
       "2026-11-22 07:40:11.123456+00",
       R"({"qty": 3, "sku": "SKU-1245", "note": "lorem ipsum dolor sit amet, consectetur adipiscing", "tags": ["web", "promo"]})"});
}

// What a backfill worker renders for every row read, and a whole message.
void Render(benchmark::State& state, void (*render)(const sluice::source::Change&, std::string&)) {
  auto row = EventsRow();
  std::string out;
  for (auto _ : state) {
    out.clear();
    render(row->change, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_RenderRecord(benchmark::State& state) { Render(state, sluice::pipeline::RenderRecord); }
BENCHMARK(BM_RenderRecord);

void BM_RenderChangePrefix(benchmark::State& state) {
  Render(state, sluice::pipeline::RenderChangePrefix);
}
BENCHMARK(BM_RenderChangePrefix);

}  // namespace

BENCHMARK_MAIN();
