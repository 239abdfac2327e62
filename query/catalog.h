// The field catalog: which event fields exist, their aliases, types, and where each is stored
// (a storage column, a default column of an events table, or a path into the event JSON).
// Static data; thread-safe.
#ifndef KQ_QUERY_CATALOG_H_
#define KQ_QUERY_CATALOG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/result.h"
#include "storage/json_path.h"
#include "storage/scan.h"

namespace kq::query {

// A resolved event field.
struct ResolvedField {
  std::optional<storage::Column> column;     // stored as its own column
  bool is_list = false;                      // column is a list column (user.groups, sourceIPs)
  std::string table_column;                  // the default events-table column holding it, or ""
  std::vector<storage::PathStep> json_path;  // full path in the event JSON (empty: env/cluster)
  std::optional<PathElem> list_step;         // [*] or [i] after a list column's path
  ValueType type = ValueType::kDynamic;
  int body = 0;  // 1: under requestObject, 2: under responseObject
};

// Resolves a field path written by the user. Errors (InvalidArgument, without position) name
// the unknown field and suggest a close one.
[[nodiscard]] absl::StatusOr<ResolvedField> ResolveField(const std::vector<PathElem>& path);

// The default columns of a whole-events table, in order (see query/result.h).
struct DefaultColumn {
  const char* name;
  storage::Column column;
  ValueType type;
};
const std::vector<DefaultColumn>& DefaultEventColumns();

// The closest candidate to `name` (edit distance, case-insensitive), or "" if none is close.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

// PathElems to storage PathSteps.
std::vector<storage::PathStep> ToPathSteps(const std::vector<PathElem>& path, size_t from);

}  // namespace kq::query

#endif  // KQ_QUERY_CATALOG_H_
