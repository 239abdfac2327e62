// `kq retention report`: what one environment costs now, per tier and namespace, how fast it
// grows, and the size the retention policy leads to once every tier is full (steady state).
//
// Sources: Environment::Stats() for bytes and events per (tier, namespace) in the store; the
// archive manifests for archived bytes; one scan of the last 7 days (columns and body sizes)
// for the ingest rate and the share of bytes that are bodies.
//
// Steady state per namespace, with r = events per day over the last 7 days:
//   hot      r * hot days                      * disk bytes per hot event
//   warm     r * (leave-store age - hot) days  * disk bytes per hot event * (1 - body share)
//   archive  r * (archive - warm) days         * event JSON bytes (archives are uncompressed)
// Disk bytes per hot event come from the hot tier's stats (raw bytes when it is empty).
// Estimates, not promises: a changed traffic mix changes them. Pure computation over a store
// snapshot; thread-compatible.
#ifndef KQ_RETENTION_REPORT_H_
#define KQ_RETENTION_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "retention/tiers.h"
#include "storage/store.h"

namespace kq::retention {

struct NamespaceCost {
  std::string ns;
  uint64_t hot_events = 0, hot_bytes = 0;  // disk bytes (estimated by the store)
  uint64_t warm_events = 0, warm_bytes = 0;
  uint64_t archive_events = 0, archive_bytes = 0;
  double events_per_day_1d = 0;  // ingest rate over the last day
  double events_per_day_7d = 0;  // ... and the last week
  double body_share = 0;         // bodies / event JSON bytes over the last week
  TierAges ages;                 // the policy that applies
  uint64_t steady_hot_bytes = 0, steady_warm_bytes = 0, steady_archive_bytes = 0;
};

struct CostReport {
  std::string env;
  TimeMicros now = 0;
  std::vector<NamespaceCost> namespaces;  // sorted by name; "" = cluster-scoped
  NamespaceCost total;                    // sums (rates and steady state included)
};

// `archive_root` may be empty (no archive bytes then). `clock` is not owned.
[[nodiscard]] absl::StatusOr<CostReport> BuildCostReport(const EnvironmentRetention& policy,
                                                         storage::Environment* env,
                                                         const std::string& archive_root,
                                                         Clock* clock);

// The report as a table for people.
std::string FormatCostReport(const CostReport& report);

}  // namespace kq::retention

#endif  // KQ_RETENTION_REPORT_H_
