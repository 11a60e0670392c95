// Per-message cost of the Lua functions (src/functions) on a ~200-byte
// message, next to a reference in the same process: parsing and re-writing
// the same message with nlohmann::json, the least a JSON-to-JSON step costs.
// Prints each benchmark's time and its ratio to the reference.
//
//   build/release/bench/sluice_functions_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "functions/function.h"

namespace {

using sluice::functions::Function;

constexpr const char* kMessage =
    R"({"record":{"id":42,"status":"paid","total":"19.90","customer_id":7},"changes":null,)"
    R"("action":"insert","metadata":{"table_schema":"public","table_name":"orders",)"
    R"("commit_lsn":24023128,"commit_idx":3}})";

std::unique_ptr<Function> MustCompile(const char* type, const char* lua) {
  sluice::config::FunctionConfig config;
  config.name = "bench";
  config.type = type;
  config.lua = lua;
  auto function = Function::Compile(config);
  if (!function.ok()) {
    std::fprintf(stderr, "%s\n", function.status().message().c_str());
    std::abort();
  }
  return std::move(function).value();
}

void BM_Reference_JsonParseAndDump(benchmark::State& state) {
  for (auto _ : state) {
    auto message = nlohmann::json::parse(kMessage);
    nlohmann::json out = {{"id", message["record"]["id"]}, {"status", message["record"]["status"]}};
    benchmark::DoNotOptimize(out.dump());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::strlen(kMessage)));
}
BENCHMARK(BM_Reference_JsonParseAndDump);

void BM_Transform_Slim(benchmark::State& state) {
  auto function = MustCompile("transform", "return {id = record.id, status = record.status}");
  for (auto _ : state) {
    auto out = function->Transform(kMessage);
    if (!out.ok()) state.SkipWithError(out.status().message().c_str());
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::strlen(kMessage)));
}
BENCHMARK(BM_Transform_Slim);

void BM_Transform_PassThroughRecord(benchmark::State& state) {
  auto function = MustCompile("transform", "return record");
  for (auto _ : state) {
    auto out = function->Transform(kMessage);
    if (!out.ok()) state.SkipWithError(out.status().message().c_str());
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::strlen(kMessage)));
}
BENCHMARK(BM_Transform_PassThroughRecord);

void BM_Filter(benchmark::State& state) {
  auto function = MustCompile("filter", "return record.status == 'paid' and action ~= 'delete'");
  for (auto _ : state) {
    auto keep = function->Filter(kMessage);
    if (!keep.ok() || !*keep) state.SkipWithError("filter did not keep the message");
    benchmark::DoNotOptimize(keep);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::strlen(kMessage)));
}
BENCHMARK(BM_Filter);

void BM_Route(benchmark::State& state) {
  auto function = MustCompile(
      "route",
      "return {topic = metadata.table_name, key = record.id, headers = {['X-Action'] = action}}");
  for (auto _ : state) {
    auto route = function->RouteMessage(kMessage);
    if (!route.ok()) state.SkipWithError(route.status().message().c_str());
    benchmark::DoNotOptimize(route);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::strlen(kMessage)));
}
BENCHMARK(BM_Route);

// Keeps the console output and remembers each run's time per iteration.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
        ns_per_op_[run.benchmark_name()] = run.GetAdjustedCPUTime();
      }
    }
  }
  void PrintRatios() const {
    auto reference = ns_per_op_.find("BM_Reference_JsonParseAndDump");
    if (reference == ns_per_op_.end() || reference->second <= 0) return;
    std::printf(
        "\nper message, CPU time as a ratio to the nlohmann parse+dump reference (%.0f ns):\n",
        reference->second);
    for (const auto& [name, ns] : ns_per_op_) {
      std::printf("  %-34s %8.0f ns  %5.2fx\n", name.c_str(), ns, ns / reference->second);
    }
  }

 private:
  std::map<std::string, double> ns_per_op_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
