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

using storage::IsIntColumn;
using storage::IsListColumn;

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

  // Groups by codes: each batch's dictionary entries are translated once to stable ids (per key
  // column, over the whole query), so a row's key is a tuple of ints looked up in one map; key
  // values are built only when a group first appears.
  absl::Status ConsumeBatch(const storage::EventBatch& batch, const std::vector<uint32_t>& sel,
                            EvalContext& ctx) override {
    if (!coded_) return Stage::ConsumeBatch(batch, sel, ctx);
    const std::vector<CodedKey>& keys = *coded_;
    const size_t n = keys.size();
    BatchKeys bk;
    bk.strings.assign(n, nullptr);
    bk.ints.assign(n, nullptr);
    bk.ids.resize(n);
    for (size_t k = 0; k < n; ++k) {
      if (IsIntColumn(keys[k].column)) {
        bk.ints[k] = IntKey(batch, keys[k], sel, &binned_[k]);
        continue;
      }
      bk.strings[k] = &batch.Strings(keys[k].column);
      const std::vector<std::string_view>& dict = bk.strings[k]->dict;
      std::vector<int64_t>& ids = bk.ids[k];
      ids.resize(dict.size());
      for (size_t i = 0; i < dict.size(); ++i) {
        // absl::string_view: Debian's abseil has its own string_view type (heterogeneous look-up
        // without a std::string per entry).
        auto [it, inserted] = ids_[k].try_emplace(absl::string_view(dict[i].data(), dict[i].size()),
                                                  static_cast<int64_t>(ids_[k].size()));
        ids[i] = it->second;
      }
    }
    bool only_counts = true;
    for (const BoundAggregate& a : op_->aggregates) only_counts = only_counts && a.fn == Fn::kCount;
    if (only_counts && CountDense(keys, bk, sel)) return ctx.status;
    for (uint32_t r : sel) {
      CodeTuple tuple{};
      for (size_t k = 0; k < n; ++k) {
        if (bk.strings[k] != nullptr) {
          uint32_t code = bk.strings[k]->codes[r];
          tuple[k] = code == storage::kNullCode ? kAbsent : bk.ids[k][code];
        } else if (!bk.ints[k]->present[r]) {
          tuple[k] = kAbsent;
        } else {
          int64_t v = bk.ints[k]->values[r];
          tuple[k] = keys[k].bin > 0 ? FloorDiv(v, keys[k].bin) * keys[k].bin : v;
        }
      }
      size_t group = CodedGroup(tuple, keys, bk, [&](size_t k) { return bk.strings[k]->codes[r]; });
      if (only_counts) {
        for (Accumulator& acc : groups_[group].second) ++acc.count;
        continue;
      }
      ctx.SetRow(r);
      UpdateGroup(group, ctx);
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
    coded_index_.clear();
    for (auto& ids : ids_) ids.clear();
    return Stage::Finish();
  }

 private:
  // The key columns of one batch: strings[k] or ints[k] is set; ids[k][code] is the stable id of
  // string key k's dictionary entry `code`.
  struct BatchKeys {
    std::vector<const storage::StringColumn*> strings;
    std::vector<const storage::IntColumn*> ints;
    std::vector<std::vector<int64_t>> ids;
  };

  // The column of int key `key` for the rows of `sel`. For bin(time, span) the rows' bins come
  // from the rows where each bin starts (EventBatch::TimeLowerBound per bin edge, rows being in
  // time order), written into *binned for the rows of `sel`: the time column is not decoded.
  // That walks the edges from the batch's bucket start, so a batch that crosses more than
  // kMaxBinEdges of them (small spans) reads the time column instead.
  const storage::IntColumn* IntKey(const storage::EventBatch& batch, const CodedKey& key,
                                   const std::vector<uint32_t>& sel, storage::IntColumn* binned) {
    constexpr size_t kMaxBinEdges = 64;
    if (key.column != Column::kTime || key.bin <= 0) return &batch.Ints(key.column);
    const size_t rows = batch.num_rows();
    int64_t edge = FloorDiv(batch.bucket(), key.bin) * key.bin;
    if (batch.TimeLowerBound(edge) != 0) return &batch.Ints(key.column);  // rows before bucket
    bin_starts_.clear();
    bin_values_.clear();
    size_t edges = 0;
    for (size_t first = 0; first < rows; edge += key.bin) {
      if (++edges > kMaxBinEdges || edge > INT64_MAX - key.bin) return &batch.Ints(key.column);
      const size_t next = batch.TimeLowerBound(edge + key.bin);
      if (next > first) {
        bin_starts_.push_back(first);
        bin_values_.push_back(edge);
      }
      first = next;
    }
    if (binned->values.size() < rows) binned->values.resize(rows);
    binned->present.assign(rows, true);
    for (uint32_t r : sel) {
      auto bin = std::upper_bound(bin_starts_.begin(), bin_starts_.end(), r) - 1;
      binned->values[r] = bin_values_[static_cast<size_t>(bin - bin_starts_.begin())];
    }
    return binned;
  }

  // The group of a tuple of stable ids / int values; `code(k)` gives string key k's dictionary
  // code in the batch (only called when the group is new, to build its key values).
  template <typename CodeOf>
  size_t CodedGroup(const CodeTuple& tuple, const std::vector<CodedKey>& keys, const BatchKeys& bk,
                    CodeOf code) {
    auto [it, inserted] = coded_index_.try_emplace(tuple, 0);
    if (!inserted) return it->second;
    Row key;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (tuple[k] == kAbsent) {
        key.push_back(Value());
      } else if (bk.strings[k] != nullptr) {
        key.push_back(Value(std::string(bk.strings[k]->dict[code(k)])));
      } else if (keys[k].column == Column::kCode) {
        key.push_back(tuple[k]);
      } else {
        key.push_back(Datetime{tuple[k]});
      }
    }
    it->second = GroupOf(std::move(key));
    return it->second;
  }

  // count() only, over few distinct key tuples: counts rows in an array indexed by the keys'
  // codes (ints by their offset from the batch's smallest value, in bins), then adds each
  // touched cell to its group. The array is kept across batches and only its touched cells are
  // cleared. False (nothing done) when the array would be too large.
  bool CountDense(const std::vector<CodedKey>& keys, const BatchKeys& bk,
                  const std::vector<uint32_t>& sel) {
    constexpr size_t kMaxCells = 1 << 16;
    if (sel.size() < 256) return false;
    const size_t n = keys.size();
    std::array<size_t, kMaxCodedKeys> stride{}, card{};
    std::array<int64_t, kMaxCodedKeys> base{}, step{};
    size_t cells = 1;
    for (size_t k = 0; k < n; ++k) {
      step[k] = 1;
      if (bk.strings[k] != nullptr) {
        card[k] = bk.strings[k]->dict.size() + 1;  // the last slot: null
      } else {
        step[k] = keys[k].bin > 0 ? keys[k].bin : 1;
        const storage::IntColumn& col = *bk.ints[k];
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint32_t r : sel) {
          if (!col.present[r]) continue;
          lo = std::min(lo, col.values[r]);
          hi = std::max(hi, col.values[r]);
        }
        if (lo > hi) {
          lo = hi = 0;
        } else {
          lo = FloorDiv(lo, step[k]);  // floor division is monotonic
          hi = FloorDiv(hi, step[k]);
        }
        if (static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) >= kMaxCells) return false;
        base[k] = lo;
        card[k] = static_cast<size_t>(hi - lo) + 2;  // the last slot: absent
      }
      stride[k] = cells;
      cells *= card[k];
      if (cells > kMaxCells) return false;
    }
    if (counts_.size() < cells) counts_.resize(cells, 0);
    touched_.clear();
    uint32_t* counts = counts_.data();
    for (uint32_t r : sel) {
      size_t cell = 0;
      for (size_t k = 0; k < n; ++k) {
        size_t slot;
        if (bk.strings[k] != nullptr) {
          uint32_t code = bk.strings[k]->codes[r];
          slot = code == storage::kNullCode ? card[k] - 1 : code;
        } else if (!bk.ints[k]->present[r]) {
          slot = card[k] - 1;
        } else {
          slot = static_cast<size_t>(FloorDiv(bk.ints[k]->values[r], step[k]) - base[k]);
        }
        cell += slot * stride[k];
      }
      if (counts[cell]++ == 0) touched_.push_back(static_cast<uint32_t>(cell));
    }
    std::array<uint32_t, kMaxCodedKeys> slots{};
    for (uint32_t cell : touched_) {
      CodeTuple tuple{};
      for (size_t k = 0; k < n; ++k) {
        size_t slot = cell / stride[k] % card[k];
        slots[k] = static_cast<uint32_t>(slot);
        if (slot == card[k] - 1) {
          tuple[k] = kAbsent;
        } else if (bk.strings[k] != nullptr) {
          tuple[k] = bk.ids[k][slot];
        } else {
          tuple[k] = (base[k] + static_cast<int64_t>(slot)) * step[k];
        }
      }
      size_t group = CodedGroup(tuple, keys, bk, [&](size_t k) { return slots[k]; });
      for (Accumulator& acc : groups_[group].second) acc.count += counts[cell];
      counts[cell] = 0;
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
  // Coded path: per string key, the stable id of each value seen; group of each id tuple.
  std::array<absl::flat_hash_map<std::string, int64_t>, kMaxCodedKeys> ids_;
  absl::flat_hash_map<CodeTuple, size_t> coded_index_;
  std::vector<uint32_t> counts_;   // CountDense's cells, all zero between batches
  std::vector<uint32_t> touched_;  // CountDense's non-zero cells, in first-touch order
  // IntKey's bins of time keys: per key, the bin of each selected row; the first row and the
  // value of each bin of the batch.
  std::array<storage::IntColumn, kMaxCodedKeys> binned_;
  std::vector<size_t> bin_starts_;
  std::vector<int64_t> bin_values_;
  std::unordered_map<Row, size_t, RowHash> index_;
  std::vector<std::pair<Row, std::vector<Accumulator>>> groups_;
};

}  // namespace

std::unique_ptr<Stage> MakeSummarizeStage(const BoundOp* op) {
  return std::make_unique<SummarizeStage>(op);
}

}  // namespace kq::query
