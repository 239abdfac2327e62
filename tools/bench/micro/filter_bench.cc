// The vectorized filter (query/filter.h) on the batches of a real store of kq gen traffic:
//
//   build/bin/kq_filter_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only]
//
// KQ_BENCH_EVENTS sets the store size (default 200,000 events). Each iteration scans every
// segment; per batch the filter runs once untimed (so the batch decodes the columns it needs)
// and then three times timed: the figure is the filter executor alone, per row of input.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "query/binder.h"
#include "query/eval.h"
#include "query/filter.h"
#include "query/parser.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"
#include "tools/bench/micro/micro_corpus.h"

namespace kq::bench {
namespace {

struct FilterStore {
  testing::TempDir dir;
  std::unique_ptr<storage::Store> store;
  TimeMicros now = 0;
};

FilterStore& GetStore() {
  static FilterStore* fs = [] {
    auto* s = new FilterStore;
    const char* env = std::getenv("KQ_BENCH_EVENTS");
    const MicroCorpus& corpus = GetMicroCorpus(env ? std::strtoull(env, nullptr, 10) : 200'000);
    storage::StoreOptions options;
    options.data_dir = s->dir.path().string();
    options.durability = storage::Durability::kBuffered;
    s->store = std::move(storage::Store::Open(options)).value();
    storage::Environment* prod = s->store->Find("prod");
    constexpr size_t kBatch = 10000;
    for (size_t i = 0; i < corpus.events.size(); i += kBatch) {
      size_t n = std::min(kBatch, corpus.events.size() - i);
      storage::AppendResult result;
      if (!prod->Append(std::span(corpus.events).subspan(i, n), &result).ok()) std::abort();
    }
    if (!prod->Flush().ok()) std::abort();
    for (const storage::Event& e : corpus.events) {
      s->now = std::max(s->now, e.request_received_time);
    }
    return s;
  }();
  return *fs;
}

void RunFilter(benchmark::State& state, const std::string& where) {
  FilterStore& fs = GetStore();
  const std::string text = "events | where " + where;
  absl::StatusOr<query::Query> ast = query::Parse(text);
  absl::StatusOr<query::BoundQuery> bound =
      ast.ok() ? query::Bind(*ast, text, "prod") : ast.status();
  if (!bound.ok()) {
    state.SkipWithError(std::string(bound.status().message()).c_str());
    return;
  }
  query::BoundExpr& predicate = bound->ops.front().predicate;
  query::FoldConstants(&predicate, fs.now);
  query::BatchFilter filter(&predicate);
  query::EvalContext ctx;
  ctx.now = fs.now;
  std::vector<uint32_t> sel;
  uint64_t rows = 0, kept = 0;
  constexpr int kTimedRuns = 3;
  for (auto _ : state) {
    std::chrono::nanoseconds spent{0};
    rows = kept = 0;
    std::unique_ptr<storage::Reader> reader = fs.store->Find("prod")->NewReader();
    auto fn = [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
      ctx.NewBatch(&batch);
      auto run = [&]() -> absl::Status {
        sel.resize(batch.num_rows());
        std::iota(sel.begin(), sel.end(), 0);
        return filter.Apply(batch, ctx, &sel);
      };
      if (absl::Status s = run(); !s.ok()) return s;
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kTimedRuns; ++i) {
        if (absl::Status s = run(); !s.ok()) return s;
      }
      spent += std::chrono::steady_clock::now() - start;
      rows += batch.num_rows();
      kept += sel.size();
      return true;
    };
    storage::ScanStats stats;
    if (absl::Status s = reader->Scan(storage::ScanRange{}, fn, &stats); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    state.SetIterationTime(std::chrono::duration<double>(spent).count() / kTimedRuns);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["kept"] = static_cast<double>(kept);
}

void BM_FilterDictionaryEquality(benchmark::State& state) {
  RunFilter(state, R"(verb == "get" and resource == "pods")");
}
void BM_FilterStringPrefix(benchmark::State& state) {
  RunFilter(state, R"(user startswith "system:serviceaccount:")");
}
void BM_FilterIntRange(benchmark::State& state) { RunFilter(state, "code >= 400 and code < 500"); }
void BM_FilterListAnyMatch(benchmark::State& state) {
  RunFilter(state, R"(user.groups[*] == "system:serviceaccounts")");
}
void BM_FilterRegex(benchmark::State& state) {
  RunFilter(state, R"(userAgent matches regex "^kubectl/v1\\.2[0-9]")");
}
void BM_FilterBodyPrivileged(benchmark::State& state) {
  RunFilter(state, R"(verb == "create" and resource == "pods" and )"
                   R"(requestObject.spec.containers[*].securityContext.privileged == true)");
}
BENCHMARK(BM_FilterDictionaryEquality)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterStringPrefix)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterIntRange)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterListAnyMatch)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterRegex)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterBodyPrivileged)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kq::bench

BENCHMARK_MAIN();
