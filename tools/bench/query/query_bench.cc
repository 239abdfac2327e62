// Query engine benchmarks on kq gen traffic in a real Store (sealed segments).
//
//   build/bin/kq_query_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only]
//
// KQ_BENCH_EVENTS sets the corpus size (default 1,000,000 events; generating and importing it
// takes a while and is not timed). Each benchmark runs one query end to end through RunQuery:
// parse, bind, plan, scan with pruning, vectorized filter, operators, rows into a sink. "Time"
// is wall-clock time (what a user waits); "CPU" is the whole process's, the scan's
// decode-ahead thread included (ScanRange::decode_ahead).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "common/log.h"
#include "query/binder.h"
#include "query/engine.h"
#include "query/filter.h"
#include "query/parser.h"
#include "query/planner.h"
#include "query/store_readers.h"
#include "storage/decoder.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"
#include "tools/gen/generator.h"

namespace kq::query {
namespace {

class CountingSink : public RowSink {
 public:
  absl::Status OnSchema(const std::vector<ColumnInfo>&) override { return absl::OkStatus(); }
  absl::Status OnRows(std::span<const Row> rows) override {
    if (rows_ == 0 && !rows.empty() && !rows[0].empty()) {
      if (const auto* i = std::get_if<int64_t>(&rows[0][0])) first_int_ = *i;
    }
    rows_ += rows.size();
    return absl::OkStatus();
  }
  uint64_t rows_ = 0;
  int64_t first_int_ = -1;  // the first cell when it is an int (a count), to cross-check peers
};

struct Corpus {
  testing::TempDir dir;
  std::unique_ptr<FakeClock> clock;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<StoreReaders> readers;
  std::string some_audit_id;
  uint64_t events = 0;
};

Corpus& GetCorpus() {
  static Corpus* corpus = [] {
    auto* c = new Corpus;
    const char* env = std::getenv("KQ_BENCH_EVENTS");
    gen::GenOptions options;
    options.events = env ? std::strtoull(env, nullptr, 10) : 1'000'000;
    c->clock = std::make_unique<FakeClock>(options.start);
    storage::StoreOptions so;
    so.data_dir = c->dir.path().string();
    so.durability = storage::Durability::kBuffered;
    so.clock = c->clock.get();
    c->store = std::move(storage::Store::Open(so)).value();
    storage::Environment* prod = c->store->Find("prod");
    gen::Generator generator(options);
    storage::Decoder decoder;
    std::string json;
    std::vector<storage::Event> batch;
    TimeMicros last = options.start;
    auto flush = [&] {
      storage::AppendResult result;
      if (!prod->Append(batch, &result).ok()) std::abort();
      batch.clear();
    };
    while (true) {
      json.clear();
      if (!generator.Next(&json)) break;
      storage::Event e;
      if (!decoder.DecodeEvent(json, &e).ok()) continue;
      if (c->events == options.events / 2) c->some_audit_id = e.audit_id;
      last = std::max(last, e.request_received_time);
      batch.push_back(std::move(e));
      ++c->events;
      if (batch.size() == 10000) flush();
    }
    flush();
    if (!prod->Flush().ok()) std::abort();
    c->clock->Set(last + kMicrosPerMinute);
    c->readers = std::make_unique<StoreReaders>(c->store.get());
    return c;
  }();
  return *corpus;
}

void RunOne(benchmark::State& state, const std::string& query) {
  Corpus& c = GetCorpus();
  QueryOptions options;
  options.clock = c.clock.get();
  uint64_t rows = 0, scanned = 0, bytes = 0;
  int64_t first = -1;
  for (auto _ : state) {
    CountingSink sink;
    QueryStats stats;
    absl::Status s = RunQuery(*c.readers, query, options, sink, &stats);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    rows = sink.rows_;
    first = sink.first_int_;
    scanned = stats.rows_scanned;
    bytes = stats.bytes_read;
  }
  state.counters["rows"] = static_cast<double>(rows);
  if (first >= 0) state.counters["result"] = static_cast<double>(first);
  state.counters["scanned"] = static_cast<double>(scanned);
  state.counters["bytes_read"] = static_cast<double>(bytes);
  state.counters["events"] = static_cast<double>(c.events);
  state.SetItemsProcessed(static_cast<int64_t>(scanned) * state.iterations());
}

// The front end alone: parse, bind, fold constants and plan (no reader is opened).
void BM_ParseBindPlan(benchmark::State& state) {
  const std::string query =
      "events | where time > ago(1d) and ns == \"payments\" and verb in (\"delete\", "
      "\"deletecollection\") and user !startswith \"system:\" | summarize n = count() by "
      "user, bin(time, 5m) | top 10 by n desc";
  for (auto _ : state) {
    absl::StatusOr<Query> ast = Parse(query);
    absl::StatusOr<BoundQuery> bound = Bind(*ast, query, "prod");
    FoldConstants(&bound->ops[0].predicate, kMicrosPerDay);
    ScanPlan plan = PlanScan({&bound->ops[0].predicate});
    benchmark::DoNotOptimize(plan);
  }
}

void BM_NeedleAuditId(benchmark::State& state) {
  RunOne(state, "events | where auditID == \"" + GetCorpus().some_audit_id + "\"");
}
void BM_DeletesInNamespaceLastDay(benchmark::State& state) {
  RunOne(state,
         "events | where time > ago(1d) and ns == \"payments\" and verb == \"delete\" | project "
         "time, user, resource, name");
}
void BM_FilterDictionaryEquality(benchmark::State& state) {
  RunOne(state, "events | where verb == \"delete\" and resource == \"secrets\" | count");
}
void BM_FilterStringPrefix(benchmark::State& state) {
  RunOne(state, "events | where user startswith \"system:serviceaccount:\" | count");
}
void BM_FilterIntRange(benchmark::State& state) {
  RunOne(state, "events | where code >= 400 and code < 500 | count");
}
void BM_FilterBodyPrivileged(benchmark::State& state) {
  RunOne(state,
         "events | where verb == \"create\" and resource == \"pods\" and "
         "requestObject.spec.containers[*].securityContext.privileged == true | count");
}
void BM_SummarizeVerbUser(benchmark::State& state) {
  RunOne(state, "events | summarize count() by verb, user");
}
void BM_ErrorsBy5m(benchmark::State& state) {
  RunOne(state, "events | where code >= 400 | summarize count() by bin(time, 5m)");
}
void BM_Latest100InNamespace(benchmark::State& state) {
  RunOne(state, "events | where ns == \"payments\" | sort by time desc | take 100");
}

BENCHMARK(BM_ParseBindPlan)->Unit(benchmark::kMicrosecond);
// A whole query: wall time (what a user waits), the process's CPU beside it.
#define KQ_QUERY_BENCHMARK(fn) \
  BENCHMARK(fn)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()
KQ_QUERY_BENCHMARK(BM_NeedleAuditId);
KQ_QUERY_BENCHMARK(BM_DeletesInNamespaceLastDay);
KQ_QUERY_BENCHMARK(BM_FilterDictionaryEquality);
KQ_QUERY_BENCHMARK(BM_FilterStringPrefix);
KQ_QUERY_BENCHMARK(BM_FilterIntRange);
KQ_QUERY_BENCHMARK(BM_FilterBodyPrivileged);
KQ_QUERY_BENCHMARK(BM_SummarizeVerbUser);
KQ_QUERY_BENCHMARK(BM_ErrorsBy5m);
KQ_QUERY_BENCHMARK(BM_Latest100InNamespace);

}  // namespace
}  // namespace kq::query

BENCHMARK_MAIN();
