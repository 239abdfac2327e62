#include "query/eval.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/json_escape.h"
#include "common/time.h"
#include "query/value.h"

namespace kq::query {
namespace {

using K = BoundExpr::Kind;
using storage::Column;

using storage::IsIntColumn;
using storage::IsListColumn;

Value IntColumnValue(Column c, int64_t v) {
  if (c == Column::kCode) return v;
  return Datetime{v};
}

std::string JsonArray(const storage::ListColumn& l, size_t row) {
  std::string out = "[";
  for (uint32_t i = l.offsets[row]; i < l.offsets[row + 1]; ++i) {
    if (i > l.offsets[row]) out += ',';
    AppendJsonQuoted(l.dict[l.codes[i]], &out);
  }
  return out + "]";
}

// Whether `json` (a stored body: valid JSON, checked at ingest) surely has no member named like the
// path's last key: its quoted name is not in the text and the text has no escape that could spell
// it another way. Then the path reaches nothing and the parse is skipped.
bool KeyCannotOccur(std::string_view json, const std::vector<storage::PathStep>& path) {
  const storage::PathStep* last = nullptr;
  for (const storage::PathStep& step : path) {
    if (step.kind == storage::PathStep::Kind::kKey) last = &step;
  }
  if (last == nullptr || last->key.empty()) return false;
  for (char c : last->key) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  if (json.find('\\') != std::string_view::npos) return false;
  // Look for `key"` (memmem: quotes are too common in JSON to anchor a search on), then check
  // the quote before it.
  std::string needle = last->key + '"';
  const char* begin = json.data();
  const char* end = begin + json.size();
  for (const char* at = begin; at < end;) {
    const void* hit = memmem(at, static_cast<size_t>(end - at), needle.data(), needle.size());
    if (hit == nullptr) return true;
    const char* p = static_cast<const char*>(hit);
    if (p > begin && p[-1] == '"') return false;
    at = p + 1;
  }
  return true;
}

// Visits `path` in `json`, appending the values reached (all of them, or the first).
void VisitInto(std::string_view json, const std::vector<storage::PathStep>& path, bool all,
               bool to_datetime, EvalContext& ctx, std::vector<Value>* out) {
  if (json.empty()) return;
  absl::Status s = storage::VisitJsonPath(json, path, [&](const storage::JsonValue& j) {
    Value v = FromJson(j);
    if (to_datetime) {
      if (const auto* text = std::get_if<std::string>(&v)) {
        absl::StatusOr<TimeMicros> t = ParseTimestamp(*text);
        v = t.ok() ? Value(Datetime{*t}) : Value();
      }
    }
    out->push_back(std::move(v));
    return all;
  });
  if (!s.ok() && ctx.status.ok()) ctx.status = s;
}

const std::string& BatchPart(EvalContext& ctx, int part) {
  std::optional<std::string>& slot =
      part == 0 ? ctx.event_json : (part == 1 ? ctx.request_json : ctx.response_json);
  if (!slot) {
    absl::StatusOr<std::string> got = part == 0   ? ctx.batch->EventJson(ctx.row)
                                      : part == 1 ? ctx.batch->RequestObject(ctx.row)
                                                  : ctx.batch->ResponseObject(ctx.row);
    if (got.ok()) {
      slot = *std::move(got);
    } else {
      if (ctx.status.ok()) ctx.status = got.status();
      slot = std::string();
    }
  }
  return *slot;
}

// Values of a field (several when multi).
void FieldValues(const BoundExpr& e, EvalContext& ctx, std::vector<Value>* out) {
  switch (e.kind) {
    case K::kBatchColumn: {
      if (ctx.override_column && *ctx.override_column == e.column) {
        out->push_back(*ctx.override_value);
        return;
      }
      if (ctx.batch == nullptr) return out->push_back(Value());
      if (IsListColumn(e.column)) {
        const storage::ListColumn& l = ctx.batch->Lists(e.column);
        uint32_t begin = l.offsets[ctx.row], end = l.offsets[ctx.row + 1];
        if (e.multi) {
          for (uint32_t i = begin; i < end; ++i) out->push_back(std::string(l.dict[l.codes[i]]));
        } else if (e.list_index >= 0) {
          uint64_t at = begin + static_cast<uint64_t>(e.list_index);
          out->push_back(at < end ? Value(std::string(l.dict[l.codes[at]])) : Value());
        } else {
          out->push_back(Json{JsonArray(l, ctx.row)});
        }
        return;
      }
      out->push_back(ColumnValue(*ctx.batch, e.column, ctx.row));
      return;
    }
    case K::kEventPath: {
      std::string_view json;
      if (ctx.batch != nullptr) {
        json = BatchPart(ctx, 0);
      } else if (ctx.table_row != nullptr && e.index >= 0) {
        if (const auto* j = std::get_if<Json>(&(*ctx.table_row)[e.index])) json = j->text;
      }
      size_t before = out->size();
      VisitInto(json, e.path, e.multi, e.to_datetime, ctx, out);
      if (!e.multi && out->size() == before) out->push_back(Value());
      return;
    }
    case K::kBodyPath: {
      std::string_view json = ctx.batch ? std::string_view(BatchPart(ctx, e.body)) : "";
      size_t before = out->size();
      if (!KeyCannotOccur(json, e.path)) VisitInto(json, e.path, e.multi, false, ctx, out);
      if (!e.multi && out->size() == before) out->push_back(Value());
      return;
    }
    case K::kTableColumn:
    case K::kElement: {
      const Value* base = e.kind == K::kElement
                              ? ctx.element
                              : (ctx.table_row ? &(*ctx.table_row)[e.index] : nullptr);
      if (base == nullptr) return out->push_back(Value());
      if (e.path.empty()) return out->push_back(*base);
      size_t before = out->size();
      if (const auto* j = std::get_if<Json>(base))
        VisitInto(j->text, e.path, e.multi, false, ctx, out);
      if (!e.multi && out->size() == before) out->push_back(Value());
      return;
    }
    default:
      out->push_back(Eval(e, ctx));
  }
}

// Strings for the string operators: null reads as "", other scalars as their text.
std::string_view StrView(const Value& v, std::string& scratch) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* j = std::get_if<Json>(&v)) return j->text;
  scratch = ToText(v);
  return scratch;
}

// Null compares as "" against a string (absent string fields read as empty, as in KQL).
bool Compare(BinaryOp op, const Value& a0, const Value& b0) {
  static const Value kEmpty = std::string();
  const Value* a = &a0;
  const Value* b = &b0;
  if (IsNull(*a) && std::holds_alternative<std::string>(*b)) a = &kEmpty;
  if (IsNull(*b) && std::holds_alternative<std::string>(*a)) b = &kEmpty;
  std::string sa, sb;
  switch (op) {
    case BinaryOp::kEq:
      return ValuesEqual(*a, *b);
    case BinaryOp::kNe:
      return !IsNull(*a) && !IsNull(*b) && !ValuesEqual(*a, *b);
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe: {
      std::optional<int> c = CompareValues(*a, *b);
      if (!c) return false;
      return op == BinaryOp::kLt   ? *c < 0
             : op == BinaryOp::kLe ? *c <= 0
             : op == BinaryOp::kGt ? *c > 0
                                   : *c >= 0;
    }
    default:
      break;
  }
  std::string_view x = StrView(*a, sa), y = StrView(*b, sb);
  switch (op) {
    case BinaryOp::kEqCi:
      return StrEquals(x, y, true);
    case BinaryOp::kNeCi:
      return !StrEquals(x, y, true);
    case BinaryOp::kHas:
      return StrHas(x, y, true);
    case BinaryOp::kNotHas:
      return !StrHas(x, y, true);
    case BinaryOp::kHasCs:
      return StrHas(x, y, false);
    case BinaryOp::kNotHasCs:
      return !StrHas(x, y, false);
    case BinaryOp::kContains:
      return StrContains(x, y, true);
    case BinaryOp::kNotContains:
      return !StrContains(x, y, true);
    case BinaryOp::kContainsCs:
      return StrContains(x, y, false);
    case BinaryOp::kNotContainsCs:
      return !StrContains(x, y, false);
    case BinaryOp::kStartsWith:
      return StrStartsWith(x, y, true);
    case BinaryOp::kNotStartsWith:
      return !StrStartsWith(x, y, true);
    case BinaryOp::kStartsWithCs:
      return StrStartsWith(x, y, false);
    case BinaryOp::kNotStartsWithCs:
      return !StrStartsWith(x, y, false);
    case BinaryOp::kEndsWith:
      return StrEndsWith(x, y, true);
    case BinaryOp::kNotEndsWith:
      return !StrEndsWith(x, y, true);
    case BinaryOp::kEndsWithCs:
      return StrEndsWith(x, y, false);
    case BinaryOp::kNotEndsWithCs:
      return !StrEndsWith(x, y, false);
    default:
      return false;
  }
}

Value Arith(BinaryOp op, const Value& a, const Value& b) {
  if (IsNull(a) || IsNull(b)) return Value();
  const auto* ai = std::get_if<int64_t>(&a);
  const auto* bi = std::get_if<int64_t>(&b);
  if (ai && bi) {
    int64_t r = 0;
    switch (op) {
      case BinaryOp::kAdd:
        return __builtin_add_overflow(*ai, *bi, &r) ? Value() : Value(r);
      case BinaryOp::kSub:
        return __builtin_sub_overflow(*ai, *bi, &r) ? Value() : Value(r);
      case BinaryOp::kMul:
        return __builtin_mul_overflow(*ai, *bi, &r) ? Value() : Value(r);
      case BinaryOp::kDiv:
        return (*bi == 0 || (*ai == INT64_MIN && *bi == -1)) ? Value() : Value(*ai / *bi);
      default:
        return (*bi == 0 || (*ai == INT64_MIN && *bi == -1)) ? Value() : Value(*ai % *bi);
    }
  }
  auto num = [](const Value& v) -> std::optional<double> {
    if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    return std::nullopt;
  };
  std::optional<double> x = num(a), y = num(b);
  if (x && y) {
    switch (op) {
      case BinaryOp::kAdd:
        return *x + *y;
      case BinaryOp::kSub:
        return *x - *y;
      case BinaryOp::kMul:
        return *x * *y;
      case BinaryOp::kDiv:
        return *y == 0 ? Value() : Value(*x / *y);
      default:
        return *y == 0 ? Value() : Value(std::fmod(*x, *y));
    }
  }
  const auto* ad = std::get_if<Datetime>(&a);
  const auto* bd = std::get_if<Datetime>(&b);
  const auto* at = std::get_if<Timespan>(&a);
  const auto* bt = std::get_if<Timespan>(&b);
  int64_t r = 0;
  auto add = [&](int64_t x, int64_t y) { return !__builtin_add_overflow(x, y, &r); };
  auto sub = [&](int64_t x, int64_t y) { return !__builtin_sub_overflow(x, y, &r); };
  if (ad && bt && op == BinaryOp::kAdd)
    return add(ad->micros, bt->micros) ? Value(Datetime{r}) : Value();
  if (ad && bt && op == BinaryOp::kSub)
    return sub(ad->micros, bt->micros) ? Value(Datetime{r}) : Value();
  if (at && bd && op == BinaryOp::kAdd)
    return add(at->micros, bd->micros) ? Value(Datetime{r}) : Value();
  if (ad && bd && op == BinaryOp::kSub)
    return sub(ad->micros, bd->micros) ? Value(Timespan{r}) : Value();
  if (at && bt && op == BinaryOp::kAdd)
    return add(at->micros, bt->micros) ? Value(Timespan{r}) : Value();
  if (at && bt && op == BinaryOp::kSub)
    return sub(at->micros, bt->micros) ? Value(Timespan{r}) : Value();
  if (at && bt && op == BinaryOp::kDiv) {
    return bt->micros == 0 ? Value() : Value(static_cast<double>(at->micros) / bt->micros);
  }
  if (at && y && (op == BinaryOp::kMul || op == BinaryOp::kDiv)) {
    if (op == BinaryOp::kDiv && *y == 0) return Value();
    double d = op == BinaryOp::kMul ? at->micros * *y : at->micros / *y;
    if (!(std::fabs(d) < 9.2e18)) return Value();
    return Timespan{static_cast<int64_t>(d)};
  }
  return Value();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += '%';
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

Value CallFn(const BoundExpr& e, EvalContext& ctx) {
  std::vector<Value> a;
  a.reserve(e.args.size());
  for (const BoundExpr& arg : e.args) a.push_back(Eval(arg, ctx));
  std::string scratch;
  switch (e.fn) {
    case Fn::kNow:
      return Datetime{ctx.now};
    case Fn::kAgo: {
      const auto* t = std::get_if<Timespan>(&a[0]);
      int64_t r = 0;
      if (t == nullptr || __builtin_sub_overflow(ctx.now, t->micros, &r)) return Value();
      return Datetime{r};
    }
    case Fn::kBin: {
      if (const auto* d = std::get_if<Datetime>(&a[0])) {
        const auto* s = std::get_if<Timespan>(&a[1]);
        if (!s || s->micros <= 0) return Value();
        return Datetime{FloorDiv(d->micros, s->micros) * s->micros};
      }
      if (const auto* t = std::get_if<Timespan>(&a[0])) {
        const auto* s = std::get_if<Timespan>(&a[1]);
        if (!s || s->micros <= 0) return Value();
        return Timespan{FloorDiv(t->micros, s->micros) * s->micros};
      }
      const auto* i = std::get_if<int64_t>(&a[0]);
      const auto* si = std::get_if<int64_t>(&a[1]);
      if (i && si) return *si <= 0 ? Value() : Value(FloorDiv(*i, *si) * *si);
      std::optional<double> x, y;
      if (i) x = static_cast<double>(*i);
      if (const auto* d = std::get_if<double>(&a[0])) x = *d;
      if (si) y = static_cast<double>(*si);
      if (const auto* d = std::get_if<double>(&a[1])) y = *d;
      if (!x || !y || *y <= 0) return Value();
      return std::floor(*x / *y) * *y;
    }
    case Fn::kToLower:
      return IsNull(a[0]) ? Value() : Value(AsciiLower(StrView(a[0], scratch)));
    case Fn::kToUpper:
      return IsNull(a[0]) ? Value() : Value(AsciiUpper(StrView(a[0], scratch)));
    case Fn::kUrlDecode:
      return IsNull(a[0]) ? Value() : Value(UrlDecode(StrView(a[0], scratch)));
    case Fn::kStrlen: {
      if (IsNull(a[0])) return Value();
      int64_t n = 0;
      for (char c : StrView(a[0], scratch)) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      return n;
    }
    case Fn::kSplit: {
      if (IsNull(a[0]) || IsNull(a[1])) return Value();
      std::string s(StrView(a[0], scratch)), scratch2;
      std::string_view d = StrView(a[1], scratch2);
      if (d.empty()) return Value();
      std::string out = "[";
      size_t start = 0;
      while (true) {
        size_t at = s.find(d, start);
        if (start > 0) out += ',';
        AppendJsonQuoted(std::string_view(s).substr(
                             start, at == std::string::npos ? std::string::npos : at - start),
                         &out);
        if (at == std::string::npos) break;
        start = at + d.size();
      }
      return Json{out + "]"};
    }
    case Fn::kExtract: {
      if (IsNull(a[2])) return Value();
      int group = static_cast<int>(std::get<int64_t>(a[1]));
      std::string_view text = StrView(a[2], scratch);
      std::vector<re2::StringPiece> groups(group + 1);
      if (!e.regex->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                          re2::RE2::UNANCHORED, groups.data(), group + 1)) {
        return std::string();
      }
      return std::string(groups[group].data(), groups[group].size());
    }
    case Fn::kIsNull:
      return IsNull(a[0]);
    case Fn::kIsNotNull:
      return !IsNull(a[0]);
    case Fn::kIsEmpty:
    case Fn::kIsNotEmpty: {
      bool empty = IsNull(a[0]) || (std::holds_alternative<std::string>(a[0]) &&
                                    std::get<std::string>(a[0]).empty());
      return e.fn == Fn::kIsEmpty ? empty : !empty;
    }
    case Fn::kToString:
      return ToText(a[0]);
    case Fn::kToInt: {
      if (const auto* i = std::get_if<int64_t>(&a[0])) return *i;
      if (const auto* d = std::get_if<double>(&a[0])) {
        return std::isfinite(*d) && std::fabs(*d) < 9.2e18 ? Value(static_cast<int64_t>(*d))
                                                           : Value();
      }
      if (const auto* b = std::get_if<bool>(&a[0])) return static_cast<int64_t>(*b);
      if (const auto* s = std::get_if<std::string>(&a[0])) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
        if (ec == std::errc() && p == s->data() + s->size()) return v;
      }
      return Value();
    }
    case Fn::kStrcat: {
      std::string out;
      for (const Value& v : a) out += ToText(v);
      return out;
    }
    case Fn::kSubstring: {
      if (IsNull(a[0])) return Value();
      std::string_view s = StrView(a[0], scratch);
      const auto* start = std::get_if<int64_t>(&a[1]);
      if (!start) return Value();
      int64_t from = std::clamp<int64_t>(*start, 0, s.size());
      int64_t len = static_cast<int64_t>(s.size()) - from;
      if (a.size() == 3) {
        const auto* l = std::get_if<int64_t>(&a[2]);
        if (!l) return Value();
        len = std::clamp<int64_t>(*l, 0, len);
      }
      return std::string(s.substr(from, len));
    }
    case Fn::kIff: {
      const auto* c = std::get_if<bool>(&a[0]);
      return (c && *c) ? a[1] : a[2];
    }
    case Fn::kArrayLength: {
      const auto* j = std::get_if<Json>(&a[0]);
      if (!j || j->text.empty() || j->text[0] != '[') return Value();
      int64_t n = 0;
      storage::PathStep each;
      each.kind = storage::PathStep::Kind::kEach;
      std::vector<storage::PathStep> path = {each};
      absl::Status s = storage::VisitJsonPath(j->text, path, [&](const storage::JsonValue&) {
        ++n;
        return true;
      });
      return s.ok() ? Value(n) : Value();
    }
    default:
      return Value();
  }
}

bool EvalPredicateNode(const BoundExpr& e, EvalContext& ctx) {
  switch (e.kind) {
    case K::kBinary: {
      if (e.op == BinaryOp::kAnd) return EvalBool(e.args[0], ctx) && EvalBool(e.args[1], ctx);
      if (e.op == BinaryOp::kOr) return EvalBool(e.args[0], ctx) || EvalBool(e.args[1], ctx);
      std::vector<Value> lhs, rhs;
      EvalAll(e.args[0], ctx, &lhs);
      EvalAll(e.args[1], ctx, &rhs);
      for (const Value& l : lhs) {
        if (e.op == BinaryOp::kMatchesRegex) {
          if (IsNull(l)) continue;
          std::string scratch;
          std::string_view s = StrView(l, scratch);
          if (re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *e.regex)) return true;
          continue;
        }
        for (const Value& r : rhs) {
          if (Compare(e.op, l, r)) return true;
        }
      }
      return false;
    }
    case K::kIn: {
      std::vector<Value> lhs;
      EvalAll(e.args[0], ctx, &lhs);
      for (const Value& l : lhs) {
        bool found = false;
        for (size_t i = 1; i < e.args.size() && !found; ++i) {
          Value item = Eval(e.args[i], ctx);
          found = Compare(e.case_insensitive ? BinaryOp::kEqCi : BinaryOp::kEq, l, item);
        }
        if (found != e.negated) return true;
      }
      return false;
    }
    case K::kBetween: {
      std::vector<Value> lhs;
      EvalAll(e.args[0], ctx, &lhs);
      Value lo = Eval(e.args[1], ctx), hi = Eval(e.args[2], ctx);
      for (const Value& l : lhs) {
        std::optional<int> a = CompareValues(l, lo), b = CompareValues(l, hi);
        if (!a || !b) continue;
        bool inside = *a >= 0 && *b <= 0;
        if (inside != e.negated) return true;
      }
      return false;
    }
    case K::kAny: {
      std::vector<Value> elements;
      EvalAll(e.args[0], ctx, &elements);
      const Value* saved = ctx.element;
      bool found = false;
      for (const Value& el : elements) {
        ctx.element = &el;
        if (EvalBool(e.args[1], ctx)) {
          found = true;
          break;
        }
      }
      ctx.element = saved;
      return found;
    }
    default:
      return false;
  }
}

}  // namespace

const std::string& EventJsonOf(EvalContext& ctx) { return BatchPart(ctx, 0); }

Value ColumnValue(const storage::EventBatch& batch, Column c, size_t row) {
  if (IsIntColumn(c)) {
    const storage::IntColumn& col = batch.Ints(c);
    if (!col.present[row]) return Value();
    return IntColumnValue(c, col.values[row]);
  }
  if (IsListColumn(c)) return Json{JsonArray(batch.Lists(c), row)};
  const storage::StringColumn& col = batch.Strings(c);
  uint32_t code = col.codes[row];
  if (code == storage::kNullCode) return Value();
  return std::string(col.dict[code]);
}

Value Eval(const BoundExpr& e, EvalContext& ctx) {
  switch (e.kind) {
    case K::kConst:
      return e.constant;
    case K::kBatchColumn:
    case K::kEventPath:
    case K::kBodyPath:
    case K::kTableColumn:
    case K::kElement: {
      std::vector<Value> values;
      FieldValues(e, ctx, &values);
      return values.empty() ? Value() : std::move(values.front());
    }
    case K::kCall:
      return CallFn(e, ctx);
    case K::kNot:
      return !EvalBool(e.args[0], ctx);
    case K::kNegate: {
      Value v = Eval(e.args[0], ctx);
      if (const auto* i = std::get_if<int64_t>(&v)) return *i == INT64_MIN ? Value() : Value(-*i);
      if (const auto* d = std::get_if<double>(&v)) return -*d;
      if (const auto* t = std::get_if<Timespan>(&v)) return Timespan{-t->micros};
      return Value();
    }
    case K::kBinary:
      if (e.op >= BinaryOp::kAdd) return Arith(e.op, Eval(e.args[0], ctx), Eval(e.args[1], ctx));
      return EvalPredicateNode(e, ctx);
    default:
      return EvalPredicateNode(e, ctx);
  }
}

void EvalAll(const BoundExpr& e, EvalContext& ctx, std::vector<Value>* out) {
  if (e.multi) return FieldValues(e, ctx, out);
  out->push_back(Eval(e, ctx));
}

bool EvalBool(const BoundExpr& e, EvalContext& ctx) {
  if (e.kind == K::kBinary && e.op < BinaryOp::kAdd) return EvalPredicateNode(e, ctx);
  if (e.kind == K::kIn || e.kind == K::kBetween || e.kind == K::kAny) {
    return EvalPredicateNode(e, ctx);
  }
  if (e.kind == K::kNot) return !EvalBool(e.args[0], ctx);
  Value v = Eval(e, ctx);
  const auto* b = std::get_if<bool>(&v);
  return b != nullptr && *b;
}

}  // namespace kq::query
