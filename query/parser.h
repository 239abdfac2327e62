// Parsing query text into an AST (query/ast.h). The grammar is in query/grammar.h.
//
// Errors are InvalidArgument with a message of the form
//   line 1, column 24: expected an expression
//     events | where verb ==
//                           ^
// Stateless; thread-safe.
#ifndef KQ_QUERY_PARSER_H_
#define KQ_QUERY_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/ast.h"

namespace kq::query {

struct ParseLimits {
  size_t max_bytes = 64 * 1024;  // query text length
  int max_nesting = 32;          // parentheses and brackets
  int max_depth = 128;           // height of an expression tree (a and b and c ... counts)
};

[[nodiscard]] absl::StatusOr<Query> Parse(std::string_view text, const ParseLimits& limits = {});

// An InvalidArgument error about the spot `offset` in `text`: "line L, column C: message", then
// the line and a caret under the spot. Used by the parser and the binder.
absl::Status ErrorAt(std::string_view text, size_t offset, std::string_view message);

// Runs PEGTL's grammar analysis (no rule can loop without consuming input); returns the number
// of problems found. For tests.
size_t AnalyzeGrammar();

}  // namespace kq::query

#endif  // KQ_QUERY_PARSER_H_
