// kqd's counters, rendered at /metrics in the Prometheus text exposition format (0.0.4).
//
// Counters are per environment and source kind ("webhook", "grpc", "tail"); query latencies
// go into one histogram per outcome. Rates are derived by Prometheus (rate() over counters).
// Thread-safe; cheap enough to call once per batch.
#ifndef KQ_SERVER_METRICS_H_
#define KQ_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace kq::server {

class Metrics {
 public:
  // One ingested batch.
  void AddIngest(std::string_view env, std::string_view source, uint64_t stored,
                 uint64_t duplicates, uint64_t quarantined, uint64_t filtered, uint64_t bytes);
  // A request refused before storing: code is the HTTP status (400, 404, 413, 429, 503) or
  // the gRPC code name.
  void AddRejected(std::string_view source, std::string_view code);
  // One finished query; `outcome` "ok" or an error code name.
  void ObserveQuery(double seconds, std::string_view outcome);

  // Ingest batches admitted and not yet finished.
  std::atomic<int64_t> queue_depth{0};
  std::atomic<int64_t> tail_subscribers{0};

  // Adds a block of exposition text produced elsewhere (the ingest policies' counters, the
  // retention runner's), appended to Render()'s output. Call before serving; `section` is
  // called from HTTP threads and must be thread-safe.
  void AddSection(std::function<std::string()> section);

  // The exposition text. Per-environment sizes, quarantine counts and write stalls come from
  // `store` (which may be null).
  std::string Render(storage::Store* store) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,   1,    2.5,   10,   60};
  struct IngestCounters {
    uint64_t batches = 0, stored = 0, duplicates = 0, quarantined = 0, filtered = 0, bytes = 0;
  };
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, IngestCounters> ingest_;
  std::map<std::pair<std::string, std::string>, uint64_t> rejected_;
  std::map<std::string, Histogram> queries_;
  std::vector<std::function<std::string()>> sections_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_METRICS_H_
