#include "query/stages.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "query/catalog.h"
#include "query/value.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;

// Whole events as table rows: the default columns, `extra` empty slots, then _event.
Row MaterializeRow(EvalContext& ctx, size_t extra) {
  Row row;
  const auto& defaults = DefaultEventColumns();
  row.reserve(defaults.size() + extra + 1);
  for (const DefaultColumn& d : defaults) row.push_back(ColumnValue(*ctx.batch, d.column, ctx.row));
  row.resize(defaults.size() + extra);
  row.push_back(Json{EventJsonOf(ctx)});
  return row;
}

Row CurrentRow(EvalContext& ctx) {
  return ctx.table_row != nullptr ? *ctx.table_row : MaterializeRow(ctx, 0);
}

// Sort order: per key ascending or descending, nulls last either way.
bool KeysLess(const std::vector<Value>& a, const std::vector<Value>& b,
              const std::vector<bool>& descending) {
  for (size_t i = 0; i < a.size(); ++i) {
    bool an = IsNull(a[i]), bn = IsNull(b[i]);
    if (an || bn) {
      if (an != bn) return bn;
      continue;
    }
    int c = SortCompare(a[i], b[i]);
    if (c != 0) return descending[i] ? c > 0 : c < 0;
  }
  return false;
}

class SinkStage : public Stage {
 public:
  SinkStage(RowSink* sink, uint64_t max_rows, uint64_t* returned)
      : sink_(sink), max_rows_(max_rows), returned_(returned) {}
  absl::Status Consume(EvalContext& ctx) override {
    if (*returned_ >= max_rows_) {
      KQ_RETURN_IF_ERROR(Flush());
      return absl::ResourceExhaustedError(
          absl::StrCat("the query returns more than ", max_rows_,
                       " rows; narrow it with where, take or summarize"));
    }
    ++*returned_;
    if (ctx.owned_row != nullptr) {
      buffer_.push_back(std::move(*ctx.owned_row));
    } else {
      buffer_.push_back(*ctx.table_row);
    }
    if (buffer_.size() >= 1024) return Flush();
    return absl::OkStatus();
  }
  absl::Status Finish() override { return Flush(); }

 private:
  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    absl::Status s = sink_->OnRows(buffer_);
    buffer_.clear();
    return s;
  }
  RowSink* sink_;
  uint64_t max_rows_;
  uint64_t* returned_;
  std::vector<Row> buffer_;
};

class MaterializeStage : public Stage {
 public:
  explicit MaterializeStage(const BoundOp* op) : op_(op) {}
  absl::Status Consume(EvalContext& ctx) override {
    size_t extra = op_->output.columns.size() - DefaultEventColumns().size() - 1;
    Row row = MaterializeRow(ctx, extra);
    for (size_t i = 0; i < op_->extends.size(); ++i)
      row[op_->slots[i]] = Eval(op_->extends[i], ctx);
    return Emit(std::move(row));
  }

 private:
  const BoundOp* op_;
};

class FilterStage : public Stage {
 public:
  explicit FilterStage(const BoundOp* op) : op_(op) {}
  absl::Status Consume(EvalContext& ctx) override {
    if (!EvalBool(op_->predicate, ctx)) return absl::OkStatus();
    return Emit(*ctx.table_row);
  }

 private:
  const BoundOp* op_;
};

class ProjectStage : public Stage {
 public:
  explicit ProjectStage(const BoundOp* op) : op_(op) {}
  absl::Status Consume(EvalContext& ctx) override {
    Row row;
    row.reserve(op_->exprs.size());
    for (const BoundExpr& e : op_->exprs) row.push_back(Eval(e, ctx));
    return Emit(std::move(row));
  }

 private:
  const BoundOp* op_;
};

class TakeStage : public Stage {
 public:
  explicit TakeStage(uint64_t count) : count_(count) {}
  absl::Status Consume(EvalContext& ctx) override {
    if (taken_ >= count_) return absl::OkStatus();
    ++taken_;
    return Emit(CurrentRow(ctx));
  }
  bool Done() const override { return taken_ >= count_ || Stage::Done(); }

 private:
  uint64_t count_;
  uint64_t taken_ = 0;
};

class SortStage : public Stage {
 public:
  // count == 0 with `all`: sort everything; otherwise keep the best `count` rows.
  SortStage(const BoundOp* op, bool all) : op_(op), all_(all) {}

  absl::Status Consume(EvalContext& ctx) override {
    std::vector<Value> keys;
    keys.reserve(op_->sort_keys.size());
    for (const BoundExpr& k : op_->sort_keys) keys.push_back(Eval(k, ctx));
    if (!all_) {
      if (op_->count == 0) return absl::OkStatus();
      if (pruned_ && !KeysLess(keys, held_[op_->count - 1].first, op_->descending)) {
        return absl::OkStatus();
      }
    }
    held_.emplace_back(std::move(keys), CurrentRow(ctx));
    // Pruning once `count` rows are held lets the next rows be rejected by their keys alone,
    // before their values (whole events, say) are built.
    if (!all_ &&
        ((!pruned_ && held_.size() == op_->count) || held_.size() >= 2 * op_->count + 64)) {
      Prune();
    }
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    auto less = [&](const auto& a, const auto& b) {
      return KeysLess(a.first, b.first, op_->descending);
    };
    std::stable_sort(held_.begin(), held_.end(), less);
    size_t n = all_ ? held_.size() : std::min<size_t>(held_.size(), op_->count);
    for (size_t i = 0; i < n; ++i) KQ_RETURN_IF_ERROR(Emit(std::move(held_[i].second)));
    held_.clear();
    return Stage::Finish();
  }

  bool Done() const override { return (!all_ && op_->count == 0) || Stage::Done(); }

  std::optional<TimeMicros> TimeThreshold() const override {
    if (all_ || op_->sort_keys.size() != 1 || op_->count == 0) return std::nullopt;
    const BoundExpr& k = op_->sort_keys[0];
    if (k.kind != K::kBatchColumn || k.column != storage::Column::kTime) return std::nullopt;
    if (held_.size() < op_->count) return std::nullopt;
    auto* self = const_cast<SortStage*>(this);
    self->Prune();
    const auto* t = std::get_if<Datetime>(&held_[op_->count - 1].first[0]);
    if (t == nullptr) return std::nullopt;
    return t->micros;
  }

 private:
  // Keeps the best `count` rows, sorted, so held_[count-1] is the worst kept.
  void Prune() {
    auto less = [&](const auto& a, const auto& b) {
      return KeysLess(a.first, b.first, op_->descending);
    };
    std::stable_sort(held_.begin(), held_.end(), less);
    if (held_.size() > op_->count) held_.resize(op_->count);
    pruned_ = held_.size() == op_->count;
  }

  const BoundOp* op_;
  bool all_;
  bool pruned_ = false;
  std::vector<std::pair<std::vector<Value>, Row>> held_;
};

class DistinctStage : public Stage {
 public:
  explicit DistinctStage(const BoundOp* op) : op_(op) {}
  absl::Status Consume(EvalContext& ctx) override {
    Row row;
    for (const BoundExpr& e : op_->exprs) row.push_back(Eval(e, ctx));
    if (!seen_.insert(row).second) return absl::OkStatus();
    return Emit(std::move(row));
  }

 private:
  const BoundOp* op_;
  std::unordered_set<Row, RowHash> seen_;
};

class CountStage : public Stage {
 public:
  absl::Status Consume(EvalContext&) override {
    ++count_;
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    KQ_RETURN_IF_ERROR(Emit(Row{Value(count_)}));
    return Stage::Finish();
  }

 private:
  int64_t count_ = 0;
};

// The order of a request's stages; -1 for anything else (or a missing stage).
int StageRank(const Value& stage) {
  const auto* s = std::get_if<std::string>(&stage);
  if (s == nullptr) return -1;
  if (*s == "RequestReceived") return 0;
  if (*s == "ResponseStarted") return 1;
  if (*s == "ResponseComplete") return 2;
  if (*s == "Panic") return 3;
  return -1;
}

// One row per key. For whole events (op->sort_keys holds stage and stageTimestamp) the stages
// of a request are merged: the row of the latest stage (by StageRank, then the later
// stageTimestamp, then the row seen last), with `time` set to the earliest time of any of the
// rows and `code` to the code of the latest stage that has one. For other tables the last row
// seen wins.
class DedupStage : public Stage {
 public:
  explicit DedupStage(const BoundOp* op) : op_(op), merge_(op->sort_keys.size() == 2) {}
  absl::Status Consume(EvalContext& ctx) override {
    Row key;
    for (const BoundExpr& e : op_->exprs) key.push_back(Eval(e, ctx));
    auto [it, inserted] = index_.try_emplace(std::move(key), held_.size());
    const Row& row = *ctx.table_row;
    if (!merge_) {
      if (inserted) {
        held_.push_back(Held{row, {}, Value(), Value(), {}});
      } else {
        held_[it->second].row = row;
      }
      return absl::OkStatus();
    }
    StagePos stage{StageRank(Eval(op_->sort_keys[0], ctx)), Eval(op_->sort_keys[1], ctx)};
    Value time = op_->slots[0] >= 0 ? row[op_->slots[0]] : Value();
    Value code = op_->slots[1] >= 0 ? row[op_->slots[1]] : Value();
    if (inserted) {
      held_.push_back({row, stage, time, code, stage});
      return absl::OkStatus();
    }
    Held& h = held_[it->second];
    if (NotBefore(stage, h.stage)) {
      h.row = row;
      h.stage = stage;
    }
    if (!IsNull(time) && (IsNull(h.earliest) || SortCompare(time, h.earliest) < 0)) {
      h.earliest = std::move(time);
    }
    if (!IsNull(code) && (IsNull(h.code) || NotBefore(stage, h.code_stage))) {
      h.code = std::move(code);
      h.code_stage = stage;
    }
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    for (Held& h : held_) {
      if (merge_ && op_->slots[0] >= 0) h.row[op_->slots[0]] = std::move(h.earliest);
      if (merge_ && op_->slots[1] >= 0) h.row[op_->slots[1]] = std::move(h.code);
      KQ_RETURN_IF_ERROR(Emit(std::move(h.row)));
    }
    held_.clear();
    return Stage::Finish();
  }

 private:
  struct StagePos {
    int rank = -1;
    Value time;  // stageTimestamp
  };
  struct Held {
    Row row;
    StagePos stage;  // of `row`
    Value earliest;  // the earliest time of the merged rows
    Value code;      // the code of the latest stage that has one
    StagePos code_stage;
  };
  // Whether stage `a`, seen after `b`, is at least as late as `b`.
  static bool NotBefore(const StagePos& a, const StagePos& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    if (IsNull(a.time) || IsNull(b.time)) return true;
    return SortCompare(a.time, b.time) >= 0;
  }

  const BoundOp* op_;
  bool merge_;
  std::unordered_map<Row, size_t, RowHash> index_;
  std::vector<Held> held_;
};

}  // namespace

absl::Status Stage::ConsumeBatch(const storage::EventBatch&, const std::vector<uint32_t>& sel,
                                 EvalContext& ctx) {
  for (uint32_t r : sel) {
    ctx.SetRow(r);
    KQ_RETURN_IF_ERROR(Consume(ctx));
    if (Done()) break;
  }
  return absl::OkStatus();
}

absl::Status Stage::Finish() { return next_ != nullptr ? next_->Finish() : absl::OkStatus(); }

absl::Status Stage::Emit(Row row) {
  EvalContext ctx;
  ctx.now = now_;
  ctx.table_row = &row;
  ctx.owned_row = &row;
  return next_->Consume(ctx);
}

absl::StatusOr<std::vector<std::unique_ptr<Stage>>> BuildStages(
    const std::vector<const BoundOp*>& ops, TimeMicros now, RowSink* sink, uint64_t max_rows,
    uint64_t* rows_returned) {
  std::vector<std::unique_ptr<Stage>> stages;
  for (const BoundOp* op : ops) {
    switch (op->kind) {
      case BoundOp::Kind::kFilter:
        if (op->input_is_batch) return absl::InternalError("batch filter inside the pipeline");
        stages.push_back(std::make_unique<FilterStage>(op));
        break;
      case BoundOp::Kind::kMaterialize:
        stages.push_back(std::make_unique<MaterializeStage>(op));
        break;
      case BoundOp::Kind::kProject:
        stages.push_back(std::make_unique<ProjectStage>(op));
        break;
      case BoundOp::Kind::kSummarize:
        stages.push_back(MakeSummarizeStage(op));
        break;
      case BoundOp::Kind::kSort:
        stages.push_back(std::make_unique<SortStage>(op, true));
        break;
      case BoundOp::Kind::kTop:
        stages.push_back(std::make_unique<SortStage>(op, false));
        break;
      case BoundOp::Kind::kTake:
        stages.push_back(std::make_unique<TakeStage>(op->count));
        break;
      case BoundOp::Kind::kDistinct:
        stages.push_back(std::make_unique<DistinctStage>(op));
        break;
      case BoundOp::Kind::kCount:
        stages.push_back(std::make_unique<CountStage>());
        break;
      case BoundOp::Kind::kDedup:
        stages.push_back(std::make_unique<DedupStage>(op));
        break;
    }
  }
  stages.push_back(std::make_unique<SinkStage>(sink, max_rows, rows_returned));
  for (size_t i = 0; i < stages.size(); ++i) {
    stages[i]->now_ = now;
    if (i + 1 < stages.size()) stages[i]->set_next(stages[i + 1].get());
  }
  return stages;
}

}  // namespace kq::query
