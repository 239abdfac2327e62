// The planner: turns the leading `where` predicates of a bound query into what storage can use
// to read less: a time range and namespaces (key ranges), pruning hints (segment summaries),
// and needle look-ups (auditID, objectRef.name) that do not scan. The predicates stay in the
// filter; the plan only narrows what is read. Pure function; thread-safe.
#ifndef KQ_QUERY_PLANNER_H_
#define KQ_QUERY_PLANNER_H_

#include <optional>
#include <string>
#include <vector>

#include "query/bound.h"
#include "storage/scan.h"

namespace kq::query {

struct ScanPlan {
  storage::ScanRange range;
  std::optional<std::string> audit_id;  // Reader::LookupAuditId
  std::optional<std::string> name;      // Reader::LookupName within `range`
  bool empty = false;                   // the predicates contradict each other: read nothing
};

// `filters`: the predicates of the leading where operators (constants folded).
ScanPlan PlanScan(const std::vector<const BoundExpr*>& filters);

// One line per part of the plan, for explain.
std::string DescribeScan(const ScanPlan& plan);

}  // namespace kq::query

#endif  // KQ_QUERY_PLANNER_H_
