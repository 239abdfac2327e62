#include "query/binder_expr.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "query/catalog.h"
#include "query/parser.h"
#include "query/value.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;

const std::map<std::string, FnInfo, std::less<>>& Functions() {
  static const auto* fns = new std::map<std::string, FnInfo, std::less<>>{
      {"ago", {Fn::kAgo, 1, 1, false}},
      {"now", {Fn::kNow, 0, 0, false}},
      {"bin", {Fn::kBin, 2, 2, false}},
      {"tolower", {Fn::kToLower, 1, 1, false}},
      {"toupper", {Fn::kToUpper, 1, 1, false}},
      {"strlen", {Fn::kStrlen, 1, 1, false}},
      {"split", {Fn::kSplit, 2, 2, false}},
      {"extract", {Fn::kExtract, 3, 3, false}},
      {"isnull", {Fn::kIsNull, 1, 1, false}},
      {"isnotnull", {Fn::kIsNotNull, 1, 1, false}},
      {"isempty", {Fn::kIsEmpty, 1, 1, false}},
      {"isnotempty", {Fn::kIsNotEmpty, 1, 1, false}},
      {"tostring", {Fn::kToString, 1, 1, false}},
      {"toint", {Fn::kToInt, 1, 1, false}},
      {"strcat", {Fn::kStrcat, 1, 64, false}},
      {"substring", {Fn::kSubstring, 2, 3, false}},
      {"iff", {Fn::kIff, 3, 3, false}},
      {"url_decode", {Fn::kUrlDecode, 1, 1, false}},
      {"array_length", {Fn::kArrayLength, 1, 1, false}},
      {"count", {Fn::kCount, 0, 0, true}},
      {"countif", {Fn::kCountIf, 1, 1, true}},
      {"dcount", {Fn::kDcount, 1, 1, true}},
      {"min", {Fn::kMin, 1, 1, true}},
      {"max", {Fn::kMax, 1, 1, true}},
      {"sum", {Fn::kSum, 1, 1, true}},
      {"avg", {Fn::kAvg, 1, 1, true}},
      {"percentile", {Fn::kPercentile, 2, 2, true}},
      {"make_set", {Fn::kMakeSet, 1, 2, true}},
      {"arg_max", {Fn::kArgMax, 2, 64, true}},
      {"arg_min", {Fn::kArgMin, 2, 64, true}},
  };
  return *fns;
}

std::vector<std::string> FunctionNames() {
  std::vector<std::string> out;
  for (const auto& [name, info] : Functions()) out.push_back(name);
  return out;
}

bool IsNumeric(ValueType t) { return t == ValueType::kInt || t == ValueType::kDouble; }
bool Dyn(ValueType t) { return t == ValueType::kDynamic || t == ValueType::kNull; }
bool StringLike(ValueType t) { return t == ValueType::kString || Dyn(t); }
bool BoolLike(ValueType t) { return t == ValueType::kBool || Dyn(t); }

bool HasEach(const std::vector<storage::PathStep>& path) {
  for (const auto& s : path) {
    if (s.kind == storage::PathStep::Kind::kEach) return true;
  }
  return false;
}

// Whether values of types a and b can be compared with ==, <, ...
bool Comparable(ValueType a, ValueType b) {
  if (Dyn(a) || Dyn(b)) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  return a == b;
}

}  // namespace

bool IsNumericType(ValueType t) { return IsNumeric(t); }
bool IsBoolLike(ValueType t) { return BoolLike(t); }
bool IsDynamicType(ValueType t) { return Dyn(t); }

const FnInfo* FindFunction(std::string_view name) {
  auto it = Functions().find(name);
  return it == Functions().end() ? nullptr : &it->second;
}

absl::Status ExprBinder::Error(size_t pos, std::string_view message) const {
  return ErrorAt(text_, pos, message);
}

absl::Status ExprBinder::RejectMulti(const BoundExpr& e) const {
  if (e.multi) {
    return Error(e.pos,
                 "a [*] path gives several values; compare it directly (==, in, contains, ...) "
                 "or use any(path, predicate)");
  }
  return absl::OkStatus();
}

absl::Status ExprBinder::CheckArity(const Call& c, const FnInfo& info, size_t pos) const {
  if (c.args.size() < info.min_args || c.args.size() > info.max_args) {
    std::string want = info.min_args == info.max_args
                           ? absl::StrCat(info.min_args)
                           : absl::StrCat(info.min_args, " to ", info.max_args);
    return Error(pos, absl::StrCat(c.name, "() takes ", want, " argument",
                                   info.max_args == 1 ? "" : "s", ", not ", c.args.size()));
  }
  return absl::OkStatus();
}

std::string ExprBinder::UnknownColumn(std::string_view name,
                                      const std::vector<std::string>& names) const {
  std::string out = absl::StrCat("unknown column '", Sv(name), "'");
  std::string hint = DidYouMean(name, names);
  if (!hint.empty()) absl::StrAppend(&out, "; did you mean '", hint, "'?");
  std::string list;
  for (const std::string& n : names) {
    if (n == "_event") continue;
    absl::StrAppend(&list, list.empty() ? "" : ", ", n);
  }
  absl::StrAppend(&out, " (columns here: ", list, ")");
  return out;
}

BoundExpr ExprBinder::ColumnRef(const Schema& schema, size_t c) {
  BoundExpr e;
  e.kind = K::kTableColumn;
  e.index = static_cast<int>(c);
  e.type =
      schema.columns[c].type == ValueType::kEvent ? ValueType::kDynamic : schema.columns[c].type;
  return e;
}
absl::StatusOr<BoundExpr> ExprBinder::BindField(const FieldRef& f, size_t pos,
                                                const BindScope& scope) const {
  BoundExpr e;
  e.pos = pos;
  if (f.element || scope.in_any) {
    if (!scope.in_any) return Error(pos, "$ (the array element) can only be used inside any()");
    e.kind = K::kElement;
    e.path = ToPathSteps(f.path, 0);
    e.multi = HasEach(e.path);
    return e;
  }
  const std::string* root = f.path.empty() ? nullptr : &f.path[0].key;
  if (!scope.batch) {
    const Schema& schema = *scope.schema;
    int c = root ? schema.Find(*root) : -1;
    // A path into a plain column of whole events' rows (`user.groups` next to the `user`
    // alias column) reads the event, as it would before the rows were materialised.
    bool into_event =
        c >= 0 && f.path.size() > 1 && schema.event_column >= 0 && !Dyn(schema.columns[c].type);
    if (c >= 0 && c != schema.event_column && !into_event) {
      e = ColumnRef(schema, c);
      e.pos = pos;
      e.path = ToPathSteps(f.path, 1);
      if (!e.path.empty()) {
        if (!Dyn(e.type)) {
          return Error(pos, absl::StrCat("column '", *root, "' is a ", Sv(TypeName(e.type)),
                                         " and has no sub-fields"));
        }
        e.type = ValueType::kDynamic;
      }
      e.multi = HasEach(e.path);
      return e;
    }
    if (schema.event_column < 0) {
      std::vector<std::string> names;
      for (const ColumnInfo& ci : schema.columns) names.push_back(ci.name);
      return Error(pos, UnknownColumn(root ? *root : "", names));
    }
  }
  absl::StatusOr<ResolvedField> resolved = ResolveField(f.path);
  if (!resolved.ok()) return Error(pos, StdSv(resolved.status().message()));
  const ResolvedField& r = *resolved;
  if (!scope.batch) {
    const Schema& schema = *scope.schema;
    int c = r.table_column.empty() ? -1 : schema.Find(r.table_column);
    if (c >= 0) {
      e = ColumnRef(schema, c);
      e.pos = pos;
      return e;
    }
    if (r.json_path.empty()) {
      return Error(pos, absl::StrCat("column '", r.table_column, "' was projected away"));
    }
    e.kind = K::kEventPath;
    e.index = schema.event_column;
    e.path = r.json_path;
    e.multi = HasEach(e.path);
    e.type = (r.is_list || e.multi) ? ValueType::kDynamic : r.type;
    if (r.is_list && r.list_step) e.type = ValueType::kString;
    e.to_datetime = e.type == ValueType::kDatetime;
    return e;
  }
  if (r.column) {
    e.kind = K::kBatchColumn;
    e.column = *r.column;
    e.type = r.type;
    if (r.is_list) {
      e.type = ValueType::kDynamic;
      if (r.list_step) {
        e.type = ValueType::kString;
        if (r.list_step->kind == PathElem::Kind::kEach) {
          e.multi = true;
        } else {
          e.list_index = static_cast<int>(std::min<uint64_t>(r.list_step->index, INT32_MAX));
        }
      }
    }
    return e;
  }
  if (r.body != 0) {
    e.kind = K::kBodyPath;
    e.body = r.body;
    e.path.assign(r.json_path.begin() + 1, r.json_path.end());
  } else {
    e.kind = K::kEventPath;
    e.path = r.json_path;
  }
  e.multi = HasEach(e.path);
  return e;
}

absl::StatusOr<BoundExpr> ExprBinder::Bind(const Expr& x, const BindScope& scope) const {
  BoundExpr e;
  e.pos = x.pos;
  if (const auto* l = std::get_if<Literal>(&x.node)) {
    e.kind = K::kConst;
    e.constant = l->value;
    e.type = TypeOf(l->value);
    return e;
  }
  if (const auto* f = std::get_if<FieldRef>(&x.node)) return BindField(*f, x.pos, scope);
  if (const auto* c = std::get_if<Call>(&x.node)) return BindCall(*c, x.pos, scope);
  if (const auto* b = std::get_if<Binary>(&x.node)) return BindBinary(*b, x.pos, scope);
  if (const auto* n = std::get_if<Not>(&x.node)) {
    KQ_ASSIGN_OR_RETURN(BoundExpr a, Bind(*n->operand, scope));
    KQ_RETURN_IF_ERROR(RejectMulti(a));
    if (!BoolLike(a.type)) {
      return Error(x.pos, absl::StrCat("not needs a bool, not a ", Sv(TypeName(a.type))));
    }
    e.kind = K::kNot;
    e.type = ValueType::kBool;
    e.args.push_back(std::move(a));
    return e;
  }
  if (const auto* n = std::get_if<Negate>(&x.node)) {
    KQ_ASSIGN_OR_RETURN(BoundExpr a, Bind(*n->operand, scope));
    KQ_RETURN_IF_ERROR(RejectMulti(a));
    if (!IsNumeric(a.type) && a.type != ValueType::kTimespan && !Dyn(a.type)) {
      return Error(x.pos, absl::StrCat("cannot negate a ", Sv(TypeName(a.type))));
    }
    e.kind = K::kNegate;
    e.type = a.type;
    e.args.push_back(std::move(a));
    return e;
  }
  if (const auto* in = std::get_if<InList>(&x.node)) {
    KQ_ASSIGN_OR_RETURN(BoundExpr lhs, Bind(*in->lhs, scope));
    e.kind = K::kIn;
    e.type = ValueType::kBool;
    e.negated = in->negated;
    e.case_insensitive = in->case_insensitive;
    e.args.push_back(std::move(lhs));
    for (const ExprPtr& item : in->items) {
      KQ_ASSIGN_OR_RETURN(BoundExpr v, Bind(*item, scope));
      KQ_RETURN_IF_ERROR(RejectMulti(v));
      if (!Comparable(e.args[0].type, v.type) || (in->case_insensitive && !StringLike(v.type))) {
        return Error(item->pos, absl::StrCat("cannot compare ", Sv(TypeName(e.args[0].type)),
                                             " with ", Sv(TypeName(v.type))));
      }
      e.args.push_back(std::move(v));
    }
    return e;
  }
  if (const auto* bt = std::get_if<Between>(&x.node)) {
    e.kind = K::kBetween;
    e.type = ValueType::kBool;
    e.negated = bt->negated;
    for (const Expr* part : {bt->lhs.get(), bt->low.get(), bt->high.get()}) {
      KQ_ASSIGN_OR_RETURN(BoundExpr v, Bind(*part, scope));
      if (part != bt->lhs.get()) KQ_RETURN_IF_ERROR(RejectMulti(v));
      if (!e.args.empty() && !Comparable(e.args[0].type, v.type)) {
        return Error(part->pos, absl::StrCat("cannot compare ", Sv(TypeName(e.args[0].type)),
                                             " with ", Sv(TypeName(v.type))));
      }
      e.args.push_back(std::move(v));
    }
    return e;
  }
  const auto& any = std::get<AnyMatch>(x.node);
  KQ_ASSIGN_OR_RETURN(BoundExpr array, BindField(any.array, x.pos, scope));
  if (array.kind == K::kBatchColumn) {
    if (array.column != storage::Column::kGroups && array.column != storage::Column::kSourceIps) {
      return Error(x.pos, "any() needs an array field");
    }
    array.multi = true;
    array.list_index = -1;
    array.type = ValueType::kString;
  } else if (!array.multi) {
    storage::PathStep each;
    each.kind = storage::PathStep::Kind::kEach;
    array.path.push_back(each);
    array.multi = true;
    array.type = ValueType::kDynamic;
  }
  BindScope inner = scope;
  inner.in_any = true;
  KQ_ASSIGN_OR_RETURN(BoundExpr pred, Bind(*any.predicate, inner));
  if (!BoolLike(pred.type)) return Error(any.predicate->pos, "any() needs a bool predicate");
  e.kind = K::kAny;
  e.type = ValueType::kBool;
  e.args.push_back(std::move(array));
  e.args.push_back(std::move(pred));
  return e;
}

absl::StatusOr<BoundExpr> ExprBinder::BindBinary(const Binary& b, size_t pos,
                                                 const BindScope& scope) const {
  KQ_ASSIGN_OR_RETURN(BoundExpr lhs, Bind(*b.lhs, scope));
  KQ_ASSIGN_OR_RETURN(BoundExpr rhs, Bind(*b.rhs, scope));
  BoundExpr e;
  e.pos = pos;
  e.kind = K::kBinary;
  e.op = b.op;
  e.type = ValueType::kBool;
  ValueType lt = lhs.type, rt = rhs.type;
  std::string op(BinaryOpText(b.op));
  auto mismatch = [&](std::string_view hint) {
    return Error(pos, absl::StrCat("cannot apply ", op, " to ", Sv(TypeName(lt)), " and ",
                                   Sv(TypeName(rt)), Sv(hint)));
  };
  switch (b.op) {
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
      KQ_RETURN_IF_ERROR(RejectMulti(lhs));
      KQ_RETURN_IF_ERROR(RejectMulti(rhs));
      if (!BoolLike(lt) || !BoolLike(rt)) return mismatch("");
      break;
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe:
      if (!Comparable(lt, rt)) {
        bool time_hint = (lt == ValueType::kDatetime && rt == ValueType::kString) ||
                         (rt == ValueType::kDatetime && lt == ValueType::kString);
        return mismatch(time_hint ? "; write datetime(2026-11-01T00:00:00Z) or ago(1h)" : "");
      }
      break;
    case BinaryOp::kMatchesRegex: {
      if (!StringLike(lt)) return mismatch("");
      if (rhs.kind != K::kConst || !std::holds_alternative<std::string>(rhs.constant)) {
        return Error(b.rhs->pos, "matches regex needs a constant string pattern");
      }
      auto re = std::make_shared<re2::RE2>(std::get<std::string>(rhs.constant), re2::RE2::Quiet);
      if (!re->ok()) {
        return Error(b.rhs->pos, absl::StrCat("invalid regular expression: ", re->error()));
      }
      e.regex = std::move(re);
      break;
    }
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod: {
      KQ_RETURN_IF_ERROR(RejectMulti(lhs));
      KQ_RETURN_IF_ERROR(RejectMulti(rhs));
      using VT = ValueType;
      bool additive = b.op == BinaryOp::kAdd || b.op == BinaryOp::kSub;
      if (Dyn(lt) || Dyn(rt)) {
        e.type = VT::kDynamic;
      } else if (IsNumeric(lt) && IsNumeric(rt)) {
        e.type = (lt == VT::kInt && rt == VT::kInt) ? VT::kInt : VT::kDouble;
      } else if (additive && lt == VT::kDatetime && rt == VT::kTimespan) {
        e.type = VT::kDatetime;
      } else if (b.op == BinaryOp::kAdd && lt == VT::kTimespan && rt == VT::kDatetime) {
        e.type = VT::kDatetime;
      } else if (b.op == BinaryOp::kSub && lt == VT::kDatetime && rt == VT::kDatetime) {
        e.type = VT::kTimespan;
      } else if (additive && lt == VT::kTimespan && rt == VT::kTimespan) {
        e.type = VT::kTimespan;
      } else if ((b.op == BinaryOp::kMul || b.op == BinaryOp::kDiv) && lt == VT::kTimespan &&
                 IsNumeric(rt)) {
        e.type = VT::kTimespan;
      } else if (b.op == BinaryOp::kDiv && lt == VT::kTimespan && rt == VT::kTimespan) {
        e.type = VT::kDouble;
      } else {
        return mismatch("");
      }
      break;
    }
    default:  // string operators
      if (!StringLike(lt) || !StringLike(rt)) return mismatch("");
      break;
  }
  e.args.push_back(std::move(lhs));
  e.args.push_back(std::move(rhs));
  return e;
}

absl::StatusOr<BoundExpr> ExprBinder::BindCall(const Call& c, size_t pos,
                                               const BindScope& scope) const {
  const FnInfo* found = FindFunction(c.name);
  if (found == nullptr) {
    std::string message = absl::StrCat("unknown function '", c.name, "'");
    std::string hint = DidYouMean(c.name, FunctionNames());
    if (!hint.empty()) absl::StrAppend(&message, "; did you mean '", hint, "'?");
    return Error(pos, message);
  }
  const FnInfo& info = *found;
  if (info.aggregate) {
    return Error(pos, absl::StrCat(c.name, "() is an aggregate; use it in summarize"));
  }
  KQ_RETURN_IF_ERROR(CheckArity(c, info, pos));
  BoundExpr e;
  e.pos = pos;
  e.kind = K::kCall;
  e.fn = info.fn;
  for (const ExprPtr& a : c.args) {
    KQ_ASSIGN_OR_RETURN(BoundExpr arg, Bind(*a, scope));
    KQ_RETURN_IF_ERROR(RejectMulti(arg));
    e.args.push_back(std::move(arg));
  }
  auto want = [&](size_t i, bool ok, std::string_view what) -> absl::Status {
    if (ok) return absl::OkStatus();
    return Error(c.args[i]->pos, absl::StrCat("argument ", i + 1, " of ", c.name, "() must be ",
                                              Sv(what), ", not a ", Sv(TypeName(e.args[i].type))));
  };
  auto type = [&](size_t i) { return e.args[i].type; };
  using VT = ValueType;
  switch (info.fn) {
    case Fn::kAgo:
      KQ_RETURN_IF_ERROR(want(0, type(0) == VT::kTimespan || Dyn(type(0)), "a timespan"));
      e.type = VT::kDatetime;
      break;
    case Fn::kNow:
      e.type = VT::kDatetime;
      break;
    case Fn::kBin:
      if (type(0) == VT::kDatetime || type(0) == VT::kTimespan) {
        KQ_RETURN_IF_ERROR(want(1, type(1) == VT::kTimespan, "a timespan"));
      } else {
        KQ_RETURN_IF_ERROR(
            want(0, IsNumeric(type(0)) || Dyn(type(0)), "a datetime, timespan or number"));
        KQ_RETURN_IF_ERROR(want(1, IsNumeric(type(1)), "a number"));
      }
      e.type = Dyn(type(0)) ? VT::kDynamic : type(0);
      break;
    case Fn::kToLower:
    case Fn::kToUpper:
    case Fn::kUrlDecode:
      KQ_RETURN_IF_ERROR(want(0, StringLike(type(0)), "a string"));
      e.type = VT::kString;
      break;
    case Fn::kStrlen:
      KQ_RETURN_IF_ERROR(want(0, StringLike(type(0)), "a string"));
      e.type = VT::kInt;
      break;
    case Fn::kSplit:
      KQ_RETURN_IF_ERROR(want(0, StringLike(type(0)), "a string"));
      KQ_RETURN_IF_ERROR(want(1, StringLike(type(1)), "a string"));
      e.type = VT::kDynamic;
      break;
    case Fn::kExtract: {
      const BoundExpr& re = e.args[0];
      if (re.kind != K::kConst || !std::holds_alternative<std::string>(re.constant)) {
        return Error(c.args[0]->pos, "extract() needs a constant regex string first");
      }
      const BoundExpr& group = e.args[1];
      if (group.kind != K::kConst || !std::holds_alternative<int64_t>(group.constant) ||
          std::get<int64_t>(group.constant) < 0) {
        return Error(c.args[1]->pos, "extract() needs a constant capture group number");
      }
      KQ_RETURN_IF_ERROR(want(2, StringLike(type(2)), "a string"));
      auto compiled =
          std::make_shared<re2::RE2>(std::get<std::string>(re.constant), re2::RE2::Quiet);
      if (!compiled->ok()) {
        return Error(c.args[0]->pos,
                     absl::StrCat("invalid regular expression: ", compiled->error()));
      }
      if (std::get<int64_t>(group.constant) > compiled->NumberOfCapturingGroups()) {
        return Error(c.args[1]->pos,
                     absl::StrCat("the regex has only ", compiled->NumberOfCapturingGroups(),
                                  " capture group(s)"));
      }
      e.regex = std::move(compiled);
      e.type = VT::kString;
      break;
    }
    case Fn::kIsNull:
    case Fn::kIsNotNull:
    case Fn::kIsEmpty:
    case Fn::kIsNotEmpty:
      e.type = VT::kBool;
      break;
    case Fn::kToString:
    case Fn::kStrcat:
      e.type = VT::kString;
      break;
    case Fn::kToInt:
      e.type = VT::kInt;
      break;
    case Fn::kSubstring:
      KQ_RETURN_IF_ERROR(want(0, StringLike(type(0)), "a string"));
      for (size_t i = 1; i < e.args.size(); ++i) {
        KQ_RETURN_IF_ERROR(want(i, type(i) == VT::kInt || Dyn(type(i)), "an int"));
      }
      e.type = VT::kString;
      break;
    case Fn::kIff:
      KQ_RETURN_IF_ERROR(want(0, BoolLike(type(0)), "a bool"));
      e.type = type(1) == type(2) ? type(1) : VT::kDynamic;
      break;
    case Fn::kArrayLength:
      e.type = VT::kInt;
      break;
    default:
      break;
  }
  return e;
}

}  // namespace kq::query
