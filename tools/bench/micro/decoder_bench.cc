// The event decoder (storage::Decoder, simdjson On-Demand) on kq gen traffic:
//
//   build/bin/kq_decoder_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only]
//
// Items are events, bytes are JSON bytes; both rates are per thread of CPU.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "storage/decoder.h"
#include "tools/bench/micro/micro_corpus.h"

namespace kq::bench {
namespace {

constexpr size_t kEvents = 20000;

// One event at a time, reusing the output Event (how the file tailer decodes a line).
void BM_DecodeEvent(benchmark::State& state) {
  const MicroCorpus& corpus = GetMicroCorpus(kEvents);
  storage::Decoder decoder;
  storage::Event event;
  size_t i = 0;
  for (auto _ : state) {
    if (!decoder.DecodeEvent(corpus.lines[i], &event).ok()) {
      state.SkipWithError("decode failed");
      return;
    }
    benchmark::DoNotOptimize(event.audit_id.data());
    i = (i + 1) % corpus.lines.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * corpus.json_bytes / corpus.lines.size()));
}
BENCHMARK(BM_DecodeEvent);

// Times `decode(decoder, text, &events, &errors)`, which must yield `items` events and no error.
template <typename DecodeFn>
void RunDecode(benchmark::State& state, const std::string& text, size_t items, DecodeFn decode) {
  storage::Decoder decoder;
  std::vector<storage::Event> events;
  std::vector<storage::DecodeError> errors;
  for (auto _ : state) {
    events.clear();
    errors.clear();
    decode(decoder, text, &events, &errors);
    if (events.size() != items || !errors.empty()) {
      state.SkipWithError("the input did not decode to every item");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// A whole webhook body: an EventList of `range(0)` items (the apiserver sends up to 400).
void BM_DecodeEventListBody(benchmark::State& state) {
  const MicroCorpus& corpus = GetMicroCorpus(kEvents);
  const size_t items = static_cast<size_t>(state.range(0));
  std::string body = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[)";
  for (size_t i = 0; i < items; ++i) {
    if (i > 0) body += ',';
    body += corpus.lines[i];
  }
  body += "]}";
  RunDecode(state, body, items, [](storage::Decoder& d, std::string_view text, auto* e, auto* r) {
    d.DecodeBody(text, e, r);
  });
}
BENCHMARK(BM_DecodeEventListBody)->Arg(400);

// JSON lines, as `kq import` reads a file: `range(0)` lines per call.
void BM_DecodeLines(benchmark::State& state) {
  const MicroCorpus& corpus = GetMicroCorpus(kEvents);
  const size_t lines = static_cast<size_t>(state.range(0));
  std::string text;
  for (size_t i = 0; i < lines; ++i) text.append(corpus.lines[i]).push_back('\n');
  RunDecode(state, text, lines, [](storage::Decoder& d, std::string_view text, auto* e, auto* r) {
    d.DecodeLines(text, e, r);
  });
}
BENCHMARK(BM_DecodeLines)->Arg(5000);

}  // namespace
}  // namespace kq::bench

BENCHMARK_MAIN();
