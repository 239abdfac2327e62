#include "query/engine.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "query/binder.h"
#include "query/filter.h"
#include "query/parser.h"
#include "query/planner.h"
#include "query/stages.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;

// A query parsed, bound, folded and planned: everything decided before data is read.
struct Prepared {
  Query ast;
  BoundQuery bound;
  TimeMicros now = 0;
  std::vector<const BoundExpr*> filters;  // leading where predicates, run vectorized
  std::vector<const BoundOp*> rest;       // the operators after them
  ScanPlan plan;
  // Top-N by time right after the filters: scan in that order and stop early.
  bool top_by_time = false;
  bool top_descending = false;
};

absl::StatusOr<std::unique_ptr<Prepared>> Prepare(std::string_view text,
                                                  const QueryOptions& options) {
  auto p = std::make_unique<Prepared>();
  KQ_ASSIGN_OR_RETURN(p->ast, Parse(text));
  KQ_ASSIGN_OR_RETURN(p->bound, Bind(p->ast, text, options.default_env));
  p->now = options.clock->Now();
  for (BoundOp& op : p->bound.ops) {
    FoldConstants(&op.predicate, p->now);
    for (auto* list : {&op.exprs, &op.sort_keys, &op.extends}) {
      for (BoundExpr& e : *list) FoldConstants(&e, p->now);
    }
    for (BoundAggregate& a : op.aggregates) {
      for (BoundExpr& e : a.args) FoldConstants(&e, p->now);
    }
  }
  size_t i = 0;
  for (; i < p->bound.ops.size(); ++i) {
    const BoundOp& op = p->bound.ops[i];
    if (op.kind != BoundOp::Kind::kFilter || !op.input_is_batch) break;
    p->filters.push_back(&op.predicate);
  }
  for (; i < p->bound.ops.size(); ++i) p->rest.push_back(&p->bound.ops[i]);
  p->plan = PlanScan(p->filters);
  // What every batch is read for: the filters' columns, then a batch summarize's key columns
  // (not bin(time, ...): its bins come from TimeLowerBound, without the time column).
  for (const BoundExpr* f : p->filters) AddColumnsRead(*f, &p->plan.range.decode_ahead);
  if (!p->rest.empty() && p->rest[0]->kind == BoundOp::Kind::kSummarize &&
      p->rest[0]->input_is_batch) {
    for (const BoundExpr& key : p->rest[0]->exprs) {
      if (key.kind == K::kBatchColumn) AddColumnsRead(key, &p->plan.range.decode_ahead);
    }
  }
  // Look-ups hand out batches in index order, not time order: no early stop for them.
  bool lookup = p->plan.audit_id.has_value() || p->plan.name.has_value();
  if (!lookup && !p->rest.empty() && p->rest[0]->kind == BoundOp::Kind::kTop &&
      p->rest[0]->sort_keys.size() == 1) {
    const BoundExpr& k = p->rest[0]->sort_keys[0];
    if (k.kind == K::kBatchColumn && k.column == storage::Column::kTime) {
      p->top_by_time = true;
      p->top_descending = p->rest[0]->descending[0];
      p->plan.range.newest_first = p->top_descending;
    }
  }
  return p;
}

absl::Status CheckLimits(const QueryOptions& options) {
  if (options.cancelled != nullptr && options.cancelled->load(std::memory_order_relaxed)) {
    return absl::CancelledError("query cancelled");
  }
  if (options.deadline != INT64_MAX && options.clock->Now() > options.deadline) {
    return absl::DeadlineExceededError("query ran past its deadline");
  }
  return absl::OkStatus();
}

absl::Status RunScan(storage::Reader& reader, const ScanPlan& plan,
                     const storage::BatchCallback& fn, storage::ScanStats* stats) {
  if (plan.empty) return absl::OkStatus();
  if (plan.audit_id) return reader.LookupAuditId(*plan.audit_id, fn, stats);
  if (plan.name) return reader.LookupName(*plan.name, plan.range, fn, stats);
  return reader.Scan(plan.range, fn, stats);
}

std::string OpName(const BoundOp& op) {
  switch (op.kind) {
    case BoundOp::Kind::kFilter:
      return "where";
    case BoundOp::Kind::kMaterialize:
      return "whole events";
    case BoundOp::Kind::kProject:
      return "project";
    case BoundOp::Kind::kSummarize:
      return "summarize";
    case BoundOp::Kind::kSort:
      return "sort";
    case BoundOp::Kind::kTake:
      return absl::StrCat("take ", op.count);
    case BoundOp::Kind::kTop:
      return absl::StrCat("top ", op.count);
    case BoundOp::Kind::kDistinct:
      return "distinct";
    case BoundOp::Kind::kCount:
      return "count";
    case BoundOp::Kind::kDedup:
      return "dedup";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<storage::Reader>> OpenSource(ReaderFactory& readers,
                                                            const BoundQuery& q) {
  return q.archive ? readers.OpenArchive(q.env) : readers.Open(q.env);
}

}  // namespace

absl::StatusOr<std::unique_ptr<storage::Reader>> ReaderFactory::OpenArchive(std::string_view env) {
  return absl::UnimplementedError(
      absl::StrCat("archive(\"", Sv(env),
                   "\"): archive queries are not available here (kqd and kq --data serve them)"));
}

absl::Status RunQuery(ReaderFactory& readers, std::string_view text, const QueryOptions& options,
                      RowSink& sink, QueryStats* stats) {
  TimeMicros start = options.clock->Now();
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<Prepared> p, Prepare(text, options));
  KQ_RETURN_IF_ERROR(CheckLimits(options));
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Reader> reader, OpenSource(readers, p->bound));

  KQ_RETURN_IF_ERROR(sink.OnSchema(p->bound.output.columns));
  QueryStats local;
  QueryStats& st = stats != nullptr ? *stats : local;
  st = QueryStats();
  KQ_ASSIGN_OR_RETURN(auto stages,
                      BuildStages(p->rest, p->now, &sink, options.max_rows, &st.rows_returned));
  Stage& head = *stages.front();

  std::vector<BatchFilter> filters;
  for (const BoundExpr* f : p->filters) filters.emplace_back(f);
  EvalContext ctx;
  ctx.now = p->now;
  std::vector<uint32_t> sel;
  std::optional<TimeMicros> prev_bucket;
  storage::BatchCallback fn = [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
    KQ_RETURN_IF_ERROR(CheckLimits(options));
    if (p->top_by_time && prev_bucket && batch.bucket() != *prev_bucket) {
      if (std::optional<TimeMicros> worst = head.TimeThreshold()) {
        // Batches come bucket by bucket in scan order: nothing later can beat what is kept.
        bool stop = p->top_descending ? *worst >= *prev_bucket : *worst < batch.bucket();
        if (stop) return false;
      }
    }
    prev_bucket = batch.bucket();
    st.rows_scanned += batch.num_rows();
    ctx.NewBatch(&batch);
    sel.resize(batch.num_rows());
    std::iota(sel.begin(), sel.end(), 0);
    for (BatchFilter& f : filters) {
      KQ_RETURN_IF_ERROR(f.Apply(batch, ctx, &sel));
      if (sel.empty()) break;
    }
    if (p->top_by_time && p->top_descending) std::reverse(sel.begin(), sel.end());
    KQ_RETURN_IF_ERROR(head.ConsumeBatch(batch, sel, ctx));
    KQ_RETURN_IF_ERROR(ctx.status);
    return !head.Done();
  };
  storage::ScanStats scan_stats;
  if (!head.Done()) KQ_RETURN_IF_ERROR(RunScan(*reader, p->plan, fn, &scan_stats));
  KQ_RETURN_IF_ERROR(CheckLimits(options));
  KQ_RETURN_IF_ERROR(head.Finish());
  st.segments_total = scan_stats.segments_total;
  st.segments_pruned = scan_stats.segments_pruned;
  st.segments_read = scan_stats.segments_read;
  st.bytes_read = scan_stats.bytes_read;
  st.elapsed = options.clock->Now() - start;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Explain(ReaderFactory& readers, std::string_view text,
                                    const QueryOptions& options) {
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<Prepared> p, Prepare(text, options));
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Reader> reader, OpenSource(readers, p->bound));
  std::string out = absl::StrCat("query: ", ToString(p->ast), "\n");
  absl::StrAppend(&out, "environment: ", p->bound.env, p->bound.archive ? " (archive)" : "", "\n");
  absl::StrAppend(&out, DescribeScan(p->plan));
  size_t step = 1;
  for (const Operator& op : p->ast.ops) {
    if (!std::holds_alternative<Where>(op.node)) break;
    absl::StrAppend(&out, step++,
                    ". where (on column batches): ", ToString(*std::get<Where>(op.node).predicate),
                    "\n");
  }
  for (const BoundOp* op : p->rest) {
    std::vector<std::string> names;
    for (const ColumnInfo& c : op->output.columns) names.push_back(c.name);
    absl::StrAppend(&out, step++, ". ", OpName(*op),
                    op->input_is_batch ? " (on column batches)" : "", " -> ",
                    absl::StrJoin(names, ", "), "\n");
  }
  if (p->top_by_time) absl::StrAppend(&out, "early stop: top-N by time, scanning in time order\n");
  storage::ScanStats stats;
  storage::BatchCallback count = [&](const storage::EventBatch&) -> absl::StatusOr<bool> {
    KQ_RETURN_IF_ERROR(CheckLimits(options));
    return true;
  };
  KQ_RETURN_IF_ERROR(RunScan(*reader, p->plan, count, &stats));
  if (p->bound.archive) {
    absl::StrAppend(&out, "archive parts: ", stats.segments_total, " listed, ",
                    stats.segments_pruned, " pruned by date, namespace and time range, ",
                    stats.segments_read, " read\n");
  } else {
    absl::StrAppend(&out, "segments: ", stats.segments_total, " in range, ", stats.segments_pruned,
                    " pruned by summaries, ", stats.segments_read, " read\n");
  }
  return out;
}

}  // namespace kq::query
