#include "query/filter.h"

#include <algorithm>

#include "query/binder.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;
using storage::Column;

using storage::IsIntColumn;
using storage::IsListColumn;

// Collects the batch columns a leaf reads; false if it reads anything else (JSON, elements).
bool CollectColumns(const BoundExpr& e, std::vector<const BoundExpr*>* refs) {
  switch (e.kind) {
    case K::kBatchColumn:
      refs->push_back(&e);
      return true;
    case K::kEventPath:
    case K::kBodyPath:
    case K::kTableColumn:
    case K::kElement:
    case K::kAny:
      return false;
    default:
      for (const BoundExpr& a : e.args) {
        if (!CollectColumns(a, refs)) return false;
      }
      return true;
  }
}

bool IsBoolNode(const BoundExpr& e) {
  return (e.kind == K::kBinary && (e.op == BinaryOp::kAnd || e.op == BinaryOp::kOr)) ||
         e.kind == K::kNot;
}

// Rows of `all` not in `part` (both ascending).
std::vector<uint32_t> Minus(const std::vector<uint32_t>& all, const std::vector<uint32_t>& part) {
  std::vector<uint32_t> out;
  std::set_difference(all.begin(), all.end(), part.begin(), part.end(), std::back_inserter(out));
  return out;
}

// Keeps the rows of `sel` whose value is present and passes `keep`, without branches on it. A
// dictionary-coded column is judged once per dictionary value, then by one byte per row.
template <typename F>
void KeepInts(const storage::IntColumn& ints, std::vector<uint32_t>* sel, F keep) {
  uint32_t* rows = sel->data();
  size_t out = 0;
  if (!ints.codes.empty()) {
    uint8_t verdict[256] = {};  // code 0 (null) and codes past the dictionary: not kept
    for (size_t k = 0; k < ints.dict.size() && k < 255; ++k) verdict[k + 1] = keep(ints.dict[k]);
    const uint8_t* codes = ints.codes.data();
    for (size_t i = 0, n = sel->size(); i < n; ++i) {
      uint32_t r = rows[i];
      rows[out] = r;
      out += verdict[codes[r]];
    }
    sel->resize(out);
    return;
  }
  const int64_t* values = ints.values.data();
  for (size_t i = 0, n = sel->size(); i < n; ++i) {
    uint32_t r = rows[i];
    rows[out] = r;
    out += static_cast<size_t>(keep(values[r])) & ints.present[r];
  }
  sel->resize(out);
}

// A comparison of an int column with a constant of the column's kind, as a plain loop.
bool IntCompareLeaf(const BoundExpr& e, const storage::EventBatch& batch,
                    std::vector<uint32_t>* sel) {
  if (e.kind != K::kBinary || e.op < BinaryOp::kEq || e.op > BinaryOp::kGe) return false;
  const BoundExpr* col = &e.args[0];
  const BoundExpr* val = &e.args[1];
  BinaryOp op = e.op;
  if (col->kind != K::kBatchColumn) {
    std::swap(col, val);
    switch (op) {
      case BinaryOp::kLt:
        op = BinaryOp::kGt;
        break;
      case BinaryOp::kLe:
        op = BinaryOp::kGe;
        break;
      case BinaryOp::kGt:
        op = BinaryOp::kLt;
        break;
      case BinaryOp::kGe:
        op = BinaryOp::kLe;
        break;
      default:
        break;
    }
  }
  if (col->kind != K::kBatchColumn || !IsIntColumn(col->column) || val->kind != K::kConst) {
    return false;
  }
  int64_t c = 0;
  if (col->column == Column::kCode) {
    const auto* i = std::get_if<int64_t>(&val->constant);
    if (i == nullptr) return false;
    c = *i;
  } else {
    const auto* d = std::get_if<Datetime>(&val->constant);
    if (d == nullptr) return false;
    c = d->micros;
  }
  const storage::IntColumn& ints = batch.Ints(col->column);
  switch (op) {
    case BinaryOp::kEq:
      KeepInts(ints, sel, [c](int64_t v) { return v == c; });
      break;
    case BinaryOp::kNe:
      KeepInts(ints, sel, [c](int64_t v) { return v != c; });
      break;
    case BinaryOp::kLt:
      KeepInts(ints, sel, [c](int64_t v) { return v < c; });
      break;
    case BinaryOp::kLe:
      KeepInts(ints, sel, [c](int64_t v) { return v <= c; });
      break;
    case BinaryOp::kGt:
      KeepInts(ints, sel, [c](int64_t v) { return v > c; });
      break;
    default:
      KeepInts(ints, sel, [c](int64_t v) { return v >= c; });
      break;
  }
  return true;
}

}  // namespace

void AddColumnsRead(const BoundExpr& e, std::vector<storage::Column>* out) {
  if (e.kind == K::kBatchColumn && std::find(out->begin(), out->end(), e.column) == out->end()) {
    out->push_back(e.column);
  }
  for (const BoundExpr& a : e.args) AddColumnsRead(a, out);
}

int EvalCost(const BoundExpr& e) {
  int cost = 0;
  switch (e.kind) {
    case K::kEventPath:
    case K::kBodyPath:
      return 2;
    case K::kBatchColumn:
      cost = IsListColumn(e.column) && !e.multi ? 1 : 0;
      break;
    default:
      break;
  }
  for (const BoundExpr& a : e.args) cost = std::max(cost, EvalCost(a));
  return cost;
}

void FoldConstants(BoundExpr* e, TimeMicros now) {
  if (e->kind == K::kConst) return;
  if (IsConstant(*e) && e->kind != K::kAny) {
    EvalContext ctx;
    ctx.now = now;
    Value v = Eval(*e, ctx);
    BoundExpr folded;
    folded.kind = K::kConst;
    folded.pos = e->pos;
    folded.type = e->type;
    folded.constant = std::move(v);
    // Keep compiled regexes of `matches regex` / extract(): they are not constants.
    if (e->regex == nullptr) {
      *e = std::move(folded);
      return;
    }
  }
  for (BoundExpr& a : e->args) FoldConstants(&a, now);
}

BatchFilter::BatchFilter(const BoundExpr* predicate) : predicate_(predicate) {}

absl::Status BatchFilter::Apply(const storage::EventBatch& batch, EvalContext& ctx,
                                std::vector<uint32_t>* sel) {
  Filter(*predicate_, batch, ctx, sel);
  return ctx.status;
}

void BatchFilter::Filter(const BoundExpr& e, const storage::EventBatch& batch, EvalContext& ctx,
                         std::vector<uint32_t>* sel) {
  if (sel->empty()) return;
  if (e.kind == K::kBinary && e.op == BinaryOp::kAnd) {
    bool swap = EvalCost(e.args[1]) < EvalCost(e.args[0]);
    Filter(e.args[swap ? 1 : 0], batch, ctx, sel);
    Filter(e.args[swap ? 0 : 1], batch, ctx, sel);
    return;
  }
  if (e.kind == K::kBinary && e.op == BinaryOp::kOr) {
    std::vector<uint32_t> left = *sel;
    Filter(e.args[0], batch, ctx, &left);
    std::vector<uint32_t> rest = Minus(*sel, left);
    Filter(e.args[1], batch, ctx, &rest);
    sel->clear();
    std::merge(left.begin(), left.end(), rest.begin(), rest.end(), std::back_inserter(*sel));
    return;
  }
  if (e.kind == K::kNot) {
    std::vector<uint32_t> inner = *sel;
    Filter(e.args[0], batch, ctx, &inner);
    *sel = Minus(*sel, inner);
    return;
  }
  if (e.kind == K::kConst) {
    const auto* b = std::get_if<bool>(&e.constant);
    if (b == nullptr || !*b) sel->clear();
    return;
  }
  if (IntCompareLeaf(e, batch, sel)) return;

  std::vector<const BoundExpr*> refs;
  bool columns_only = CollectColumns(e, &refs);
  bool one_column = columns_only && !refs.empty() && !IsBoolNode(e);
  for (const BoundExpr* r : refs) {
    one_column = one_column && r->column == refs[0]->column && r->list_index < 0 &&
                 !IsIntColumn(r->column) && (r->multi || !IsListColumn(r->column));
  }
  if (one_column && IsListColumn(refs[0]->column) && refs.size() != 1) one_column = false;

  if (one_column) {
    // Evaluate once per dictionary entry (and once for null), then look up per row.
    Column c = refs[0]->column;
    const std::vector<std::string_view>& dict =
        IsListColumn(c) ? batch.Lists(c).dict : batch.Strings(c).dict;
    std::vector<int8_t> verdict(dict.size(), -1);
    int8_t null_verdict = -1;
    auto judge = [&](uint32_t code) -> bool {
      int8_t& v = code == storage::kNullCode ? null_verdict : verdict[code];
      if (v < 0) {
        Value value = code == storage::kNullCode ? Value() : Value(std::string(dict[code]));
        ctx.override_column = c;
        ctx.override_value = &value;
        v = EvalBool(e, ctx) ? 1 : 0;
        ctx.override_column.reset();
        ctx.override_value = nullptr;
      }
      return v == 1;
    };
    size_t out = 0;
    if (IsListColumn(c)) {
      const storage::ListColumn& l = batch.Lists(c);
      for (uint32_t r : *sel) {
        bool keep = false;
        for (uint32_t i = l.offsets[r]; i < l.offsets[r + 1] && !keep; ++i)
          keep = judge(l.codes[i]);
        if (keep) (*sel)[out++] = r;
      }
    } else {
      const storage::StringColumn& s = batch.Strings(c);
      for (uint32_t r : *sel) {
        if (judge(s.codes[r])) (*sel)[out++] = r;
      }
    }
    sel->resize(out);
    return;
  }

  size_t out = 0;
  for (uint32_t r : *sel) {
    ctx.SetRow(r);
    if (EvalBool(e, ctx)) (*sel)[out++] = r;
  }
  sel->resize(out);
}

}  // namespace kq::query
