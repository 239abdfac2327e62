// The binder: resolves names and types of a parsed query (query/ast.h) and checks function
// arguments, before any data is read. Produces a BoundQuery (query/bound.h).
//
// Errors are InvalidArgument pointing at the spot in the query text (see ErrorAt in
// query/parser.h), with a "did you mean" for near misses. Stateless; thread-safe.
#ifndef KQ_QUERY_BINDER_H_
#define KQ_QUERY_BINDER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/bound.h"

namespace kq::query {

// `text` is the query text `query` was parsed from (for error positions).
[[nodiscard]] absl::StatusOr<BoundQuery> Bind(const Query& query, std::string_view text,
                                              std::string_view default_env);

// True when `e` reads no field (it can be evaluated once, e.g. ago(1h) or datetime(...)).
bool IsConstant(const BoundExpr& e);

}  // namespace kq::query

#endif  // KQ_QUERY_BINDER_H_
