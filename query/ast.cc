#include "query/ast.h"

#include <array>
#include <cstdio>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "common/time.h"

namespace kq::query {
namespace {

constexpr std::array<std::string_view, 19> kReserved = {
    "and",         "or",      "not",      "true",        "false",      "between",       "in",
    "has",         "has_cs",  "contains", "contains_cs", "startswith", "startswith_cs", "endswith",
    "endswith_cs", "matches", "by",       "asc",         "desc"};

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string FormatDouble(double d) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s.append(".0");
  return s;
}

std::string PathToString(const FieldRef& f) {
  std::string out = f.element ? "$" : "";
  for (size_t i = 0; i < f.path.size(); ++i) {
    const PathElem& p = f.path[i];
    switch (p.kind) {
      case PathElem::Kind::kKey:
        if (i == 0 && !f.element && IsPlainIdentifier(p.key)) {
          out += p.key;
        } else if (i > 0 || f.element) {
          bool plain = !p.key.empty() && IsPlainIdentifier(p.key);
          // After a dot any identifier (even a reserved word) is a key.
          if (!plain && !p.key.empty()) {
            plain = true;
            for (size_t j = 0; j < p.key.size(); ++j) {
              char c = p.key[j];
              bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (j > 0 && c >= '0' && c <= '9');
              plain = plain && ok;
            }
          }
          out += plain ? absl::StrCat(".", p.key) : absl::StrCat("[", QuoteString(p.key), "]");
        } else {
          absl::StrAppend(&out, "[", QuoteString(p.key), "]");
        }
        break;
      case PathElem::Kind::kIndex:
        absl::StrAppend(&out, "[", p.index, "]");
        break;
      case PathElem::Kind::kEach:
        out += "[*]";
        break;
    }
  }
  return out;
}

std::string LiteralToString(const Value& v) {
  return std::visit(
      Overloaded{
          [](std::monostate) -> std::string { return "null"; },
          [](bool b) -> std::string { return b ? "true" : "false"; },
          [](int64_t i) { return std::to_string(i); },
          [](double d) { return FormatDouble(d); },
          [](const std::string& s) { return QuoteString(s); },
          [](Datetime t) { return absl::StrCat("datetime(", FormatTimestamp(t.micros), ")"); },
          [](Timespan t) { return FormatTimespanLiteral(t.micros); },
          [](const Json& j) { return absl::StrCat("dynamic(", j.text, ")"); },
      },
      v);
}

std::string LiteralDebug(const Value& v) {
  return std::visit(Overloaded{
                        [](std::monostate) -> std::string { return "null"; },
                        [](bool b) -> std::string { return b ? "bool:true" : "bool:false"; },
                        [](int64_t i) { return absl::StrCat("int:", i); },
                        [](double d) { return absl::StrCat("real:", FormatDouble(d)); },
                        [](const std::string& s) { return absl::StrCat("str:", QuoteString(s)); },
                        [](Datetime t) { return absl::StrCat("dt:", FormatTimestamp(t.micros)); },
                        [](Timespan t) { return absl::StrCat("ts:", t.micros, "us"); },
                        [](const Json& j) { return absl::StrCat("json:", j.text); },
                    },
                    v);
}

std::string InOpText(const InList& in) {
  std::string s = in.negated ? "!in" : "in";
  if (in.case_insensitive) s += "~";
  return s;
}

std::string Print(const Expr& e, bool debug);

std::string Join(const std::vector<ExprPtr>& args, bool debug, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += sep;
    out += Print(*args[i], debug);
  }
  return out;
}

std::string Print(const Expr& e, bool debug) {
  using absl::StrCat;
  return std::visit(
      Overloaded{
          [&](const Literal& l) {
            return debug ? LiteralDebug(l.value) : LiteralToString(l.value);
          },
          [&](const FieldRef& f) {
            return debug ? StrCat("field:", PathToString(f)) : PathToString(f);
          },
          [&](const Call& c) {
            if (debug) {
              return StrCat("(call ", c.name, c.args.empty() ? "" : " ", Join(c.args, true, " "),
                            ")");
            }
            return StrCat(c.name, "(", Join(c.args, false, ", "), ")");
          },
          [&](const Not& n) { return StrCat("(not ", Print(*n.operand, debug), ")"); },
          [&](const Negate& n) {
            return StrCat(debug ? "(neg " : "(-", Print(*n.operand, debug), ")");
          },
          [&](const Binary& b) {
            std::string_view op = BinaryOpText(b.op);
            if (debug) {
              return StrCat("(", Sv(op), " ", Print(*b.lhs, true), " ", Print(*b.rhs, true), ")");
            }
            return StrCat("(", Print(*b.lhs, false), " ", Sv(op), " ", Print(*b.rhs, false), ")");
          },
          [&](const InList& in) {
            if (debug) {
              return StrCat("(", InOpText(in), " ", Print(*in.lhs, true), " ",
                            Join(in.items, true, " "), ")");
            }
            return StrCat("(", Print(*in.lhs, false), " ", InOpText(in), " (",
                          Join(in.items, false, ", "), "))");
          },
          [&](const Between& b) {
            const char* op = b.negated ? "!between" : "between";
            if (debug) {
              return StrCat("(", op, " ", Print(*b.lhs, true), " ", Print(*b.low, true), " ",
                            Print(*b.high, true), ")");
            }
            return StrCat("(", Print(*b.lhs, false), " ", op, " (", Print(*b.low, false), " .. ",
                          Print(*b.high, false), "))");
          },
          [&](const AnyMatch& a) {
            if (debug) {
              return StrCat("(any field:", PathToString(a.array), " ", Print(*a.predicate, true),
                            ")");
            }
            return StrCat("any(", PathToString(a.array), ", ", Print(*a.predicate, false), ")");
          },
      },
      e.node);
}

std::string NamedList(const std::vector<NamedExpr>& items, bool debug) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += debug ? " " : ", ";
    if (debug) {
      absl::StrAppend(&out, "(", items[i].name.empty() ? "_" : items[i].name, " ",
                      Print(*items[i].expr, true), ")");
    } else {
      if (!items[i].name.empty()) absl::StrAppend(&out, items[i].name, " = ");
      out += Print(*items[i].expr, false);
    }
  }
  return out;
}

std::string SortList(const std::vector<SortKey>& keys, bool debug) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += debug ? " " : ", ";
    const char* dir = keys[i].descending ? " desc" : " asc";
    if (debug) {
      absl::StrAppend(&out, "(", Print(*keys[i].expr, true), dir, ")");
    } else {
      absl::StrAppend(&out, Print(*keys[i].expr, false), dir);
    }
  }
  return out;
}

std::string PrintOperator(const Operator& op, bool debug) {
  using absl::StrCat;
  return std::visit(
      Overloaded{
          [&](const Where& w) { return StrCat("where ", Print(*w.predicate, debug)); },
          [&](const Project& p) { return StrCat("project ", NamedList(p.items, debug)); },
          [&](const ProjectAway& p) {
            std::string out = "project-away ";
            for (size_t i = 0; i < p.names.size(); ++i) {
              if (i > 0) out += debug ? " " : ", ";
              out += IsPlainIdentifier(p.names[i]) ? p.names[i]
                                                   : StrCat("[", QuoteString(p.names[i]), "]");
            }
            return out;
          },
          [&](const Extend& e) { return StrCat("extend ", NamedList(e.items, debug)); },
          [&](const Summarize& s) {
            std::string out = "summarize";
            if (!s.aggregates.empty()) absl::StrAppend(&out, " ", NamedList(s.aggregates, debug));
            if (!s.by.empty()) absl::StrAppend(&out, " by ", NamedList(s.by, debug));
            return out;
          },
          [&](const Sort& s) { return StrCat("sort by ", SortList(s.keys, debug)); },
          [&](const Take& t) { return StrCat("take ", t.count); },
          [&](const Top& t) { return StrCat("top ", t.count, " by ", SortList(t.keys, debug)); },
          [&](const Distinct& d) { return StrCat("distinct ", NamedList(d.items, debug)); },
          [&](const Count&) { return std::string("count"); },
          [&](const DedupBy& d) {
            return StrCat("dedup by ", Join(d.keys, debug, debug ? " " : ", "));
          },
      },
      op.node);
}

std::string PrintQuery(const Query& q, bool debug) {
  std::string out = q.archive ? "archive" : "events";
  if (!q.env.empty()) absl::StrAppend(&out, "(", QuoteString(q.env), ")");
  for (const Operator& op : q.ops) {
    out += debug ? "\n| " : " | ";
    out += PrintOperator(op, debug);
  }
  return out;
}

}  // namespace

std::string_view BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kEqCi:
      return "=~";
    case BinaryOp::kNeCi:
      return "!~";
    case BinaryOp::kHas:
      return "has";
    case BinaryOp::kNotHas:
      return "!has";
    case BinaryOp::kHasCs:
      return "has_cs";
    case BinaryOp::kNotHasCs:
      return "!has_cs";
    case BinaryOp::kContains:
      return "contains";
    case BinaryOp::kNotContains:
      return "!contains";
    case BinaryOp::kContainsCs:
      return "contains_cs";
    case BinaryOp::kNotContainsCs:
      return "!contains_cs";
    case BinaryOp::kStartsWith:
      return "startswith";
    case BinaryOp::kNotStartsWith:
      return "!startswith";
    case BinaryOp::kStartsWithCs:
      return "startswith_cs";
    case BinaryOp::kNotStartsWithCs:
      return "!startswith_cs";
    case BinaryOp::kEndsWith:
      return "endswith";
    case BinaryOp::kNotEndsWith:
      return "!endswith";
    case BinaryOp::kEndsWithCs:
      return "endswith_cs";
    case BinaryOp::kNotEndsWithCs:
      return "!endswith_cs";
    case BinaryOp::kMatchesRegex:
      return "matches regex";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
  }
  return "?";
}

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  for (std::string_view r : kReserved) {
    if (s == r) return false;
  }
  return true;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string FormatTimespanLiteral(int64_t micros) {
  if (micros == 0) return "0s";
  std::string sign = micros < 0 ? "-" : "";
  uint64_t m = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  struct Unit {
    uint64_t micros;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86'400'000'000ull, "d"}, {3'600'000'000ull, "h"},
                                    {60'000'000ull, "m"},     {1'000'000ull, "s"},
                                    {1'000ull, "ms"},         {1ull, "us"}};
  for (const Unit& u : kUnits) {
    if (m % u.micros == 0) return sign + std::to_string(m / u.micros) + u.name;
  }
  return sign + std::to_string(m) + "us";
}

std::string ToString(const Expr& e) { return Print(e, false); }
std::string ToString(const Query& q) { return PrintQuery(q, false); }
std::string DebugString(const Expr& e) { return Print(e, true); }
std::string DebugString(const Query& q) { return PrintQuery(q, true); }

}  // namespace kq::query
