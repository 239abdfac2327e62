// Which audit Policy kqd applies to an ingest batch: the global `audit-policy` as the default of
// every environment, overridden by `audit-policies` scopes (an environment, optionally narrowed
// to one source kind and/or one cluster). For a batch of (env, source kind, cluster) the most
// specific matching scope wins: env+source+cluster, then env+source, then env+cluster, then env,
// then the global default. A scope with no file keeps everything.
//
// Each (scope, environment) has its own retention::PolicyApplier, so counts per rule are kept
// per environment and per scope even when several scopes read the same file (which is loaded
// once).
//
// Immutable after Load(); Find() and the counters are thread-safe (the appliers count with
// atomics). Owns the appliers.
#ifndef KQ_SERVER_INGEST_POLICIES_H_
#define KQ_SERVER_INGEST_POLICIES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "retention/policy_apply.h"
#include "server/config.h"

namespace kq::server {

// Counts of one rule of one scope's policy (rule -1: events no rule matched).
struct PolicyRuleStats {
  std::string env;
  std::string source;   // "" = every source
  std::string cluster;  // "" = every cluster
  std::string file;     // the policy file
  int rule = -1;        // 0-based rule index
  int line = 0;         // the rule's line in `file`; 0 for the unmatched entry
  std::string level;    // the rule's level; "None" for the unmatched entry
  uint64_t dropped = 0, reduced = 0, kept = 0;
};

class IngestPolicies {
 public:
  // Loads every policy file the config names. A file that does not load fails with the config
  // key (and its line in the config file) followed by the policy's own error:
  // "kqd.yaml:12:5: audit-policies (prod/webhook): dev.yaml:4:10: rules[0].level: ...".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IngestPolicies>> Load(
      const ServerConfig& config);

  // The applier for a batch, or null when everything is kept.
  retention::PolicyApplier* Find(std::string_view env, std::string_view source,
                                 std::string_view cluster) const;
  bool empty() const { return entries_.empty(); }

  // Per-rule counts of every scope with a policy, in config order (`env` "" = all).
  std::vector<PolicyRuleStats> Stats(std::string_view env) const;
  // kq_policy_rule_events_total{env,source,cluster,policy,rule,line,level,action} in the
  // Prometheus text format.
  std::string MetricsText() const;

 private:
  struct Entry {
    std::string env, source, cluster, file;
    std::shared_ptr<retention::PolicyApplier> applier;  // null: keep everything
  };
  std::vector<Entry> entries_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_INGEST_POLICIES_H_
