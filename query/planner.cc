#include "query/planner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time.h"
#include "query/ast.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;
using storage::Column;

void Conjuncts(const BoundExpr& e, std::vector<const BoundExpr*>* out) {
  if (e.kind == K::kBinary && e.op == BinaryOp::kAnd) {
    Conjuncts(e.args[0], out);
    Conjuncts(e.args[1], out);
    return;
  }
  out->push_back(&e);
}

bool IsColumn(const BoundExpr& e, Column c) {
  return e.kind == K::kBatchColumn && e.column == c && !e.multi && e.list_index < 0;
}

// The constant as the text a hint carries (strings as they are, ints in decimal).
std::optional<std::string> HintText(const BoundExpr& e, Column c) {
  if (e.kind != K::kConst) return std::nullopt;
  if (c == Column::kCode) {
    if (const auto* i = std::get_if<int64_t>(&e.constant)) return std::to_string(*i);
    return std::nullopt;
  }
  if (const auto* s = std::get_if<std::string>(&e.constant)) return *s;
  return std::nullopt;
}

bool IsHintColumn(Column c) {
  switch (c) {
    case Column::kTime:
    case Column::kStageTime:
    case Column::kGroups:
    case Column::kSourceIps:
    case Column::kEnv:
      return false;
    default:
      return true;
  }
}

std::optional<TimeMicros> TimeConst(const BoundExpr& e) {
  if (e.kind != K::kConst) return std::nullopt;
  if (const auto* d = std::get_if<Datetime>(&e.constant)) return d->micros;
  return std::nullopt;
}

void Narrow(storage::ScanRange& r, TimeMicros from, TimeMicros to) {
  r.from = std::max(r.from, from);
  r.to = std::min(r.to, to);
}

// Applies "column must be one of `values`" to the plan.
void Restrict(ScanPlan& plan, Column c, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (c == Column::kNamespace) {
    std::vector<std::string>& ns = plan.range.namespaces;
    if (ns.empty()) {
      ns = values;
    } else {
      std::vector<std::string> both;
      std::set_intersection(ns.begin(), ns.end(), values.begin(), values.end(),
                            std::back_inserter(both));
      ns = both;
      if (ns.empty()) plan.empty = true;
    }
    return;
  }
  // An absent field compares equal to "", and summaries do not record absent values: a hint
  // with "" could prune segments holding matching rows.
  if (std::find(values.begin(), values.end(), "") != values.end()) return;
  if (values.size() == 1 && c == Column::kAuditId && !plan.audit_id) plan.audit_id = values[0];
  if (values.size() == 1 && c == Column::kName && !plan.name) plan.name = values[0];
  plan.range.hints.push_back({c, std::move(values)});
}

std::string ColumnName(Column c) {
  static const char* kNames[] = {"time",
                                 "stageTimestamp",
                                 "code",
                                 "auditID",
                                 "level",
                                 "stage",
                                 "verb",
                                 "requestURI",
                                 "user",
                                 "userAgent",
                                 "ns",
                                 "resource",
                                 "subresource",
                                 "name",
                                 "apiGroup",
                                 "apiVersion",
                                 "impersonatedUser",
                                 "decision",
                                 "cluster",
                                 "env",
                                 "user.groups",
                                 "sourceIPs"};
  size_t i = static_cast<size_t>(c);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "?";
}

}  // namespace

ScanPlan PlanScan(const std::vector<const BoundExpr*>& filters) {
  ScanPlan plan;
  std::vector<const BoundExpr*> conjuncts;
  for (const BoundExpr* f : filters) Conjuncts(*f, &conjuncts);
  for (const BoundExpr* c : conjuncts) {
    if (c->kind == K::kConst) {
      const auto* b = std::get_if<bool>(&c->constant);
      if (b == nullptr || !*b) plan.empty = true;
      continue;
    }
    if (c->kind == K::kBinary && c->op >= BinaryOp::kEq && c->op <= BinaryOp::kGe &&
        c->op != BinaryOp::kNe) {
      const BoundExpr* col = &c->args[0];
      const BoundExpr* val = &c->args[1];
      BinaryOp op = c->op;
      if (col->kind != K::kBatchColumn) {
        std::swap(col, val);
        op = op == BinaryOp::kLt   ? BinaryOp::kGt
             : op == BinaryOp::kLe ? BinaryOp::kGe
             : op == BinaryOp::kGt ? BinaryOp::kLt
             : op == BinaryOp::kGe ? BinaryOp::kLe
                                   : op;
      }
      if (IsColumn(*col, Column::kTime)) {
        if (std::optional<TimeMicros> t = TimeConst(*val)) {
          switch (op) {
            case BinaryOp::kEq:
              Narrow(plan.range, *t, *t + 1);
              break;
            case BinaryOp::kLt:
              Narrow(plan.range, INT64_MIN, *t);
              break;
            case BinaryOp::kLe:
              Narrow(plan.range, INT64_MIN, *t + 1);
              break;
            case BinaryOp::kGt:
              Narrow(plan.range, *t + 1, INT64_MAX);
              break;
            case BinaryOp::kGe:
              Narrow(plan.range, *t, INT64_MAX);
              break;
            default:
              break;
          }
        }
        continue;
      }
      if (op == BinaryOp::kEq && col->kind == K::kBatchColumn && !col->multi &&
          col->list_index < 0 && IsHintColumn(col->column)) {
        if (std::optional<std::string> v = HintText(*val, col->column)) {
          Restrict(plan, col->column, {*v});
        }
      }
      continue;
    }
    if (c->kind == K::kBetween && !c->negated && IsColumn(c->args[0], Column::kTime)) {
      std::optional<TimeMicros> lo = TimeConst(c->args[1]), hi = TimeConst(c->args[2]);
      if (lo && hi) Narrow(plan.range, *lo, *hi == INT64_MAX ? INT64_MAX : *hi + 1);
      continue;
    }
    if (c->kind == K::kIn && !c->negated && !c->case_insensitive &&
        c->args[0].kind == K::kBatchColumn && !c->args[0].multi && c->args[0].list_index < 0 &&
        IsHintColumn(c->args[0].column)) {
      std::vector<std::string> values;
      bool all_const = true;
      for (size_t i = 1; i < c->args.size() && all_const; ++i) {
        std::optional<std::string> v = HintText(c->args[i], c->args[0].column);
        all_const = v.has_value();
        if (v) values.push_back(*v);
      }
      if (all_const) Restrict(plan, c->args[0].column, std::move(values));
    }
  }
  if (plan.range.from >= plan.range.to) plan.empty = true;
  return plan;
}

std::string DescribeScan(const ScanPlan& plan) {
  const storage::ScanRange& r = plan.range;
  std::string out;
  if (plan.empty) absl::StrAppend(&out, "read nothing: the conditions cannot all hold\n");
  if (plan.audit_id) {
    absl::StrAppend(&out, "lookup: auditID == ", QuoteString(*plan.audit_id),
                    " (index, no scan)\n");
  } else if (plan.name) {
    absl::StrAppend(&out, "lookup: name == ", QuoteString(*plan.name), " (index, no scan)\n");
  }
  absl::StrAppend(
      &out, "time: ", r.from == INT64_MIN ? std::string("-inf") : FormatTimestamp(r.from), " .. ",
      r.to == INT64_MAX ? std::string("+inf") : FormatTimestamp(r.to), " (to exclusive)\n");
  if (r.namespaces.empty()) {
    absl::StrAppend(&out, "namespaces: all\n");
  } else {
    std::vector<std::string> quoted;
    for (const auto& n : r.namespaces) quoted.push_back(QuoteString(n));
    absl::StrAppend(&out, "namespaces: ", absl::StrJoin(quoted, ", "), "\n");
  }
  for (const auto& h : r.hints) {
    std::vector<std::string> quoted;
    for (const auto& v : h.values) quoted.push_back(QuoteString(v));
    absl::StrAppend(&out, "prune by summaries: ", ColumnName(h.column), " in (",
                    absl::StrJoin(quoted, ", "), ")\n");
  }
  absl::StrAppend(&out, "order: ", r.newest_first ? "newest first" : "oldest first", "\n");
  return out;
}

}  // namespace kq::query
