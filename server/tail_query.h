// The shape a Tail query must have: a source followed only by `where` stages (a Tail evaluates
// filters on each ingested batch; sorting, aggregation or `take` would need the whole stream).
// A lexical check that respects quoted strings; the engine checks everything else.
#ifndef KQ_SERVER_TAIL_QUERY_H_
#define KQ_SERVER_TAIL_QUERY_H_

#include <string_view>

#include "absl/status/status.h"

namespace kq::server {

// InvalidArgument, naming the offending stage, unless `query` is a source followed only by
// `where` stages.
[[nodiscard]] absl::Status CheckTailQuery(std::string_view query);

}  // namespace kq::server

#endif  // KQ_SERVER_TAIL_QUERY_H_
