#include "query/parser.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "query/grammar.h"

namespace kq::query {
namespace {

namespace p = tao::pegtl;
namespace g = grammar;
using Node = p::parse_tree::node;

// What a must<Rule> that failed expected, for the error message.
template <typename Rule>
inline constexpr const char* kExpected = nullptr;
template <>
inline constexpr const char* kExpected<g::source> = "'events' (a query starts with its source)";
template <>
inline constexpr const char* kExpected<g::operator_> =
    "an operator (where, project, project-away, extend, summarize, sort, take, limit, top, "
    "distinct, count, dedup)";
template <>
inline constexpr const char* kExpected<g::end_of_query> =
    "'|' and an operator, or the end of the query";
template <>
inline constexpr const char* kExpected<g::expr> = "an expression";
template <>
inline constexpr const char* kExpected<g::additive> = "an expression";
template <>
inline constexpr const char* kExpected<g::multiplicative> = "an expression";
template <>
inline constexpr const char* kExpected<g::unary> = "an expression";
template <>
inline constexpr const char* kExpected<g::not_expr> = "an expression";
template <>
inline constexpr const char* kExpected<g::and_expr> = "an expression";
template <>
inline constexpr const char* kExpected<g::named_expr> = "an expression";
template <>
inline constexpr const char* kExpected<g::comma_list<g::named_expr>> = "an expression";
template <>
inline constexpr const char* kExpected<g::comma_list<g::expr>> = "an expression";
template <>
inline constexpr const char* kExpected<g::comma_list<g::column_name>> = "a column name";
template <>
inline constexpr const char* kExpected<g::column_name> = "a column name";
template <>
inline constexpr const char* kExpected<g::comma_list<g::sort_item>> = "an expression to sort by";
template <>
inline constexpr const char* kExpected<g::sort_item> = "an expression to sort by";
template <>
inline constexpr const char* kExpected<g::summarize_body> = "an aggregate such as count(), or 'by'";
template <>
inline constexpr const char* kExpected<g::kw_by> = "'by'";
template <>
inline constexpr const char* kExpected<g::count_arg> = "a row count (an integer)";
template <>
inline constexpr const char* kExpected<g::env_name> =
    "an environment name in quotes, e.g. events(\"dev\")";
template <>
inline constexpr const char* kExpected<p::one<')'>> = "')'";
template <>
inline constexpr const char* kExpected<p::one<'('>> = "'('";
template <>
inline constexpr const char* kExpected<p::one<']'>> = "']'";
template <>
inline constexpr const char* kExpected<g::range_sep> = "'..' (as in between (1 .. 5))";
template <>
inline constexpr const char* kExpected<g::kw_regex> = "'regex' (as in: matches regex \"...\")";
template <>
inline constexpr const char* kExpected<g::ident> = "a field name after '.'";
template <>
inline constexpr const char* kExpected<p::sor<g::step_each, g::step_index, g::step_string>> =
    "'*', an array index or a quoted key inside [ ]";
template <>
inline constexpr const char* kExpected<p::sor<g::string_lit, g::datetime_text>> =
    "a timestamp such as 2026-11-01T00:00:00Z";

template <typename Rule>
struct ErrorControl : p::normal<Rule> {
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, States&&...) {
    const char* what = kExpected<Rule>;
    throw p::parse_error(what != nullptr ? std::string("expected ") + what : "unexpected input",
                         in);
  }
};

template <typename Rule>
using Selector = p::parse_tree::selector<
    Rule,
    p::parse_tree::store_content::on<
        g::string_lit, g::verbatim_lit, g::timespan_lit, g::float_lit, g::int_lit, g::datetime_text,
        g::datetime_lit, g::kw_true, g::kw_false, g::elem_ref, g::root_name, g::step_key,
        g::step_each, g::step_index, g::step_string, g::field, g::fn_name, g::call, g::neg_op,
        g::mul_op, g::add_op, g::cmp_op, g::in_op, g::in_tail, g::between_op, g::between_tail,
        g::kw_not, g::assign_name, g::named_expr, g::sort_item, g::kw_asc, g::kw_desc,
        g::column_name, g::op_where, g::op_project_away, g::op_project, g::op_extend, g::by_clause,
        g::aggregates, g::op_summarize, g::op_sort, g::count_arg, g::op_take, g::op_top,
        g::op_distinct, g::op_count, g::op_dedup, g::env_name, g::source_archive, g::query>,
    p::parse_tree::fold_one::on<g::unary, g::multiplicative, g::additive, g::comparison,
                                g::not_expr, g::and_expr, g::or_expr>>;

// Deepest nesting of ( and [ outside string literals; checked before PEGTL recurses.
int MaxNesting(std::string_view text) {
  int depth = 0, max_depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < text.size()) {
        ++i;
      } else if (c == quote || c == '\n') {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ')' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// Whether a quote at `offset` starts a string that does not end on its line.
bool IsUnterminatedString(std::string_view text, size_t offset) {
  if (offset >= text.size() || (text[offset] != '"' && text[offset] != '\'')) return false;
  char quote = text[offset];
  for (size_t i = offset + 1; i < text.size() && text[i] != '\n'; ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> Unescape(std::string_view quoted) {
  std::string out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = quoted[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'u': {
        unsigned cp = 0;
        std::from_chars(quoted.data() + i + 1, quoted.data() + i + 5, cp, 16);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        out += e;  // " ' \ /
    }
  }
  return out;
}

std::optional<BinaryOp> CmpOp(std::string_view s) {
  static const std::pair<std::string_view, BinaryOp> kOps[] = {
      {"==", BinaryOp::kEq},
      {"!=", BinaryOp::kNe},
      {"<", BinaryOp::kLt},
      {"<=", BinaryOp::kLe},
      {">", BinaryOp::kGt},
      {">=", BinaryOp::kGe},
      {"=~", BinaryOp::kEqCi},
      {"!~", BinaryOp::kNeCi},
      {"has", BinaryOp::kHas},
      {"!has", BinaryOp::kNotHas},
      {"has_cs", BinaryOp::kHasCs},
      {"!has_cs", BinaryOp::kNotHasCs},
      {"contains", BinaryOp::kContains},
      {"!contains", BinaryOp::kNotContains},
      {"contains_cs", BinaryOp::kContainsCs},
      {"!contains_cs", BinaryOp::kNotContainsCs},
      {"startswith", BinaryOp::kStartsWith},
      {"!startswith", BinaryOp::kNotStartsWith},
      {"startswith_cs", BinaryOp::kStartsWithCs},
      {"!startswith_cs", BinaryOp::kNotStartsWithCs},
      {"endswith", BinaryOp::kEndsWith},
      {"!endswith", BinaryOp::kNotEndsWith},
      {"endswith_cs", BinaryOp::kEndsWithCs},
      {"!endswith_cs", BinaryOp::kNotEndsWithCs},
  };
  if (s.starts_with("matches")) return BinaryOp::kMatchesRegex;
  for (const auto& [text, op] : kOps) {
    if (s == text) return op;
  }
  return std::nullopt;
}

// Turns the parse tree into the AST.
class Converter {
 public:
  Converter(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  absl::StatusOr<Query> ConvertQuery(const Node& root) {
    Query q;
    for (const auto& child : root.children) {
      const Node& n = *child;
      if (n.is_type<g::env_name>()) {
        KQ_ASSIGN_OR_RETURN(q.env, StringValue(n));
        continue;
      }
      if (n.is_type<g::source_archive>()) {
        q.archive = true;
        continue;
      }
      Operator op;
      op.pos = Pos(n);
      KQ_ASSIGN_OR_RETURN(op.node, ConvertOperator(n));
      q.ops.push_back(std::move(op));
    }
    return q;
  }

 private:
  size_t Pos(const Node& n) const { return n.begin().byte; }
  absl::Status Error(const Node& n, std::string_view message) const {
    return ErrorAt(text_, Pos(n), message);
  }

  absl::StatusOr<decltype(Operator::node)> ConvertOperator(const Node& n) {
    if (n.is_type<g::op_where>()) {
      KQ_ASSIGN_OR_RETURN(ExprPtr e, ConvertExpr(*n.children.at(0)));
      return Where{std::move(e)};
    }
    if (n.is_type<g::op_project>()) {
      Project p;
      KQ_ASSIGN_OR_RETURN(p.items, NamedList(n.children));
      return p;
    }
    if (n.is_type<g::op_extend>()) {
      Extend e;
      KQ_ASSIGN_OR_RETURN(e.items, NamedList(n.children));
      return e;
    }
    if (n.is_type<g::op_distinct>()) {
      Distinct d;
      KQ_ASSIGN_OR_RETURN(d.items, NamedList(n.children));
      return d;
    }
    if (n.is_type<g::op_project_away>()) {
      ProjectAway pa;
      for (const auto& c : n.children) {
        if (c->children.empty()) {
          pa.names.push_back(c->string());
        } else {
          KQ_ASSIGN_OR_RETURN(std::string name, StringValue(*c->children.front()));
          pa.names.push_back(std::move(name));
        }
      }
      return pa;
    }
    if (n.is_type<g::op_summarize>()) {
      Summarize s;
      for (const auto& c : n.children) {
        if (c->is_type<g::aggregates>()) {
          KQ_ASSIGN_OR_RETURN(s.aggregates, NamedList(c->children));
        } else {
          KQ_ASSIGN_OR_RETURN(s.by, NamedList(c->children));
        }
      }
      return s;
    }
    if (n.is_type<g::op_sort>()) {
      Sort s;
      KQ_ASSIGN_OR_RETURN(s.keys, SortKeys(n.children, 0));
      return s;
    }
    if (n.is_type<g::op_take>()) {
      KQ_ASSIGN_OR_RETURN(uint64_t count, CountArg(*n.children.at(0)));
      return Take{count};
    }
    if (n.is_type<g::op_top>()) {
      Top t;
      KQ_ASSIGN_OR_RETURN(t.count, CountArg(*n.children.at(0)));
      KQ_ASSIGN_OR_RETURN(t.keys, SortKeys(n.children, 1));
      return t;
    }
    if (n.is_type<g::op_count>()) return Count{};
    if (n.is_type<g::op_dedup>()) {
      DedupBy d;
      for (const auto& c : n.children) {
        KQ_ASSIGN_OR_RETURN(ExprPtr e, ConvertExpr(*c));
        d.keys.push_back(std::move(e));
      }
      return d;
    }
    return Error(n, "internal error: unknown operator node");
  }

  absl::StatusOr<uint64_t> CountArg(const Node& n) {
    uint64_t v = 0;
    std::string_view s = n.string_view();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v > uint64_t{INT64_MAX}) {
      return Error(n, "row count out of range");
    }
    return v;
  }

  absl::StatusOr<std::vector<NamedExpr>> NamedList(
      const std::vector<std::unique_ptr<Node>>& nodes) {
    std::vector<NamedExpr> out;
    for (const auto& c : nodes) {
      NamedExpr ne;
      const Node* e = c->children.back().get();
      if (c->children.size() == 2) ne.name = c->children.front()->string();
      KQ_ASSIGN_OR_RETURN(ne.expr, ConvertExpr(*e));
      out.push_back(std::move(ne));
    }
    return out;
  }

  absl::StatusOr<std::vector<SortKey>> SortKeys(const std::vector<std::unique_ptr<Node>>& nodes,
                                                size_t first) {
    std::vector<SortKey> out;
    for (size_t i = first; i < nodes.size(); ++i) {
      const Node& item = *nodes[i];
      SortKey k;
      KQ_ASSIGN_OR_RETURN(k.expr, ConvertExpr(*item.children.front()));
      if (item.children.size() == 2) k.descending = item.children.back()->is_type<g::kw_desc>();
      out.push_back(std::move(k));
    }
    return out;
  }

  absl::StatusOr<std::string> StringValue(const Node& n) {
    std::string_view s = n.string_view();
    if (n.is_type<g::verbatim_lit>()) return std::string(s.substr(2, s.size() - 3));
    std::optional<std::string> v = Unescape(s);
    if (!v) return Error(n, "invalid \\u escape (a surrogate) in string");
    return *std::move(v);
  }

  template <typename T>
  absl::StatusOr<ExprPtr> Make(const Node& n, T node, std::initializer_list<const Expr*> kids) {
    auto e = std::make_unique<Expr>();
    e->pos = Pos(n);
    int depth = 0;
    for (const Expr* k : kids) depth = std::max(depth, k->depth);
    e->depth = depth + 1;
    e->node = std::move(node);
    if (e->depth > limits_.max_depth) {
      return Error(n, absl::StrCat("expression nested too deeply (the limit is ", limits_.max_depth,
                                   " levels)"));
    }
    return e;
  }

  absl::StatusOr<ExprPtr> Chain(const Node& n, BinaryOp op) {
    KQ_ASSIGN_OR_RETURN(ExprPtr acc, ConvertExpr(*n.children[0]));
    for (size_t i = 1; i < n.children.size(); ++i) {
      KQ_ASSIGN_OR_RETURN(ExprPtr rhs, ConvertExpr(*n.children[i]));
      const Expr *l = acc.get(), *r = rhs.get();
      KQ_ASSIGN_OR_RETURN(acc, Make(n, Binary{op, std::move(acc), std::move(rhs)}, {l, r}));
    }
    return acc;
  }

  absl::StatusOr<ExprPtr> Arith(const Node& n) {
    KQ_ASSIGN_OR_RETURN(ExprPtr acc, ConvertExpr(*n.children[0]));
    for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
      char c = n.children[i]->string_view()[0];
      BinaryOp op = c == '+'   ? BinaryOp::kAdd
                    : c == '-' ? BinaryOp::kSub
                    : c == '*' ? BinaryOp::kMul
                    : c == '/' ? BinaryOp::kDiv
                               : BinaryOp::kMod;
      KQ_ASSIGN_OR_RETURN(ExprPtr rhs, ConvertExpr(*n.children[i + 1]));
      const Expr *l = acc.get(), *r = rhs.get();
      KQ_ASSIGN_OR_RETURN(acc, Make(n, Binary{op, std::move(acc), std::move(rhs)}, {l, r}));
    }
    return acc;
  }

  absl::StatusOr<ExprPtr> ConvertExpr(const Node& n) {
    if (n.is_type<g::or_expr>()) return Chain(n, BinaryOp::kOr);
    if (n.is_type<g::and_expr>()) return Chain(n, BinaryOp::kAnd);
    if (n.is_type<g::additive>() || n.is_type<g::multiplicative>()) return Arith(n);
    if (n.is_type<g::not_expr>()) {
      KQ_ASSIGN_OR_RETURN(ExprPtr e, ConvertExpr(*n.children.back()));
      for (size_t i = 0; i + 1 < n.children.size(); ++i) {
        const Expr* k = e.get();
        KQ_ASSIGN_OR_RETURN(e,
                            Make(*n.children[n.children.size() - 2 - i], Not{std::move(e)}, {k}));
      }
      return e;
    }
    if (n.is_type<g::unary>()) return ConvertUnary(n);
    if (n.is_type<g::comparison>()) return ConvertComparison(n);
    if (n.is_type<g::call>()) return ConvertCall(n);
    if (n.is_type<g::field>()) {
      KQ_ASSIGN_OR_RETURN(FieldRef f, ConvertField(n));
      return Make(n, std::move(f), {});
    }
    KQ_ASSIGN_OR_RETURN(Value v, ConvertLiteral(n));
    return Make(n, Literal{std::move(v)}, {});
  }

  absl::StatusOr<ExprPtr> ConvertUnary(const Node& n) {
    const Node& operand = *n.children.back();
    size_t negations = n.children.size() - 1;
    bool numeric = operand.is_type<g::int_lit>() || operand.is_type<g::float_lit>() ||
                   operand.is_type<g::timespan_lit>();
    if (numeric) {
      // Fold the sign into the literal: -5 is a literal, not a negation.
      KQ_ASSIGN_OR_RETURN(Value v, ConvertLiteral(operand));
      if (negations % 2 == 1) {
        if (auto* i = std::get_if<int64_t>(&v)) *i = -*i;
        if (auto* d = std::get_if<double>(&v)) *d = -*d;
        if (auto* t = std::get_if<Timespan>(&v)) t->micros = -t->micros;
      }
      return Make(n, Literal{std::move(v)}, {});
    }
    KQ_ASSIGN_OR_RETURN(ExprPtr e, ConvertExpr(operand));
    for (size_t i = 0; i < negations; ++i) {
      const Expr* k = e.get();
      KQ_ASSIGN_OR_RETURN(e, Make(*n.children[negations - 1 - i], Negate{std::move(e)}, {k}));
    }
    return e;
  }

  absl::StatusOr<ExprPtr> ConvertComparison(const Node& n) {
    KQ_ASSIGN_OR_RETURN(ExprPtr lhs, ConvertExpr(*n.children[0]));
    const Node& tail = *n.children[1];
    if (tail.is_type<g::in_tail>()) {
      InList in;
      std::string_view op = tail.children[0]->string_view();
      in.negated = op.starts_with("!");
      in.case_insensitive = op.ends_with("~");
      std::vector<const Expr*> kids = {lhs.get()};
      for (size_t i = 1; i < tail.children.size(); ++i) {
        KQ_ASSIGN_OR_RETURN(ExprPtr item, ConvertExpr(*tail.children[i]));
        in.items.push_back(std::move(item));
      }
      int depth = lhs->depth;
      for (const auto& item : in.items) depth = std::max(depth, item->depth);
      Expr probe;
      probe.depth = depth;
      in.lhs = std::move(lhs);
      return Make(tail, std::move(in), {&probe});
    }
    if (tail.is_type<g::between_tail>()) {
      Between b;
      b.negated = tail.children[0]->string_view().starts_with("!");
      KQ_ASSIGN_OR_RETURN(b.low, ConvertExpr(*tail.children[1]));
      KQ_ASSIGN_OR_RETURN(b.high, ConvertExpr(*tail.children[2]));
      const Expr *a = lhs.get(), *lo = b.low.get(), *hi = b.high.get();
      b.lhs = std::move(lhs);
      return Make(tail, std::move(b), {a, lo, hi});
    }
    std::string_view op_text = tail.string_view();
    std::optional<BinaryOp> op = CmpOp(op_text);
    if (!op || op_text == "!matches") {
      return Error(
          tail, absl::StrCat("unknown comparison '", Sv(op_text), "'",
                             op_text == "!matches" ? "; write not (x matches regex \"...\")" : ""));
    }
    KQ_ASSIGN_OR_RETURN(ExprPtr rhs, ConvertExpr(*n.children[2]));
    const Expr *l = lhs.get(), *r = rhs.get();
    return Make(tail, Binary{*op, std::move(lhs), std::move(rhs)}, {l, r});
  }

  absl::StatusOr<ExprPtr> ConvertCall(const Node& n) {
    std::string name = n.children[0]->string();
    std::vector<ExprPtr> args;
    int depth = 0;
    for (size_t i = 1; i < n.children.size(); ++i) {
      KQ_ASSIGN_OR_RETURN(ExprPtr a, ConvertExpr(*n.children[i]));
      depth = std::max(depth, a->depth);
      args.push_back(std::move(a));
    }
    Expr probe;
    probe.depth = depth;
    if (name == "any") {
      if (args.size() != 2) {
        return Error(n, "any() takes an array field and a predicate: any(path, predicate)");
      }
      auto* f = std::get_if<FieldRef>(&args[0]->node);
      if (f == nullptr || f->element) {
        return ErrorAt(text_, args[0]->pos, "the first argument of any() must be a field path");
      }
      AnyMatch a;
      a.array = std::move(*f);
      a.predicate = std::move(args[1]);
      return Make(n, std::move(a), {&probe});
    }
    return Make(n, Call{std::move(name), std::move(args)}, {&probe});
  }

  absl::StatusOr<FieldRef> ConvertField(const Node& n) {
    FieldRef f;
    for (const auto& c : n.children) {
      PathElem step;
      if (c->is_type<g::elem_ref>()) {
        f.element = true;
        continue;
      }
      if (c->is_type<g::root_name>()) {
        step.key = c->string();
      } else if (c->is_type<g::step_key>()) {
        step.key = c->string().substr(1);
      } else if (c->is_type<g::step_string>()) {
        KQ_ASSIGN_OR_RETURN(step.key, StringValue(*c));
      } else if (c->is_type<g::step_each>()) {
        step.kind = PathElem::Kind::kEach;
      } else {
        step.kind = PathElem::Kind::kIndex;
        std::string_view s = c->string_view();
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), step.index);
        if (ec != std::errc()) return Error(*c, "array index out of range");
      }
      f.path.push_back(std::move(step));
    }
    return f;
  }

  absl::StatusOr<Value> ConvertLiteral(const Node& n) {
    std::string_view s = n.has_content() ? n.string_view() : std::string_view();
    if (n.is_type<g::kw_true>()) return Value(true);
    if (n.is_type<g::kw_false>()) return Value(false);
    if (n.is_type<g::string_lit>() || n.is_type<g::verbatim_lit>()) {
      KQ_ASSIGN_OR_RETURN(std::string v, StringValue(n));
      return Value(std::move(v));
    }
    if (n.is_type<g::int_lit>()) {
      uint64_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || v > uint64_t{INT64_MAX}) {
        return Error(n, "integer literal out of range");
      }
      return Value(static_cast<int64_t>(v));
    }
    if (n.is_type<g::float_lit>()) {
      std::string copy(s);
      double d = std::strtod(copy.c_str(), nullptr);
      if (!std::isfinite(d)) return Error(n, "number literal out of range");
      return Value(d);
    }
    if (n.is_type<g::timespan_lit>()) return ParseTimespan(n, s);
    if (n.is_type<g::datetime_lit>()) {
      const Node& arg = *n.children.front();
      std::string ts;
      if (arg.is_type<g::string_lit>()) {
        KQ_ASSIGN_OR_RETURN(ts, StringValue(arg));
      } else {
        ts = arg.string();
      }
      absl::StatusOr<TimeMicros> t = ParseTimestamp(ts);
      if (!t.ok()) {
        return Error(
            arg, absl::StrCat("invalid datetime '", ts, "' (expected e.g. 2026-11-01T00:00:00Z)"));
      }
      return Value(Datetime{*t});
    }
    return Error(n, "internal error: unknown expression node");
  }

  absl::StatusOr<Value> ParseTimespan(const Node& n, std::string_view s) {
    size_t unit_at = s.find_first_not_of("0123456789.");
    std::string_view number = s.substr(0, unit_at), unit = s.substr(unit_at);
    int64_t scale = unit == "d"    ? kMicrosPerDay
                    : unit == "h"  ? kMicrosPerHour
                    : unit == "m"  ? kMicrosPerMinute
                    : unit == "s"  ? kMicrosPerSecond
                    : unit == "ms" ? 1000
                                   : 1;
    size_t dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    uint64_t w = 0;
    auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || w > uint64_t{INT64_MAX} / static_cast<uint64_t>(scale)) {
      return Error(n, "timespan out of range");
    }
    int64_t micros = static_cast<int64_t>(w) * scale;
    if (dot != std::string_view::npos) {
      int64_t frac_scale = scale;
      for (char c : number.substr(dot + 1)) {
        frac_scale /= 10;
        micros += (c - '0') * frac_scale;
      }
    }
    return Value(query::Timespan{micros});
  }

  std::string_view text_;
  const ParseLimits& limits_;
};

}  // namespace

absl::Status ErrorAt(std::string_view text, size_t offset, std::string_view message) {
  offset = std::min(offset, text.size());
  size_t last_newline = text.substr(0, offset).rfind('\n');
  size_t line_start = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  size_t line_end = text.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = text.size();
  size_t line = 1;
  for (size_t i = 0; i < line_start; ++i) line += text[i] == '\n';
  size_t column = offset - line_start + 1;
  std::string caret(offset - line_start, ' ');
  for (size_t i = line_start; i < offset; ++i) {
    if (text[i] == '\t') caret[i - line_start] = '\t';
  }
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ", column ", column, ": ", Sv(message), "\n  ",
                   Sv(text.substr(line_start, line_end - line_start)), "\n  ", caret, "^"));
}

absl::StatusOr<Query> Parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("query is ", text.size(), " bytes long; the limit is ", limits.max_bytes));
  }
  if (MaxNesting(text) > limits.max_nesting) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query nests parentheses or brackets too deeply (the limit is ", limits.max_nesting, ")"));
  }
  // The tree's nodes refer to the input (its source name included): keep it alive.
  p::memory_input in(text.data(), text.size(), "query");
  std::unique_ptr<Node> root;
  try {
    root = p::parse_tree::parse<g::query, Selector, p::nothing, ErrorControl>(in);
  } catch (const p::parse_error& e) {
    size_t offset = e.positions().empty() ? 0 : e.positions().front().byte;
    std::string message(e.message());
    if (IsUnterminatedString(text, offset)) {
      message = "unterminated string or invalid escape in string";
    } else if (offset < text.size() && text[offset] == '=' && text.substr(offset, 2) != "==") {
      message += " (to compare, write ==)";
    }
    return ErrorAt(text, offset, message);
  }
  if (root == nullptr || root->children.empty()) {
    return absl::InvalidArgumentError("empty query");
  }
  Converter converter(text, limits);
  return converter.ConvertQuery(*root->children.front());
}

size_t AnalyzeGrammar() { return p::analyze<g::query>(-1); }

}  // namespace kq::query
