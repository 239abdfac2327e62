#include "server/metrics.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kq::server {

void Metrics::AddIngest(std::string_view env, std::string_view source, uint64_t stored,
                        uint64_t duplicates, uint64_t quarantined, uint64_t filtered,
                        uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = ingest_[{std::string(env), std::string(source)}];
  c.batches++;
  c.stored += stored;
  c.duplicates += duplicates;
  c.quarantined += quarantined;
  c.filtered += filtered;
  c.bytes += bytes;
}

void Metrics::AddRejected(std::string_view source, std::string_view code) {
  std::lock_guard<std::mutex> lock(mu_);
  rejected_[{std::string(source), std::string(code)}]++;
}

void Metrics::ObserveQuery(double seconds, std::string_view outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& h = queries_[std::string(outcome)];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) h.buckets[i]++;
  }
  h.count++;
  h.sum += seconds;
}

std::string Metrics::Render(storage::Store* store) const {
  std::string out;
  auto header = [&out](std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&out, "# HELP ", Sv(name), " ", Sv(help), "\n# TYPE ", Sv(name), " ", Sv(type),
                    "\n");
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    struct Field {
      const char* name;
      const char* help;
      uint64_t IngestCounters::*member;
    };
    const Field fields[] = {
        {"kq_ingest_batches_total", "Ingest batches finished.", &IngestCounters::batches},
        {"kq_ingest_events_stored_total", "Events written durably.", &IngestCounters::stored},
        {"kq_ingest_events_duplicate_total", "Events skipped as duplicates.",
         &IngestCounters::duplicates},
        {"kq_ingest_items_quarantined_total", "Items kept in quarantine.",
         &IngestCounters::quarantined},
        {"kq_ingest_events_filtered_total", "Events dropped by the audit policy.",
         &IngestCounters::filtered},
        {"kq_ingest_bytes_total", "Request bytes received for ingest.", &IngestCounters::bytes},
    };
    for (const auto& f : fields) {
      header(f.name, "counter", f.help);
      for (const auto& [key, c] : ingest_) {
        absl::StrAppend(&out, f.name, "{env=\"", key.first, "\",source=\"", key.second, "\"} ",
                        c.*(f.member), "\n");
      }
    }
    header("kq_ingest_rejected_total", "counter", "Ingest requests refused, by status.");
    for (const auto& [key, n] : rejected_) {
      absl::StrAppend(&out, "kq_ingest_rejected_total{source=\"", key.first, "\",code=\"",
                      key.second, "\"} ", n, "\n");
    }
    header("kq_query_duration_seconds", "histogram", "Query wall time, by outcome.");
    for (const auto& [outcome, h] : queries_) {
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        absl::StrAppend(&out, "kq_query_duration_seconds_bucket{outcome=\"", outcome, "\",le=\"",
                        kBuckets[i], "\"} ", h.buckets[i], "\n");
      }
      absl::StrAppend(&out, "kq_query_duration_seconds_bucket{outcome=\"", outcome,
                      "\",le=\"+Inf\"} ", h.count, "\n");
      absl::StrAppend(&out, "kq_query_duration_seconds_sum{outcome=\"", outcome, "\"} ", h.sum,
                      "\n");
      absl::StrAppend(&out, "kq_query_duration_seconds_count{outcome=\"", outcome, "\"} ", h.count,
                      "\n");
    }
  }
  header("kq_ingest_queue_depth", "gauge", "Ingest batches admitted and not yet finished.");
  absl::StrAppend(&out, "kq_ingest_queue_depth ", queue_depth.load(), "\n");
  header("kq_tail_subscribers", "gauge", "Open Tail streams.");
  absl::StrAppend(&out, "kq_tail_subscribers ", tail_subscribers.load(), "\n");
  if (store == nullptr) return out;
  std::string events, raw, disk, quarantined, tiers;
  for (const auto& name : store->EnvironmentNames()) {
    storage::Environment* env = store->Find(name);
    if (env == nullptr) continue;
    absl::StatusOr<storage::EnvironmentStats> st = env->Stats();
    if (!st.ok()) continue;
    absl::StrAppend(&events, "kq_events{env=\"", name, "\"} ", st->events, "\n");
    absl::StrAppend(&raw, "kq_raw_bytes{env=\"", name, "\"} ", st->raw_bytes, "\n");
    absl::StrAppend(&disk, "kq_disk_bytes{env=\"", name, "\"} ", st->disk_bytes, "\n");
    absl::StrAppend(&quarantined, "kq_quarantined{env=\"", name, "\"} ", st->quarantined, "\n");
    std::map<std::string, uint64_t> by_tier;
    for (const auto& ns : st->namespaces) by_tier[ns.tier] += ns.disk_bytes;
    for (const auto& [tier, bytes] : by_tier) {
      absl::StrAppend(&tiers, "kq_tier_disk_bytes{env=\"", name, "\",tier=\"", tier, "\"} ", bytes,
                      "\n");
    }
  }
  header("kq_events", "gauge", "Events stored per environment.");
  out += events;
  header("kq_raw_bytes", "gauge", "JSON bytes as ingested, per environment.");
  out += raw;
  header("kq_disk_bytes", "gauge", "Bytes on disk per environment (SST and WAL).");
  out += disk;
  header("kq_tier_disk_bytes", "gauge", "Estimated bytes on disk per environment and tier.");
  out += tiers;
  header("kq_quarantined", "gauge", "Quarantine records per environment.");
  out += quarantined;
  return out;
}

}  // namespace kq::server
