// Per-message cost of a sink's SQL filter (src/filter) on a typical orders
// row, next to a reference in the same process: rendering the same change
// to its message JSON (what every routed change costs anyway).
//
//   build/release/bench/sluice_filter_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "insert_row.h"
#include "pipeline/renderer.h"
#include "values/value_json.h"

namespace {

// public.orders(id int8, status text, total numeric, customer jsonb,
// created_at timestamptz), one insert.
std::unique_ptr<sluice::bench::InsertRow> OrdersRow() {
  return sluice::bench::MakeInsertRow(
      "orders",
      {{"id", 20}, {"status", 25}, {"total", 1700}, {"customer", 3802}, {"created_at", 1184}},
      {"4242", "paid", "149.90", R"({"tier": "gold", "name": "Ada"})",
       "2026-11-21 10:00:00.123456+00"});
}

std::unique_ptr<sluice::filter::Filter> MustCompile(const char* sql) {
  auto f = sluice::filter::Filter::Compile(sql);
  if (!f.ok()) {
    std::fprintf(stderr, "%s\n", f.status().message().c_str());
    std::abort();
  }
  return std::move(f).value();
}

void BM_Reference_RenderMessage(benchmark::State& state) {
  auto row = OrdersRow();
  std::string out;
  for (auto _ : state) {
    out.clear();
    sluice::pipeline::RenderChangePrefix(row->change, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Reference_RenderMessage);

void RunFilter(benchmark::State& state, const char* sql) {
  auto row = OrdersRow();
  auto filter = MustCompile(sql);
  for (auto _ : state) {
    auto r = filter->Matches(row->change);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
}

void BM_Filter_Equality(benchmark::State& state) { RunFilter(state, "status = 'paid'"); }
BENCHMARK(BM_Filter_Equality);

void BM_Filter_EqualityAndNumeric(benchmark::State& state) {
  RunFilter(state, "status = 'paid' AND total > 100");
}
BENCHMARK(BM_Filter_EqualityAndNumeric);

void BM_Filter_WithJsonAndTimestamp(benchmark::State& state) {
  RunFilter(state,
            "status = 'paid' AND total > 100 AND customer->>'tier' IN ('gold', 'vip') AND "
            "created_at >= '2026-01-01'");
}
BENCHMARK(BM_Filter_WithJsonAndTimestamp);

}  // namespace

BENCHMARK_MAIN();
