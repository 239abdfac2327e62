// Query results as the engine streams them to a caller (the gRPC service, the embedded CLI).
//
// CONTRACT between query (produces) and server/tools (consume). Change it only together with
// every caller.
#ifndef KQ_QUERY_RESULT_H_
#define KQ_QUERY_RESULT_H_

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"

namespace kq::query {

// The type of a result column. Stored in protobuf enums by number: do not renumber.
enum class ValueType : uint8_t {
  kNull = 0,  // only for a column whose type cannot be known (all nulls)
  kBool = 1,
  kInt = 2,
  kDouble = 3,
  kString = 4,
  kDatetime = 5,  // UTC micros
  kTimespan = 6,  // micros
  kDynamic = 7,   // JSON text (arrays, objects: make_set(), groups, bodies)
  kEvent = 8,     // a whole event as its original JSON text
};

// One cell. monostate is null. Datetime and timespan use Datetime / Timespan wrappers so that
// they are not confused with plain ints.
struct Datetime {
  TimeMicros micros = 0;
  bool operator==(const Datetime&) const = default;
};
struct Timespan {
  TimeMicros micros = 0;
  bool operator==(const Timespan&) const = default;
};
struct Json {  // kDynamic and kEvent cells
  std::string text;
  bool operator==(const Json&) const = default;
};
using Value =
    std::variant<std::monostate, bool, int64_t, double, std::string, Datetime, Timespan, Json>;

struct ColumnInfo {
  std::string name;
  ValueType type = ValueType::kNull;
};

using Row = std::vector<Value>;

// Counters reported after the last batch.
struct QueryStats {
  uint64_t rows_returned = 0;
  uint64_t rows_scanned = 0;
  uint64_t segments_total = 0;
  uint64_t segments_pruned = 0;
  uint64_t segments_read = 0;
  uint64_t bytes_read = 0;
  TimeMicros elapsed = 0;
};

// Receives a query's results: OnSchema once, then OnRows any number of times (in result order).
// Returning an error from either stops the query with that error (e.g. the client went away).
//
// Whole events: when the pipeline ends in events (no project/summarize/count...), the schema is
// the default event columns (time, env, cluster, verb, user, ns, resource, name, code) followed
// by a last column "_event" of type kEvent holding the original JSON. Table output shows the
// default columns; json/jsonl output prints the "_event" JSON as it is.
class RowSink {
 public:
  virtual ~RowSink() = default;
  [[nodiscard]] virtual absl::Status OnSchema(const std::vector<ColumnInfo>& columns) = 0;
  [[nodiscard]] virtual absl::Status OnRows(std::span<const Row> rows) = 0;
};

}  // namespace kq::query

#endif  // KQ_QUERY_RESULT_H_
