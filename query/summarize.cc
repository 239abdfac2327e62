// summarize: groups rows by key values and computes aggregates per group.
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "query/stages.h"
#include "query/value.h"

namespace kq::query {
namespace {

// The running state of one aggregate in one group.
struct Accumulator {
  int64_t count = 0;
  int64_t sum_int = 0;
  double sum_double = 0;
  bool overflowed = false;
  Value best;                                // min, max, arg_max/arg_min's extreme
  std::vector<Value> extra;                  // arg_max/arg_min: the values that came with `best`
  std::vector<Value> values;                 // percentile; make_set (in first-seen order)
  std::unordered_set<Value, ValueHash> set;  // dcount, make_set
};

void Update(const BoundAggregate& agg, Accumulator& acc, EvalContext& ctx) {
  switch (agg.fn) {
    case Fn::kCount:
      ++acc.count;
      return;
    case Fn::kCountIf:
      acc.count += EvalBool(agg.args[0], ctx) ? 1 : 0;
      return;
    default:
      break;
  }
  Value v = Eval(agg.args[0], ctx);
  if (IsNull(v)) return;
  switch (agg.fn) {
    case Fn::kDcount:
      acc.set.insert(std::move(v));
      return;
    case Fn::kMin:
    case Fn::kMax: {
      if (IsNull(acc.best)) {
        acc.best = std::move(v);
        return;
      }
      int c = SortCompare(v, acc.best);
      if (agg.fn == Fn::kMin ? c < 0 : c > 0) acc.best = std::move(v);
      return;
    }
    case Fn::kSum:
    case Fn::kAvg: {
      ++acc.count;
      if (const auto* i = std::get_if<int64_t>(&v)) {
        if (__builtin_add_overflow(acc.sum_int, *i, &acc.sum_int)) acc.overflowed = true;
        acc.sum_double += static_cast<double>(*i);
      } else if (const auto* t = std::get_if<Timespan>(&v)) {
        if (__builtin_add_overflow(acc.sum_int, t->micros, &acc.sum_int)) acc.overflowed = true;
        acc.sum_double += static_cast<double>(t->micros);
      } else if (const auto* d = std::get_if<double>(&v)) {
        acc.sum_double += *d;
      }
      return;
    }
    case Fn::kPercentile:
      acc.values.push_back(std::move(v));
      return;
    case Fn::kMakeSet:
      if (acc.values.size() < agg.max_set && acc.set.insert(v).second) {
        acc.values.push_back(std::move(v));
      }
      return;
    case Fn::kArgMax:
    case Fn::kArgMin: {
      bool better = IsNull(acc.best);
      if (!better) {
        int c = SortCompare(v, acc.best);
        better = agg.fn == Fn::kArgMax ? c > 0 : c < 0;
      }
      if (!better) return;
      acc.best = std::move(v);
      acc.extra.clear();
      for (size_t i = 1; i < agg.args.size(); ++i) acc.extra.push_back(Eval(agg.args[i], ctx));
      return;
    }
    default:
      return;
  }
}

// Appends the aggregate's output column(s) to `row`; `type` is its first column's type.
void Result(const BoundAggregate& agg, Accumulator& acc, ValueType type, Row* row) {
  switch (agg.fn) {
    case Fn::kCount:
    case Fn::kCountIf:
      row->push_back(acc.count);
      return;
    case Fn::kDcount:
      row->push_back(static_cast<int64_t>(acc.set.size()));
      return;
    case Fn::kMin:
    case Fn::kMax:
      row->push_back(std::move(acc.best));
      return;
    case Fn::kSum:
      if (type == ValueType::kInt && !acc.overflowed) {
        row->push_back(acc.sum_int);
      } else if (type == ValueType::kTimespan && !acc.overflowed) {
        row->push_back(Timespan{acc.sum_int});
      } else {
        row->push_back(acc.sum_double);
      }
      return;
    case Fn::kAvg:
      if (acc.count == 0) {
        row->push_back(Value());
      } else if (type == ValueType::kTimespan) {
        row->push_back(Timespan{static_cast<int64_t>(acc.sum_double / acc.count)});
      } else {
        row->push_back(acc.sum_double / acc.count);
      }
      return;
    case Fn::kPercentile: {
      if (acc.values.empty()) return row->push_back(Value());
      std::sort(acc.values.begin(), acc.values.end(),
                [](const Value& a, const Value& b) { return SortCompare(a, b) < 0; });
      // Nearest rank: the smallest value with at least p% of the values at or below it.
      double rank = std::ceil(agg.percentile / 100.0 * acc.values.size());
      size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
      row->push_back(acc.values[std::min(index, acc.values.size() - 1)]);
      return;
    }
    case Fn::kMakeSet: {
      std::string out = "[";
      for (size_t i = 0; i < acc.values.size(); ++i) {
        if (i > 0) out += ',';
        out += ToJson(acc.values[i]);
      }
      row->push_back(Json{out + "]"});
      return;
    }
    case Fn::kArgMax:
    case Fn::kArgMin:
      row->push_back(std::move(acc.best));
      acc.extra.resize(agg.args.size() - 1);
      for (Value& v : acc.extra) row->push_back(std::move(v));
      return;
    default:
      row->push_back(Value());
  }
}

using storage::Column;

bool IsIntColumn(Column c) {
  return c == Column::kTime || c == Column::kStageTime || c == Column::kCode;
}
bool IsListColumn(Column c) { return c == Column::kGroups || c == Column::kSourceIps; }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// A group key that can be read from a batch without building values: a dictionary code, an
// int column, or bin() of a time column by a constant span.
struct CodedKey {
  Column column;
  int64_t bin = 0;  // > 0: bin(column, bin micros)
};

constexpr size_t kMaxCodedKeys = 4;
constexpr int64_t kAbsent = INT64_MIN;
using CodeTuple = std::array<int64_t, kMaxCodedKeys>;

std::optional<std::vector<CodedKey>> CodedKeys(const std::vector<BoundExpr>& keys) {
  if (keys.size() > kMaxCodedKeys) return std::nullopt;
  std::vector<CodedKey> out;
  for (const BoundExpr& k : keys) {
    if (k.kind == BoundExpr::Kind::kBatchColumn && !IsListColumn(k.column)) {
      out.push_back({k.column, 0});
      continue;
    }
    if (k.kind == BoundExpr::Kind::kCall && k.fn == Fn::kBin &&
        k.args[0].kind == BoundExpr::Kind::kBatchColumn &&
        (k.args[0].column == Column::kTime || k.args[0].column == Column::kStageTime) &&
        k.args[1].kind == BoundExpr::Kind::kConst) {
      const auto* span = std::get_if<Timespan>(&k.args[1].constant);
      if (span == nullptr || span->micros <= 0) return std::nullopt;
      out.push_back({k.args[0].column, span->micros});
      continue;
    }
    return std::nullopt;
  }
  return out;
}

class SummarizeStage : public Stage {
 public:
  explicit SummarizeStage(const BoundOp* op) : op_(op) {
    if (op->input_is_batch) coded_ = CodedKeys(op->exprs);
  }

  absl::Status Consume(EvalContext& ctx) override {
    Row key;
    key.reserve(op_->exprs.size());
    for (const BoundExpr& e : op_->exprs) key.push_back(Eval(e, ctx));
    UpdateGroup(GroupOf(std::move(key)), ctx);
    return absl::OkStatus();
  }

  // Groups by dictionary codes within the batch: the key values are built once per distinct
  // code tuple, not once per row.
  absl::Status ConsumeBatch(const storage::EventBatch& batch, const std::vector<uint32_t>& sel,
                            EvalContext& ctx) override {
    if (!coded_) return Stage::ConsumeBatch(batch, sel, ctx);
    const std::vector<CodedKey>& keys = *coded_;
    std::vector<const storage::StringColumn*> strings(keys.size(), nullptr);
    std::vector<const storage::IntColumn*> ints(keys.size(), nullptr);
    for (size_t k = 0; k < keys.size(); ++k) {
      if (IsIntColumn(keys[k].column)) {
        ints[k] = &batch.Ints(keys[k].column);
      } else {
        strings[k] = &batch.Strings(keys[k].column);
      }
    }
    bool only_counts = true;
    for (const BoundAggregate& a : op_->aggregates) only_counts = only_counts && a.fn == Fn::kCount;
    if (only_counts && CountDense(keys, strings, ints, sel)) return ctx.status;
    absl::flat_hash_map<CodeTuple, size_t> local;
    for (uint32_t r : sel) {
      CodeTuple tuple{};
      for (size_t k = 0; k < keys.size(); ++k) {
        if (strings[k] != nullptr) {
          tuple[k] = strings[k]->codes[r];
        } else if (!ints[k]->present[r]) {
          tuple[k] = kAbsent;
        } else {
          int64_t v = ints[k]->values[r];
          tuple[k] = keys[k].bin > 0 ? FloorDiv(v, keys[k].bin) * keys[k].bin : v;
        }
      }
      auto [it, inserted] = local.try_emplace(tuple, 0);
      if (inserted) {
        Row key;
        for (size_t k = 0; k < keys.size(); ++k) {
          if (strings[k] != nullptr) {
            uint32_t code = static_cast<uint32_t>(tuple[k]);
            key.push_back(code == storage::kNullCode ? Value() : Value(strings[k]->dict[code]));
          } else if (tuple[k] == kAbsent) {
            key.push_back(Value());
          } else if (keys[k].column == Column::kCode) {
            key.push_back(tuple[k]);
          } else {
            key.push_back(Datetime{tuple[k]});
          }
        }
        it->second = GroupOf(std::move(key));
      }
      if (only_counts) {
        for (Accumulator& acc : groups_[it->second].second) ++acc.count;
        continue;
      }
      ctx.SetRow(r);
      UpdateGroup(it->second, ctx);
    }
    return ctx.status;
  }

  absl::Status Finish() override {
    if (groups_.empty() && op_->exprs.empty()) {
      groups_.emplace_back(Row(), std::vector<Accumulator>(op_->aggregates.size()));
    }
    for (auto& [key, accs] : groups_) {
      Row row = key;
      for (size_t i = 0; i < op_->aggregates.size(); ++i) {
        ValueType type = op_->output.columns[row.size()].type;
        Result(op_->aggregates[i], accs[i], type, &row);
      }
      KQ_RETURN_IF_ERROR(Emit(std::move(row)));
    }
    groups_.clear();
    index_.clear();
    return Stage::Finish();
  }

 private:
  // count() only, over few distinct key tuples: counts rows in a dense array indexed by the
  // keys' codes (ints by their offset from the batch's smallest value, in bins), then adds
  // each non-zero cell to its group. False (nothing done) when the array would be too large.
  bool CountDense(const std::vector<CodedKey>& keys,
                  const std::vector<const storage::StringColumn*>& strings,
                  const std::vector<const storage::IntColumn*>& ints,
                  const std::vector<uint32_t>& sel) {
    constexpr size_t kMaxCells = 1 << 16;
    if (sel.size() < 256) return false;
    const size_t n = keys.size();
    std::vector<size_t> stride(n), card(n);
    std::vector<int64_t> base(n, 0), step(n, 1);
    size_t cells = 1;
    for (size_t k = 0; k < n; ++k) {
      if (strings[k] != nullptr) {
        card[k] = strings[k]->dict.size() + 1;  // the last slot: null
      } else {
        step[k] = keys[k].bin > 0 ? keys[k].bin : 1;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint32_t r : sel) {
          if (!ints[k]->present[r]) continue;
          lo = std::min(lo, FloorDiv(ints[k]->values[r], step[k]));
          hi = std::max(hi, FloorDiv(ints[k]->values[r], step[k]));
        }
        if (lo > hi) lo = hi = 0;
        if (static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) >= kMaxCells) return false;
        base[k] = lo;
        card[k] = static_cast<size_t>(hi - lo) + 2;  // the last slot: absent
      }
      stride[k] = cells;
      cells *= card[k];
      if (cells > kMaxCells) return false;
    }
    std::vector<uint32_t> counts(cells, 0);
    for (uint32_t r : sel) {
      size_t cell = 0;
      for (size_t k = 0; k < n; ++k) {
        size_t slot;
        if (strings[k] != nullptr) {
          uint32_t code = strings[k]->codes[r];
          slot = code == storage::kNullCode ? card[k] - 1 : code;
        } else if (!ints[k]->present[r]) {
          slot = card[k] - 1;
        } else {
          slot = static_cast<size_t>(FloorDiv(ints[k]->values[r], step[k]) - base[k]);
        }
        cell += slot * stride[k];
      }
      ++counts[cell];
    }
    for (size_t cell = 0; cell < cells; ++cell) {
      if (counts[cell] == 0) continue;
      Row key;
      for (size_t k = 0; k < n; ++k) {
        size_t slot = cell / stride[k] % card[k];
        if (slot == card[k] - 1) {
          key.push_back(Value());
        } else if (strings[k] != nullptr) {
          key.push_back(Value(strings[k]->dict[slot]));
        } else if (keys[k].column == Column::kCode) {
          key.push_back(base[k] + static_cast<int64_t>(slot));
        } else {
          key.push_back(Datetime{(base[k] + static_cast<int64_t>(slot)) * step[k]});
        }
      }
      for (Accumulator& acc : groups_[GroupOf(std::move(key))].second) acc.count += counts[cell];
    }
    return true;
  }

  size_t GroupOf(Row key) {
    auto [it, inserted] = index_.try_emplace(std::move(key), groups_.size());
    if (inserted) groups_.emplace_back(it->first, std::vector<Accumulator>(op_->aggregates.size()));
    return it->second;
  }

  void UpdateGroup(size_t group, EvalContext& ctx) {
    std::vector<Accumulator>& accs = groups_[group].second;
    for (size_t i = 0; i < op_->aggregates.size(); ++i) Update(op_->aggregates[i], accs[i], ctx);
  }

  const BoundOp* op_;
  std::optional<std::vector<CodedKey>> coded_;
  std::unordered_map<Row, size_t, RowHash> index_;
  std::vector<std::pair<Row, std::vector<Accumulator>>> groups_;
};

}  // namespace

std::unique_ptr<Stage> MakeSummarizeStage(const BoundOp* op) {
  return std::make_unique<SummarizeStage>(op);
}

}  // namespace kq::query
