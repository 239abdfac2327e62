// Throughput of the traffic generator: events and bytes per second, JSON lines and EventList.
#include <string>

#include "benchmark/benchmark.h"
#include "tools/gen/generator.h"

namespace kq::gen {
namespace {

void BM_GenerateJsonLines(benchmark::State& state) {
  GenOptions options;
  options.events = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    uint64_t bytes = 0;
    absl::Status status = Generate(options, [&bytes](std::string_view chunk) {
      bytes += chunk.size();
      return absl::OkStatus();
    });
    if (!status.ok()) state.SkipWithError("generate failed");
    state.SetBytesProcessed(state.bytes_processed() + static_cast<int64_t>(bytes));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GenerateJsonLines)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_GenerateEventList(benchmark::State& state) {
  GenOptions options;
  options.events = static_cast<uint64_t>(state.range(0));
  options.format = GenOptions::Format::kEventList;
  for (auto _ : state) {
    uint64_t bytes = 0;
    absl::Status status = Generate(options, [&bytes](std::string_view chunk) {
      bytes += chunk.size();
      return absl::OkStatus();
    });
    if (!status.ok()) state.SkipWithError("generate failed");
    state.SetBytesProcessed(state.bytes_processed() + static_cast<int64_t>(bytes));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GenerateEventList)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kq::gen

BENCHMARK_MAIN();
