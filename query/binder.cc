#include "query/binder.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "query/binder_expr.h"
#include "query/catalog.h"
#include "query/parser.h"
#include "query/value.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;

std::string ColumnNameFor(const Expr& e) {
  if (const auto* f = std::get_if<FieldRef>(&e.node)) {
    if (f->element) return "";
    std::string out;
    for (const PathElem& p : f->path) {
      if (p.kind != PathElem::Kind::kKey) continue;
      if (!out.empty()) out += '_';
      for (char c : p.key) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out += ok ? c : '_';
      }
    }
    return out;
  }
  if (const auto* c = std::get_if<Call>(&e.node)) {
    if (c->name == "bin" && !c->args.empty()) return ColumnNameFor(*c->args[0]);
  }
  return "";
}

class Binder {
 public:
  explicit Binder(std::string_view text) : exprs_(text) {}

  absl::StatusOr<BoundQuery> BindQuery(const Query& q, std::string_view default_env) {
    BoundQuery out;
    out.env = q.env.empty() ? std::string(default_env) : q.env;
    out.archive = q.archive;
    bool batch = true;
    Schema schema;
    for (size_t i = 0; i < q.ops.size(); ++i) {
      const Operator& op = q.ops[i];
      KQ_RETURN_IF_ERROR(BindOperator(q, i, op, batch, schema, out.ops));
    }
    if (batch) out.ops.push_back(Materialize({}, {}, schema));
    out.output = schema;
    return out;
  }

 private:
  using Scope = BindScope;

  absl::Status Error(size_t pos, std::string_view message) const {
    return exprs_.Error(pos, message);
  }

  BoundOp Materialize(std::vector<BoundExpr> extends, const std::vector<std::string>& names,
                      Schema& schema) {
    BoundOp m;
    m.kind = BoundOp::Kind::kMaterialize;
    m.input_is_batch = true;
    schema = Schema();
    for (const DefaultColumn& d : DefaultEventColumns()) schema.columns.push_back({d.name, d.type});
    for (size_t i = 0; i < extends.size(); ++i) {
      int existing = schema.Find(names[i]);
      ColumnInfo info{names[i], extends[i].type};
      if (existing >= 0) {
        schema.columns[existing] = info;
        m.slots.push_back(existing);
      } else {
        m.slots.push_back(static_cast<int>(schema.columns.size()));
        schema.columns.push_back(info);
      }
    }
    schema.event_column = static_cast<int>(schema.columns.size());
    schema.columns.push_back({"_event", ValueType::kEvent});
    m.extends = std::move(extends);
    m.output = schema;
    return m;
  }

  absl::Status EnsureTable(bool& batch, Schema& schema, std::vector<BoundOp>& ops) {
    if (batch) {
      ops.push_back(Materialize({}, {}, schema));
      batch = false;
    }
    return absl::OkStatus();
  }

  static std::string Unique(const Schema& schema, std::string name) {
    if (schema.Find(name) < 0) return name;
    for (int i = 1;; ++i) {
      std::string candidate = absl::StrCat(name, i);
      if (schema.Find(candidate) < 0) return candidate;
    }
  }

  absl::StatusOr<std::vector<std::pair<std::string, BoundExpr>>> BindNamed(
      const std::vector<NamedExpr>& items, const Scope& scope) {
    std::vector<std::pair<std::string, BoundExpr>> out;
    for (const NamedExpr& item : items) {
      KQ_ASSIGN_OR_RETURN(BoundExpr e, BindExpr(*item.expr, scope));
      KQ_RETURN_IF_ERROR(RejectMulti(e));
      std::string name = item.name.empty() ? ColumnNameFor(*item.expr) : item.name;
      out.emplace_back(std::move(name), std::move(e));
    }
    return out;
  }

  // Fills unnamed columns ("Column1", ...) and makes names unique.
  Schema NameColumns(std::vector<std::pair<std::string, BoundExpr>>& items) {
    Schema schema;
    int unnamed = 0;
    for (auto& [name, e] : items) {
      if (name.empty()) name = absl::StrCat("Column", ++unnamed);
      name = Unique(schema, name);
      schema.columns.push_back({name, e.type});
    }
    return schema;
  }

  absl::Status BindOperator(const Query& q, size_t i, const Operator& op, bool& batch,
                            Schema& schema, std::vector<BoundOp>& ops) {
    Scope scope{batch, &schema, false};
    if (const auto* w = std::get_if<Where>(&op.node)) {
      BoundOp b;
      b.kind = BoundOp::Kind::kFilter;
      b.input_is_batch = batch;
      KQ_ASSIGN_OR_RETURN(b.predicate, BindExpr(*w->predicate, scope));
      if (!IsBoolLike(b.predicate.type)) {
        return Error(w->predicate->pos, absl::StrCat("where needs a bool condition, not a ",
                                                     Sv(TypeName(b.predicate.type))));
      }
      b.output = schema;
      ops.push_back(std::move(b));
      return absl::OkStatus();
    }
    if (const auto* p = std::get_if<Project>(&op.node)) {
      KQ_ASSIGN_OR_RETURN(auto items, BindNamed(p->items, scope));
      return PushProject(std::move(items), batch, schema, ops);
    }
    if (const auto* d = std::get_if<Distinct>(&op.node)) {
      KQ_ASSIGN_OR_RETURN(auto items, BindNamed(d->items, scope));
      BoundOp b;
      b.kind = BoundOp::Kind::kDistinct;
      b.input_is_batch = batch;
      b.output = NameColumns(items);
      for (auto& [name, e] : items) b.exprs.push_back(std::move(e));
      schema = b.output;
      batch = false;
      ops.push_back(std::move(b));
      return absl::OkStatus();
    }
    if (const auto* e = std::get_if<Extend>(&op.node)) {
      KQ_ASSIGN_OR_RETURN(auto items, BindNamed(e->items, scope));
      std::vector<std::string> names;
      std::vector<BoundExpr> exprs;
      int unnamed = 0;
      for (auto& [name, x] : items) {
        names.push_back(name.empty() ? absl::StrCat("Column", ++unnamed) : name);
        exprs.push_back(std::move(x));
      }
      if (batch) {
        ops.push_back(Materialize(std::move(exprs), names, schema));
        batch = false;
        return absl::OkStatus();
      }
      // Keep every column, replace or add the extended ones (before _event).
      std::vector<std::pair<std::string, BoundExpr>> out;
      for (size_t c = 0; c < schema.columns.size(); ++c) {
        if (static_cast<int>(c) == schema.event_column) continue;
        out.emplace_back(schema.columns[c].name, ColumnRef(schema, c));
      }
      for (size_t k = 0; k < names.size(); ++k) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& p) { return p.first == names[k]; });
        if (it != out.end()) {
          it->second = std::move(exprs[k]);
        } else {
          out.emplace_back(names[k], std::move(exprs[k]));
        }
      }
      bool keep_event = schema.event_column >= 0;
      if (keep_event) out.emplace_back("_event", ColumnRef(schema, schema.event_column));
      KQ_RETURN_IF_ERROR(PushProject(std::move(out), batch, schema, ops));
      if (keep_event) schema.event_column = static_cast<int>(schema.columns.size()) - 1;
      ops.back().output = schema;
      return absl::OkStatus();
    }
    if (const auto* pa = std::get_if<ProjectAway>(&op.node)) {
      KQ_RETURN_IF_ERROR(EnsureTable(batch, schema, ops));
      std::vector<std::string> names;
      for (const ColumnInfo& c : schema.columns) names.push_back(c.name);
      for (const std::string& n : pa->names) {
        if (schema.Find(n) < 0) return Error(op.pos, exprs_.UnknownColumn(n, names));
      }
      std::vector<std::pair<std::string, BoundExpr>> out;
      int event_column = -1;
      for (size_t c = 0; c < schema.columns.size(); ++c) {
        const std::string& name = schema.columns[c].name;
        if (std::find(pa->names.begin(), pa->names.end(), name) != pa->names.end()) continue;
        if (static_cast<int>(c) == schema.event_column) event_column = out.size();
        out.emplace_back(name, ColumnRef(schema, c));
      }
      KQ_RETURN_IF_ERROR(PushProject(std::move(out), batch, schema, ops));
      schema.event_column = event_column;
      ops.back().output = schema;
      return absl::OkStatus();
    }
    if (const auto* s = std::get_if<Summarize>(&op.node))
      return BindSummarize(*s, batch, schema, ops);
    if (const auto* s = std::get_if<Sort>(&op.node)) {
      // sort followed by take is a top-N.
      if (i + 1 < q.ops.size()) {
        if (const auto* t = std::get_if<Take>(&q.ops[i + 1].node)) {
          return BindTop(s->keys, t->count, batch, schema, ops);
        }
      }
      KQ_RETURN_IF_ERROR(EnsureTable(batch, schema, ops));
      BoundOp b;
      b.kind = BoundOp::Kind::kSort;
      KQ_RETURN_IF_ERROR(BindSortKeys(s->keys, Scope{false, &schema, false}, b));
      b.output = schema;
      ops.push_back(std::move(b));
      return absl::OkStatus();
    }
    if (const auto* t = std::get_if<Top>(&op.node)) {
      return BindTop(t->keys, t->count, batch, schema, ops);
    }
    if (const auto* t = std::get_if<Take>(&op.node)) {
      if (i > 0 && std::holds_alternative<Sort>(q.ops[i - 1].node)) {
        return absl::OkStatus();  // folded into the top-N above
      }
      BoundOp b;
      b.kind = BoundOp::Kind::kTake;
      b.count = t->count;
      b.input_is_batch = batch;
      if (batch) {
        Schema unused;
        b.output = Materialize({}, {}, unused).output;
        schema = b.output;
        batch = false;
      } else {
        b.output = schema;
      }
      ops.push_back(std::move(b));
      return absl::OkStatus();
    }
    if (std::holds_alternative<Count>(op.node)) {
      BoundOp b;
      b.kind = BoundOp::Kind::kCount;
      b.input_is_batch = batch;
      b.output.columns.push_back({"Count", ValueType::kInt});
      schema = b.output;
      batch = false;
      ops.push_back(std::move(b));
      return absl::OkStatus();
    }
    const auto& d = std::get<DedupBy>(op.node);
    KQ_RETURN_IF_ERROR(EnsureTable(batch, schema, ops));
    BoundOp b;
    b.kind = BoundOp::Kind::kDedup;
    for (const ExprPtr& k : d.keys) {
      KQ_ASSIGN_OR_RETURN(BoundExpr e, BindExpr(*k, Scope{false, &schema, false}));
      KQ_RETURN_IF_ERROR(RejectMulti(e));
      b.exprs.push_back(std::move(e));
    }
    KQ_RETURN_IF_ERROR(BindDedupMerge(schema, &b));
    b.output = schema;
    ops.push_back(std::move(b));
    return absl::OkStatus();
  }

  // For rows that are whole events: what DedupStage merges the stages of a request by (see
  // BoundOp::kDedup). Rows of other tables are left without them (the last row wins).
  static absl::Status BindDedupMerge(const Schema& schema, BoundOp* b) {
    if (schema.event_column < 0) return absl::OkStatus();
    for (const char* field : {"stage", "stageTimestamp"}) {
      KQ_ASSIGN_OR_RETURN(ResolvedField r, ResolveField({PathElem{PathElem::Kind::kKey, field}}));
      BoundExpr e;
      e.kind = K::kEventPath;
      e.index = schema.event_column;
      e.path = r.json_path;
      e.type = r.type;
      e.to_datetime = r.type == ValueType::kDatetime;
      b->sort_keys.push_back(std::move(e));
    }
    int time = schema.Find("time"), code = schema.Find("code");
    b->slots.push_back(time >= 0 && schema.columns[time].type == ValueType::kDatetime ? time : -1);
    b->slots.push_back(code >= 0 && schema.columns[code].type == ValueType::kInt ? code : -1);
    return absl::OkStatus();
  }

  absl::Status PushProject(std::vector<std::pair<std::string, BoundExpr>> items, bool& batch,
                           Schema& schema, std::vector<BoundOp>& ops) {
    BoundOp b;
    b.kind = BoundOp::Kind::kProject;
    b.input_is_batch = batch;
    b.output = NameColumns(items);
    for (auto& [name, e] : items) b.exprs.push_back(std::move(e));
    for (size_t c = 0; c < b.exprs.size(); ++c) {
      if (b.exprs[c].kind == K::kTableColumn && b.exprs[c].path.empty() &&
          b.exprs[c].index == schema.event_column) {
        b.output.columns[c].type = ValueType::kEvent;
      }
    }
    schema = b.output;
    batch = false;
    ops.push_back(std::move(b));
    return absl::OkStatus();
  }

  absl::Status BindSortKeys(const std::vector<SortKey>& keys, const Scope& scope, BoundOp& b) {
    for (const SortKey& k : keys) {
      KQ_ASSIGN_OR_RETURN(BoundExpr e, BindExpr(*k.expr, scope));
      KQ_RETURN_IF_ERROR(RejectMulti(e));
      b.sort_keys.push_back(std::move(e));
      b.descending.push_back(k.descending);
    }
    return absl::OkStatus();
  }

  absl::Status BindTop(const std::vector<SortKey>& keys, uint64_t count, bool& batch,
                       Schema& schema, std::vector<BoundOp>& ops) {
    BoundOp b;
    b.kind = BoundOp::Kind::kTop;
    b.count = count;
    b.input_is_batch = batch;
    KQ_RETURN_IF_ERROR(BindSortKeys(keys, Scope{batch, &schema, false}, b));
    if (batch) {
      Schema events;
      b.output = Materialize({}, {}, events).output;
      schema = b.output;
      batch = false;
    } else {
      b.output = schema;
    }
    ops.push_back(std::move(b));
    return absl::OkStatus();
  }

  absl::Status BindSummarize(const Summarize& s, bool& batch, Schema& schema,
                             std::vector<BoundOp>& ops) {
    Scope scope{batch, &schema, false};
    BoundOp b;
    b.kind = BoundOp::Kind::kSummarize;
    b.input_is_batch = batch;
    KQ_ASSIGN_OR_RETURN(auto keys, BindNamed(s.by, scope));
    std::vector<std::pair<std::string, BoundExpr>> named = std::move(keys);
    for (auto& [name, e] : named) b.exprs.push_back(e);
    std::vector<std::pair<std::string, ValueType>> agg_columns;
    for (const NamedExpr& item : s.aggregates) {
      const auto* call = std::get_if<Call>(&item.expr->node);
      const FnInfo* fn = call ? FindFunction(call->name) : nullptr;
      if (fn == nullptr || !fn->aggregate) {
        return Error(item.expr->pos,
                     "summarize needs an aggregate here: count(), countif(), dcount(), min(), "
                     "max(), sum(), avg(), percentile(), make_set(), arg_max() or arg_min()");
      }
      KQ_RETURN_IF_ERROR(exprs_.CheckArity(*call, *fn, item.expr->pos));
      BoundAggregate agg;
      agg.fn = fn->fn;
      for (const ExprPtr& a : call->args) {
        KQ_ASSIGN_OR_RETURN(BoundExpr arg, BindExpr(*a, scope));
        KQ_RETURN_IF_ERROR(RejectMulti(arg));
        agg.args.push_back(std::move(arg));
      }
      std::string base = item.name;
      std::string arg_name = call->args.empty() ? "" : ColumnNameFor(*call->args[0]);
      ValueType type = ValueType::kInt;
      switch (agg.fn) {
        case Fn::kCount:
          if (base.empty()) base = "count_";
          break;
        case Fn::kCountIf:
          if (!IsBoolLike(agg.args[0].type)) {
            return Error(call->args[0]->pos, "countif() needs a bool condition");
          }
          if (base.empty()) base = "countif_";
          break;
        case Fn::kDcount:
          if (base.empty()) base = "dcount_" + arg_name;
          break;
        case Fn::kMin:
        case Fn::kMax:
          type = agg.args[0].type;
          if (base.empty()) base = (agg.fn == Fn::kMin ? "min_" : "max_") + arg_name;
          break;
        case Fn::kSum:
        case Fn::kAvg:
          if (!IsNumericType(agg.args[0].type) && !IsDynamicType(agg.args[0].type) &&
              agg.args[0].type != ValueType::kTimespan) {
            return Error(call->args[0]->pos, absl::StrCat(call->name, "() needs a number, not a ",
                                                          Sv(TypeName(agg.args[0].type))));
          }
          type = agg.fn == Fn::kAvg                         ? ValueType::kDouble
                 : agg.args[0].type == ValueType::kInt      ? ValueType::kInt
                 : agg.args[0].type == ValueType::kTimespan ? ValueType::kTimespan
                                                            : ValueType::kDouble;
          if (agg.args[0].type == ValueType::kTimespan && agg.fn == Fn::kAvg) {
            type = ValueType::kTimespan;
          }
          if (base.empty()) base = (agg.fn == Fn::kSum ? "sum_" : "avg_") + arg_name;
          break;
        case Fn::kPercentile: {
          const BoundExpr& p = agg.args[1];
          if (p.kind != K::kConst || !IsNumericType(TypeOf(p.constant))) {
            return Error(call->args[1]->pos, "percentile() needs a constant number 0..100");
          }
          agg.percentile = std::holds_alternative<int64_t>(p.constant)
                               ? static_cast<double>(std::get<int64_t>(p.constant))
                               : std::get<double>(p.constant);
          if (agg.percentile < 0 || agg.percentile > 100) {
            return Error(call->args[1]->pos, "percentile() needs a constant number 0..100");
          }
          type = agg.args[0].type;
          if (base.empty()) {
            base = absl::StrCat("percentile_", arg_name, "_", static_cast<int64_t>(agg.percentile));
          }
          break;
        }
        case Fn::kMakeSet:
          type = ValueType::kDynamic;
          if (agg.args.size() == 2) {
            const BoundExpr& m = agg.args[1];
            if (m.kind != K::kConst || !std::holds_alternative<int64_t>(m.constant) ||
                std::get<int64_t>(m.constant) < 1) {
              return Error(call->args[1]->pos, "make_set() size limit must be a positive int");
            }
            agg.max_set = static_cast<size_t>(std::get<int64_t>(m.constant));
          }
          if (base.empty()) base = "set_" + arg_name;
          break;
        case Fn::kArgMax:
        case Fn::kArgMin: {
          // One column per argument: the extreme value, then the values that came with it.
          std::string first =
              item.name.empty() ? (agg.fn == Fn::kArgMax ? "max_" : "min_") + arg_name : item.name;
          agg_columns.emplace_back(first, agg.args[0].type);
          for (size_t a = 1; a < call->args.size(); ++a) {
            std::string n = ColumnNameFor(*call->args[a]);
            agg_columns.emplace_back(n, agg.args[a].type);
          }
          b.aggregates.push_back(std::move(agg));
          continue;
        }
        default:
          break;
      }
      agg_columns.emplace_back(base, type);
      b.aggregates.push_back(std::move(agg));
    }
    if (b.aggregates.empty() && b.exprs.empty()) {
      return Error(0, "summarize needs an aggregate or a by clause");
    }
    Schema out = NameColumns(named);
    int unnamed = static_cast<int>(out.columns.size());
    for (auto& [name, type] : agg_columns) {
      std::string n = name.empty() ? absl::StrCat("Column", ++unnamed) : name;
      n = Unique(out, n);
      out.columns.push_back({n, type});
    }
    b.output = out;
    schema = out;
    batch = false;
    ops.push_back(std::move(b));
    return absl::OkStatus();
  }

  absl::StatusOr<BoundExpr> BindExpr(const Expr& e, const BindScope& scope) const {
    return exprs_.Bind(e, scope);
  }
  absl::Status RejectMulti(const BoundExpr& e) const { return exprs_.RejectMulti(e); }
  static BoundExpr ColumnRef(const Schema& schema, size_t c) {
    return ExprBinder::ColumnRef(schema, c);
  }

  ExprBinder exprs_;
};

}  // namespace

absl::StatusOr<BoundQuery> Bind(const Query& query, std::string_view text,
                                std::string_view default_env) {
  Binder binder(text);
  return binder.BindQuery(query, default_env);
}

bool IsConstant(const BoundExpr& e) {
  switch (e.kind) {
    case K::kConst:
      return true;
    case K::kBatchColumn:
    case K::kEventPath:
    case K::kBodyPath:
    case K::kTableColumn:
    case K::kElement:
    case K::kAny:
      return false;
    default:
      for (const BoundExpr& a : e.args) {
        if (!IsConstant(a)) return false;
      }
      return true;
  }
}

}  // namespace kq::query
