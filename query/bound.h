// Bound (resolved and typed) expressions and pipelines: what the binder (query/binder.h)
// produces from the AST and what the planner and executors consume.
//
// A BoundExpr knows where each field comes from (a column of the storage batch, a column of
// an intermediate table, a path into the event JSON or into a body) and its static type
// (kDynamic when only known at run time). Owned by value; immutable after binding.
#ifndef KQ_QUERY_BOUND_H_
#define KQ_QUERY_BOUND_H_

#include <memory>
#include <string>
#include <vector>

#include "query/ast.h"
#include "query/result.h"
#include "storage/json_path.h"
#include "storage/scan.h"

namespace re2 {
class RE2;
}

namespace kq::query {

enum class Fn {
  // Scalar functions.
  kAgo,
  kNow,
  kBin,
  kToLower,
  kToUpper,
  kStrlen,
  kSplit,
  kExtract,
  kIsNull,
  kIsNotNull,
  kIsEmpty,
  kIsNotEmpty,
  kToString,
  kToInt,
  kStrcat,
  kSubstring,
  kIff,
  kUrlDecode,
  kArrayLength,
  // Aggregates (only at the top of a summarize aggregate).
  kCount,
  kCountIf,
  kDcount,
  kMin,
  kMax,
  kSum,
  kAvg,
  kPercentile,
  kMakeSet,
  kArgMax,
  kArgMin,
};

struct BoundExpr {
  enum class Kind {
    kConst,
    kBatchColumn,  // storage column of the scanned batch (`column`)
    kEventPath,    // path into the event JSON (batch: EventJson; table: the _event column)
    kBodyPath,     // path into requestObject (body == 1) / responseObject (body == 2) of a batch
    kTableColumn,  // column `index` of a table row; `path` continues into a dynamic value
    kElement,      // inside any(): the element, then `path`
    kCall,
    kNot,
    kNegate,
    kBinary,
    kIn,
    kBetween,
    kAny,  // args[0]: the array (a field with [*] at the end), args[1]: the predicate
  };
  Kind kind = Kind::kConst;
  ValueType type = ValueType::kDynamic;
  size_t pos = 0;

  Value constant;                       // kConst
  storage::Column column{};             // kBatchColumn
  int list_index = -1;                  // kBatchColumn on a list column: [i]; -1 whole list
  std::vector<storage::PathStep> path;  // kEventPath, kBodyPath, kTableColumn, kElement
  int body = 0;                         // kBodyPath
  int index = -1;                       // kTableColumn
  bool to_datetime = false;             // JSON text that is a timestamp (stageTimestamp, ...)
  // Produces several values ([*]); comparisons on it are true when any value satisfies them.
  bool multi = false;

  Fn fn = Fn::kNow;                       // kCall
  BinaryOp op = BinaryOp::kEq;            // kBinary
  bool negated = false;                   // kIn, kBetween
  bool case_insensitive = false;          // kIn
  std::shared_ptr<const re2::RE2> regex;  // kBinary matches regex / extract with a constant pattern
  std::vector<BoundExpr> args;
};

// The schema of a table flowing between operators. `event_column` is the index of the
// "_event" column (kEvent) when rows are still whole events, else -1.
struct Schema {
  std::vector<ColumnInfo> columns;
  int event_column = -1;
  int Find(std::string_view name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
};

struct BoundAggregate {
  Fn fn = Fn::kCount;
  std::vector<BoundExpr> args;  // kPercentile: args[1] constant; kArgMax: [maximize, returns...]
  double percentile = 0;
  size_t max_set = 1024;
};

// One step of the bound pipeline. `input_is_batch`: reads storage batches (before the first
// materialization) rather than table rows.
struct BoundOp {
  enum class Kind {
    kFilter,       // where
    kMaterialize,  // whole events -> table rows (default columns + extends + _event)
    kProject,      // project / extend / project-away / distinct's projection
    kSummarize,
    kSort,
    kTake,
    kTop,
    kDistinct,
    kCount,
    kDedup,
  };
  Kind kind = Kind::kFilter;
  bool input_is_batch = false;
  BoundExpr predicate;                     // kFilter
  std::vector<BoundExpr> exprs;            // kProject outputs, kSummarize keys, kDedup keys
  std::vector<BoundAggregate> aggregates;  // kSummarize
  // kSort, kTop: the keys. kDedup of whole events: the stage and stageTimestamp of a row (the
  // stages of a request are merged by them; empty for other tables).
  std::vector<BoundExpr> sort_keys;
  std::vector<bool> descending;    // kSort, kTop
  uint64_t count = 0;              // kTake, kTop
  std::vector<BoundExpr> extends;  // kMaterialize: extra columns before _event
  // kMaterialize: output column of each extend. kDedup of whole events: the columns time and
  // code (-1 when the table has no such column of that type).
  std::vector<int> slots;
  Schema output;
};

struct BoundQuery {
  std::string env;       // resolved
  bool archive = false;  // read the environment's archive (ReaderFactory::OpenArchive)
  std::vector<BoundOp> ops;
  Schema output;
};

}  // namespace kq::query

#endif  // KQ_QUERY_BOUND_H_
