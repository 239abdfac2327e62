// Applying an audit Policy to events that were already recorded: at ingest (kqd, per
// environment and source) and in `kq policy simulate`.
//
// The apiserver would have produced, for a request the policy evaluates to level L:
//   - nothing, when L is None or the event's stage is in the decision's omitStages  -> kDrop
//   - the event without bodies the level does not record (Metadata: no requestObject and no
//     responseObject; Request: no responseObject), and without metadata.managedFields in the
//     remaining bodies when omitManagedFields                                           -> kReduce
//   - the event as it is, when it is already at or below L                             -> kKeep
// An event recorded at a lower level than L stays as it is: bodies cannot be added back.
#ifndef KQ_RETENTION_POLICY_APPLY_H_
#define KQ_RETENTION_POLICY_APPLY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retention/policy.h"
#include "storage/event.h"

namespace kq::retention {

// The checker's view of a stored event: user = event.user (not impersonatedUser), resource
// request iff the event has an objectRef, path = requestURI without its query. A user object
// with neither username nor groups (failed authentication) is "no user". The result views into
// `event`, which must outlive it.
RequestAttributes AttributesFromEvent(const storage::Event& event);

enum class PolicyAction { kDrop, kKeep, kReduce };
std::string_view PolicyActionName(PolicyAction action);  // "drop", "keep", "reduce"

struct PolicyOutcome {
  PolicyAction action = PolicyAction::kKeep;
  PolicyDecision decision;
};

// Decides what the policy does to `event` and, for kReduce, rewrites *event in place (bodies
// removed, `level` lowered to the decision's level, managedFields stripped). A kDrop event is
// left untouched: the caller discards it. Bodies that are not valid JSON objects are left as
// they are when only managedFields would be stripped.
PolicyOutcome ApplyPolicy(const Policy& policy, storage::Event* event);

// Removes metadata.managedFields from a Kubernetes object in JSON, and from every items[i] of a
// List. Returns true and sets *out when something was removed; false (and *out untouched) when
// there was nothing to remove or `json` is not a JSON object.
bool StripManagedFields(std::string_view json, std::string* out);

// Per-rule counters of a policy applied at ingest, for stats and /metrics.
struct PolicyRuleCounters {
  int rule = -1;  // 0-based rule index; -1 for events no rule matched
  uint64_t events = 0;
  uint64_t dropped = 0;
  uint64_t reduced = 0;
  uint64_t kept = 0;
};

// A Policy with counters: what kqd holds per environment/source. Thread-safe: Apply() may run
// on many ingest threads at once (the counters are atomics).
class PolicyApplier {
 public:
  explicit PolicyApplier(std::shared_ptr<const Policy> policy);

  PolicyOutcome Apply(storage::Event* event);
  // One entry per rule in order, then the unmatched entry (rule -1).
  std::vector<PolicyRuleCounters> Counters() const;
  const Policy& policy() const { return *policy_; }

 private:
  struct Slot {
    std::atomic<uint64_t> dropped{0}, reduced{0}, kept{0};
  };
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<Slot[]> slots_;  // rules().size() + 1; the last is "unmatched"
};

}  // namespace kq::retention

#endif  // KQ_RETENTION_POLICY_APPLY_H_
