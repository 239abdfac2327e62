// The abstract syntax tree of a kq query: one node type per expression kind and per pipeline
// operator, as produced by Parse() (query/parser.h).
//
// ToString() prints a query that parses back to an equal tree (expressions fully
// parenthesized); DebugString() prints the tree as S-expressions for tests. Positions are byte
// offsets into the query text, used for error messages; they are not part of the tree's
// identity. Trees own their children (unique_ptr). Immutable after parsing; thread-compatible.
#ifndef KQ_QUERY_AST_H_
#define KQ_QUERY_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "query/result.h"

namespace kq::query {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// A literal constant: bool, int64_t, double, std::string, Datetime or Timespan.
struct Literal {
  Value value;
};

// One step of a field path: .key or ["key"], [3], [*].
struct PathElem {
  enum class Kind { kKey, kIndex, kEach };
  Kind kind = Kind::kKey;
  std::string key;
  uint64_t index = 0;
};

// A field: `objectRef.namespace`, `annotations["k"]`, `user.groups[*]`, or `$...` (the element
// inside any()). For a plain field path[0] is the root key.
struct FieldRef {
  bool element = false;
  std::vector<PathElem> path;
};

// f(args...), including aggregates (count(), dcount(x)) and functions (tolower(x), ago(1h)).
struct Call {
  std::string name;
  std::vector<ExprPtr> args;
};

struct Not {
  ExprPtr operand;
};

struct Negate {
  ExprPtr operand;
};

enum class BinaryOp {
  kOr,
  kAnd,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kEqCi,  // =~
  kNeCi,  // !~
  kHas,
  kNotHas,
  kHasCs,
  kNotHasCs,
  kContains,
  kNotContains,
  kContainsCs,
  kNotContainsCs,
  kStartsWith,
  kNotStartsWith,
  kStartsWithCs,
  kNotStartsWithCs,
  kEndsWith,
  kNotEndsWith,
  kEndsWithCs,
  kNotEndsWithCs,
  kMatchesRegex,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
};

// The spelling of `op` in the language ("==", "contains_cs", "matches regex", ...).
std::string_view BinaryOpText(BinaryOp op);

struct Binary {
  BinaryOp op = BinaryOp::kEq;
  ExprPtr lhs, rhs;
};

// lhs in (items...), !in, in~, !in~.
struct InList {
  bool negated = false;
  bool case_insensitive = false;
  ExprPtr lhs;
  std::vector<ExprPtr> items;
};

// lhs between (low .. high), inclusive; !between.
struct Between {
  bool negated = false;
  ExprPtr lhs, low, high;
};

// any(array, predicate): true when some element of `array` satisfies `predicate`, in which
// fields are relative to the element and `$` is the element itself.
struct AnyMatch {
  FieldRef array;
  ExprPtr predicate;
};

struct Expr {
  std::variant<Literal, FieldRef, Call, Not, Negate, Binary, InList, Between, AnyMatch> node;
  size_t pos = 0;  // byte offset in the query text
  int depth = 1;   // height of this subtree (for the nesting limit)
};

// `name = expr`, or just `expr` (name empty: derived from the expression).
struct NamedExpr {
  std::string name;
  ExprPtr expr;
};

struct SortKey {
  ExprPtr expr;
  bool descending = true;  // KQL's default for sort and top
};

struct Where {
  ExprPtr predicate;
};
struct Project {
  std::vector<NamedExpr> items;
};
struct ProjectAway {
  std::vector<std::string> names;
};
struct Extend {
  std::vector<NamedExpr> items;
};
struct Summarize {
  std::vector<NamedExpr> aggregates;
  std::vector<NamedExpr> by;
};
struct Sort {
  std::vector<SortKey> keys;
};
struct Take {
  uint64_t count = 0;
};
struct Top {
  uint64_t count = 0;
  std::vector<SortKey> keys;
};
struct Distinct {
  std::vector<NamedExpr> items;
};
struct Count {};
struct DedupBy {
  std::vector<ExprPtr> keys;
};

struct Operator {
  std::variant<Where, Project, ProjectAway, Extend, Summarize, Sort, Take, Top, Distinct, Count,
               DedupBy>
      node;
  size_t pos = 0;
};

struct Query {
  std::string env;       // events("dev"); empty for plain `events`
  bool archive = false;  // archive("prod"): the environment's archive files, not its store
  std::vector<Operator> ops;
};

// Query text that parses back to an equal tree.
std::string ToString(const Expr& e);
std::string ToString(const Query& q);
// S-expressions, e.g. (and (== field:verb str:"delete") (> field:code int:400)).
std::string DebugString(const Expr& e);
std::string DebugString(const Query& q);

// A valid identifier that is not a reserved word (printable bare as a field or column name).
bool IsPlainIdentifier(std::string_view s);
// The language's string literal for `s` ("..." with escapes).
std::string QuoteString(std::string_view s);
// Prints a timespan as a literal the grammar reads back ("5m", "90s", "1500us", "-2h").
std::string FormatTimespanLiteral(int64_t micros);

}  // namespace kq::query

#endif  // KQ_QUERY_AST_H_
