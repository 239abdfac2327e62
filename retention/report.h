// `kq retention report`: what one environment costs now, per tier and namespace, how fast it
// grows, and the size the retention policy leads to once every tier is full (steady state).
//
// Sources: Environment::Stats() for bytes on disk and events per (tier, namespace) in the store;
// the archive manifests for archived events and their stored (compressed) bytes; one scan of the
// last 7 days for the ingest rate, the share of bytes that are bodies, and a sample of events.
//
// Steady state per namespace, with r = events per day over the last 7 days:
//   hot      r * hot days                      * hot bytes per event
//   warm     r * (leave-store age - hot) days  * warm bytes per event
//   archive  r * (archive - warm) days         * archive bytes per event
// Each bytes-per-event figure is measured where there is data, most specific first, and its
// basis is reported with it (NamespaceCost::*_basis):
//   hot      the namespace's hot tier on disk; else the environment's; else JSON bytes at ingest
//   warm     the namespace's warm tier on disk; else the environment's; else the hot figure
//            times (1 - body share)
//   archive  the namespace's archived parts (manifest bytes / events); else, with nothing of
//            it archived yet, its latest complete day of the last week (at most
//            kCostSampleEvents events), bodies dropped as the warm tier does, as JSON lines
//            through zstd at the archive's level: the part the archive writer would write for
//            that day; else the environment's archived parts
// Estimates, not promises: a changed traffic mix changes them. Reads a store snapshot and the
// manifests; thread-compatible.
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

// Events per namespace compressed to measure its archive's size when nothing is archived yet.
inline constexpr uint64_t kCostSampleEvents = 2000;

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
  // Bytes per event behind the steady state, and where each comes from, for people:
  // "estimated from 12,345 archived events, 38 B/event".
  double hot_bytes_per_event = 0, warm_bytes_per_event = 0, archive_bytes_per_event = 0;
  std::string hot_basis, warm_basis, archive_basis;
};

struct CostReport {
  std::string env;
  TimeMicros now = 0;
  std::vector<NamespaceCost> namespaces;  // sorted by name; "" = cluster-scoped
  NamespaceCost total;                    // sums (rates and steady state included)
  // The compression samples (namespaces with nothing archived), summed: events and their JSON
  // bytes (bodies dropped) in, zstd bytes out. 0 when no namespace needed one.
  uint64_t sample_events = 0, sample_json_bytes = 0, sample_zstd_bytes = 0;
};

// `archive_root` may be empty (no archive bytes then). `clock` is not owned.
[[nodiscard]] absl::StatusOr<CostReport> BuildCostReport(const EnvironmentRetention& policy,
                                                         storage::Environment* env,
                                                         const std::string& archive_root,
                                                         Clock* clock);

// The report as a table for people, then the basis of each namespace's estimates.
std::string FormatCostReport(const CostReport& report);

}  // namespace kq::retention

#endif  // KQ_RETENTION_REPORT_H_
