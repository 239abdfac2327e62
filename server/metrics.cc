#include "server/metrics.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

void Metrics::AddSection(std::function<std::string()> section) {
  std::lock_guard<std::mutex> lock(mu_);
  sections_.push_back(std::move(section));
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
  std::vector<std::function<std::string()>> sections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sections = sections_;
  }
  for (const auto& section : sections) out += section();
  if (store == nullptr) return out;
  // One series per environment each, from the environment's Stats().
  struct EnvSeries {
    const char* name;
    const char* type;
    const char* help;
    std::function<std::string(const storage::EnvironmentStats&)> value;
  };
  EnvSeries series[] = {
      {"kq_events", "gauge", "Events stored per environment.",
       [](const auto& st) { return absl::StrCat(st.events); }},
      {"kq_raw_bytes", "gauge", "JSON bytes as ingested, per environment.",
       [](const auto& st) { return absl::StrCat(st.raw_bytes); }},
      {"kq_disk_bytes", "gauge", "Bytes on disk per environment (SST and WAL).",
       [](const auto& st) { return absl::StrCat(st.disk_bytes); }},
      {"kq_quarantined", "gauge", "Quarantine records per environment.",
       [](const auto& st) { return absl::StrCat(st.quarantined); }},
      {"kq_write_stopped", "gauge",
       "1 while the environment's store blocks writes (RocksDB write stop), else 0.",
       [](const auto& st) { return absl::StrCat(st.write_stopped ? 1 : 0); }},
      {"kq_write_delayed_rate_bytes", "gauge",
       "Throttled write rate in bytes/s while the store slows writes down, 0 otherwise.",
       [](const auto& st) { return absl::StrCat(st.delayed_write_rate); }},
      {"kq_write_stall_seconds_total", "counter",
       "Time writers spent stalled by the store since kqd started.",
       [](const auto& st) {
         return absl::StrFormat("%.6f", static_cast<double>(st.write_stall_micros) / 1e6);
       }},
      {"kq_write_slowdowns_total", "counter",
       "Times the store's column families entered the slowed-down write state.",
       [](const auto& st) { return absl::StrCat(st.write_slowdowns); }},
      {"kq_write_stops_total", "counter",
       "Times the store's column families entered the stopped write state.",
       [](const auto& st) { return absl::StrCat(st.write_stops); }},
  };
  std::string lines[std::size(series)];
  std::string tiers;
  for (const auto& name : store->EnvironmentNames()) {
    storage::Environment* env = store->Find(name);
    if (env == nullptr) continue;
    absl::StatusOr<storage::EnvironmentStats> st = env->Stats();
    if (!st.ok()) continue;
    for (size_t i = 0; i < std::size(series); ++i) {
      absl::StrAppend(&lines[i], series[i].name, "{env=\"", name, "\"} ", series[i].value(*st),
                      "\n");
    }
    std::map<std::string, uint64_t> by_tier;
    for (const auto& ns : st->namespaces) by_tier[ns.tier] += ns.disk_bytes;
    for (const auto& [tier, bytes] : by_tier) {
      absl::StrAppend(&tiers, "kq_tier_disk_bytes{env=\"", name, "\",tier=\"", tier, "\"} ", bytes,
                      "\n");
    }
  }
  for (size_t i = 0; i < std::size(series); ++i) {
    header(series[i].name, series[i].type, series[i].help);
    out += lines[i];
  }
  header("kq_tier_disk_bytes", "gauge", "Estimated bytes on disk per environment and tier.");
  out += tiers;
  return out;
}

}  // namespace kq::server
