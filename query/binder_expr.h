// Binding of expressions (names, types, function signatures); used by the binder
// (query/binder.h) for each operator. Internal to the query module. Thread-compatible.
#ifndef KQ_QUERY_BINDER_EXPR_H_
#define KQ_QUERY_BINDER_EXPR_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/bound.h"

namespace kq::query {

// Where names resolve: storage batches (whole events, before the first materialization) or
// the rows of a table with `schema`; inside any(), fields are relative to the element.
struct BindScope {
  bool batch = false;
  const Schema* schema = nullptr;
  bool in_any = false;
};

struct FnInfo {
  Fn fn;
  size_t min_args;
  size_t max_args;
  bool aggregate;
};

// The function named `name`, or nullptr.
const FnInfo* FindFunction(std::string_view name);

class ExprBinder {
 public:
  // `text`: the query text, for error positions. Must outlive the binder.
  explicit ExprBinder(std::string_view text) : text_(text) {}

  [[nodiscard]] absl::StatusOr<BoundExpr> Bind(const Expr& e, const BindScope& scope) const;

  // Errors shared with the operator binder.
  [[nodiscard]] absl::Status Error(size_t pos, std::string_view message) const;
  [[nodiscard]] absl::Status RejectMulti(const BoundExpr& e) const;
  [[nodiscard]] absl::Status CheckArity(const Call& c, const FnInfo& info, size_t pos) const;
  std::string UnknownColumn(std::string_view name, const std::vector<std::string>& names) const;

  static BoundExpr ColumnRef(const Schema& schema, size_t c);

 private:
  absl::StatusOr<BoundExpr> BindField(const FieldRef& f, size_t pos, const BindScope& scope) const;
  absl::StatusOr<BoundExpr> BindCall(const Call& c, size_t pos, const BindScope& scope) const;
  absl::StatusOr<BoundExpr> BindBinary(const Binary& b, size_t pos, const BindScope& scope) const;

  std::string_view text_;
};

bool IsNumericType(ValueType t);
bool IsBoolLike(ValueType t);
bool IsDynamicType(ValueType t);

}  // namespace kq::query

#endif  // KQ_QUERY_BINDER_EXPR_H_
