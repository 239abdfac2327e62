// The segment encoder and decoder (storage/segment.h) on kq gen traffic:
//
//   build/bin/kq_segment_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only]
//
// Items are rows. Counters: `json_bytes` of the input events, `segment_bytes` stored (metadata
// columns and both body blocks), and their ratio.
#include <benchmark/benchmark.h>

#include <string>

#include "storage/segment.h"
#include "tools/bench/micro/micro_corpus.h"

namespace kq::bench {
namespace {

storage::EncodedSegment Encode(size_t rows, int zstd_level) {
  const MicroCorpus& corpus = GetMicroCorpus(rows);
  storage::SegmentBuilder builder;
  for (const storage::Event& e : corpus.events) builder.Add(e);
  return builder.Finish(zstd_level);
}

// Encoding `range(0)` events into one segment at zstd level `range(1)` (appends of small
// segments use a fast level, kept segments kSegmentZstdLevel).
void BM_SegmentEncode(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const int level = static_cast<int>(state.range(1));
  const MicroCorpus& corpus = GetMicroCorpus(rows);
  storage::SegmentBuilder builder;
  size_t stored = 0;
  for (auto _ : state) {
    for (const storage::Event& e : corpus.events) builder.Add(e);
    storage::EncodedSegment out = builder.Finish(level);
    stored = out.segment.size() + out.request_bodies.size() + out.response_bodies.size();
    benchmark::DoNotOptimize(out.segment.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.counters["json_bytes"] = static_cast<double>(corpus.json_bytes);
  state.counters["segment_bytes"] = static_cast<double>(stored);
  state.counters["ratio"] = static_cast<double>(corpus.json_bytes) / static_cast<double>(stored);
}
BENCHMARK(BM_SegmentEncode)->Args({8192, -2})->Args({8192, 1})->Args({65536, 1})->Args({65536, 6});

// Parsing a stored segment and decoding every column (what a merge or a whole-event read
// does), bodies excluded.
void BM_SegmentDecodeAllColumns(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const storage::EncodedSegment encoded = Encode(rows, 6);
  for (auto _ : state) {
    absl::StatusOr<storage::SegmentView> view = storage::SegmentView::Parse(encoded.segment);
    if (!view.ok()) {
      state.SkipWithError("segment does not parse");
      return;
    }
    absl::StatusOr<storage::DecodedRows> decoded = storage::DecodeAllColumns(*view);
    if (!decoded.ok() || decoded->rows != rows) {
      state.SkipWithError("segment does not decode");
      return;
    }
    benchmark::DoNotOptimize(decoded->rows);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_SegmentDecodeAllColumns)->Arg(65536);

// Decoding one dictionary column (verb) and one int column (response code): what a filter on
// those columns reads.
void BM_SegmentDecodeFilterColumns(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const storage::EncodedSegment encoded = Encode(rows, 6);
  absl::StatusOr<storage::SegmentView> view = storage::SegmentView::Parse(encoded.segment);
  if (!view.ok()) {
    state.SkipWithError("segment does not parse");
    return;
  }
  for (auto _ : state) {
    auto verbs = view->Strings(static_cast<uint32_t>(storage::Column::kVerb));
    auto codes = view->Ints(static_cast<uint32_t>(storage::Column::kCode));
    if (!verbs.ok() || !codes.ok()) {
      state.SkipWithError("column does not decode");
      return;
    }
    benchmark::DoNotOptimize(verbs->codes.data());
    benchmark::DoNotOptimize(codes->values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_SegmentDecodeFilterColumns)->Arg(65536);

// Decoding the auditID column (UUIDs; stored with the uuid+zstd code): what a needle look-up
// reads of each segment its index names.
void BM_SegmentDecodeAuditIds(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const storage::EncodedSegment encoded = Encode(rows, 6);
  absl::StatusOr<storage::SegmentView> view = storage::SegmentView::Parse(encoded.segment);
  for (auto _ : state) {
    auto ids =
        view.ok() ? view->Strings(static_cast<uint32_t>(storage::Column::kAuditId)) : view.status();
    if (!ids.ok()) {
      state.SkipWithError("auditID column does not decode");
      return;
    }
    benchmark::DoNotOptimize(ids->dict.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_SegmentDecodeAuditIds)->Arg(65536);

// Rebuilding every row as an Event from decoded columns (whole-event output).
void BM_SegmentRowToEvent(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const storage::EncodedSegment encoded = Encode(rows, 6);
  absl::StatusOr<storage::SegmentView> view = storage::SegmentView::Parse(encoded.segment);
  absl::StatusOr<storage::DecodedRows> decoded =
      view.ok() ? storage::DecodeAllColumns(*view) : view.status();
  if (!decoded.ok()) {
    state.SkipWithError("segment does not decode");
    return;
  }
  size_t row = 0;
  for (auto _ : state) {
    absl::StatusOr<storage::Event> event = storage::RowToEvent(*decoded, row, "prod");
    if (!event.ok()) {
      state.SkipWithError("row does not rebuild");
      return;
    }
    benchmark::DoNotOptimize(event->audit_id.data());
    row = (row + 1) % rows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SegmentRowToEvent)->Arg(65536);

}  // namespace
}  // namespace kq::bench

BENCHMARK_MAIN();
