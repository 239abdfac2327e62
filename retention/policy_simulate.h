// `kq policy simulate`: what a Policy would cost or save, computed over stored events.
//
// Each stored event is evaluated as the apiserver would (retention/policy_apply.h) and
// attributed to the rule that matched it (or to "unmatched"). Per rule: events matched, bytes
// now (the event's JSON as stored), bytes after (what the event would weigh under the policy:
// 0 when dropped by level None or an omitted stage; without the bodies the level does not
// record; without managedFields when omitManagedFields), and the share of all bytes now.
//
//   KQ_ASSIGN_OR_RETURN(SimulationReport r, SimulatePolicy(policy, reader.get(), options));
//
// PolicySimulation is the accumulator behind SimulatePolicy, usable over any event source.
// Not thread-safe; one per simulation.
#ifndef KQ_RETENTION_POLICY_SIMULATE_H_
#define KQ_RETENTION_POLICY_SIMULATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "retention/policy.h"
#include "storage/event.h"
#include "storage/scan.h"

namespace kq::storage {
class Decoder;
}

namespace kq::retention {

struct RuleCost {
  int rule = -1;               // 0-based index in the policy file; -1 for events no rule matches
  Level level = Level::kNone;  // the rule's level (None for unmatched)
  uint64_t events = 0;         // events the rule matched
  uint64_t events_after = 0;   // of those, events that would still be recorded
  uint64_t bytes_now = 0;
  uint64_t bytes_after = 0;
  double share = 0;  // bytes_now / total bytes_now of the simulation (0 when there are none)
};

struct SimulationReport {
  std::vector<RuleCost> rules;  // one per rule, in policy order
  RuleCost unmatched;           // rule == -1
  RuleCost total;               // sums over rules and unmatched; rule == -1, share 1 (or 0)
  uint64_t undecodable = 0;     // stored events whose JSON could not be decoded (skipped)
};

class PolicySimulation {
 public:
  // `policy` is not owned and must outlive this object.
  explicit PolicySimulation(const Policy& policy);
  ~PolicySimulation();
  PolicySimulation(const PolicySimulation&) = delete;
  PolicySimulation& operator=(const PolicySimulation&) = delete;

  // Adds one event given as its JSON (its size is the "bytes now"). JSON that does not decode
  // as an audit event is counted in `undecodable` and otherwise skipped.
  void AddEventJson(std::string_view json);
  // Adds a decoded event that weighs `bytes_now` as stored.
  void AddEvent(const storage::Event& event, uint64_t bytes_now);

  SimulationReport Report() const;

 private:
  const Policy& policy_;
  std::unique_ptr<storage::Decoder> decoder_;
  std::vector<RuleCost> costs_;  // rules, then unmatched
  uint64_t undecodable_ = 0;
};

struct SimulateOptions {
  TimeMicros since = INT64_MIN;         // inclusive, on requestReceivedTimestamp
  TimeMicros until = INT64_MAX;         // exclusive
  std::vector<std::string> namespaces;  // empty: all ("" = cluster-scoped)
};

// Scans `reader` (not owned) over the options' range and simulates `policy` on every event.
// Scan errors are returned; undecodable events are counted in the report.
[[nodiscard]] absl::StatusOr<SimulationReport> SimulatePolicy(const Policy& policy,
                                                              storage::Reader* reader,
                                                              const SimulateOptions& options);

// `kq policy simulate --format json`: a JSON array with one object per rule, {"rule": <0-based
// index>, "level", "events", "bytes_now", "bytes_after"}, then {"rule": null, ...} for events no
// rule matches (its level is "None").
std::string SimulationJson(const SimulationReport& report);
// The table for people: one line per rule (index, line in the file, level, events, bytes now,
// bytes after, share), the unmatched line and the totals.
std::string FormatSimulation(const Policy& policy, const SimulationReport& report);

}  // namespace kq::retention

#endif  // KQ_RETENTION_POLICY_SIMULATE_H_
