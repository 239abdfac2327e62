#include "retention/report.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/time.h"
#include "retention/archive.h"

namespace kq::retention {
namespace {

struct Sample {
  uint64_t events_1d = 0;
  uint64_t events_7d = 0;
  uint64_t json_bytes = 0;
  uint64_t body_bytes = 0;
};

double Days(TimeMicros t) { return static_cast<double>(t) / kMicrosPerDay; }

void Add(const NamespaceCost& c, NamespaceCost* total) {
  total->hot_events += c.hot_events;
  total->hot_bytes += c.hot_bytes;
  total->warm_events += c.warm_events;
  total->warm_bytes += c.warm_bytes;
  total->archive_events += c.archive_events;
  total->archive_bytes += c.archive_bytes;
  total->events_per_day_1d += c.events_per_day_1d;
  total->events_per_day_7d += c.events_per_day_7d;
  total->steady_hot_bytes += c.steady_hot_bytes;
  total->steady_warm_bytes += c.steady_warm_bytes;
  total->steady_archive_bytes += c.steady_archive_bytes;
}

std::string Bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? absl::StrCat(b, " B") : absl::StrFormat("%.1f %s", v, units[u]);
}

}  // namespace

absl::StatusOr<CostReport> BuildCostReport(const EnvironmentRetention& policy,
                                           storage::Environment* env,
                                           const std::string& archive_root, Clock* clock) {
  CostReport report;
  report.env = env->name();
  report.now = clock->Now();
  std::map<std::string, NamespaceCost> by_ns;
  std::map<std::string, uint64_t> raw_bytes, raw_events;
  KQ_ASSIGN_OR_RETURN(storage::EnvironmentStats stats, env->Stats());
  for (const storage::NamespaceStats& n : stats.namespaces) {
    NamespaceCost& c = by_ns[n.ns];
    if (n.tier == "warm") {
      c.warm_events += n.events;
      c.warm_bytes += n.disk_bytes;
    } else {
      c.hot_events += n.events;
      c.hot_bytes += n.disk_bytes;
    }
    raw_bytes[n.ns] += n.raw_bytes;
    raw_events[n.ns] += n.events;
  }
  if (!archive_root.empty()) {
    KQ_ASSIGN_OR_RETURN(std::vector<ArchivePartition> partitions,
                        ListPartitions(archive_root, report.env));
    for (const ArchivePartition& p : partitions) {
      NamespaceCost& c = by_ns[p.ns];
      for (const ArchivePart& part : p.parts) {
        c.archive_events += part.events;
        c.archive_bytes += part.bytes;
      }
    }
  }
  // The last week, for rates and the body share.
  std::map<std::string, Sample> samples;
  storage::ScanRange range;
  range.from = report.now - 7 * kMicrosPerDay;
  range.to = report.now;
  std::unique_ptr<storage::Reader> reader = env->NewReader();
  storage::ScanStats scan_stats;
  KQ_RETURN_IF_ERROR(reader->Scan(
      range,
      [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
        Sample& s = samples[std::string(batch.ns())];
        const storage::IntColumn& time = batch.Ints(storage::Column::kTime);
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          TimeMicros t = time.values[row];
          if (!time.present[row] || t < range.from || t >= range.to) continue;
          ++s.events_7d;
          if (t >= report.now - kMicrosPerDay) ++s.events_1d;
          KQ_ASSIGN_OR_RETURN(std::string json, batch.EventJson(row));
          KQ_ASSIGN_OR_RETURN(std::string req, batch.RequestObject(row));
          KQ_ASSIGN_OR_RETURN(std::string resp, batch.ResponseObject(row));
          s.json_bytes += json.size();
          s.body_bytes += req.size() + resp.size();
        }
        return true;
      },
      &scan_stats));
  for (const auto& [ns, s] : samples) by_ns[ns];
  for (auto& [ns, c] : by_ns) {
    c.ns = ns;
    c.ages = policy.ForNamespace(ns);
    const Sample& s = samples[ns];
    c.events_per_day_1d = static_cast<double>(s.events_1d);
    c.events_per_day_7d = static_cast<double>(s.events_7d) / 7;
    c.body_share = s.json_bytes > 0 ? static_cast<double>(s.body_bytes) / s.json_bytes : 0;
    // What an archived event weighs: its JSON as the store gives it back (measured over the
    // last week), else the raw size at ingest.
    double raw_per_event = s.events_7d > 0 ? static_cast<double>(s.json_bytes) / s.events_7d
                           : raw_events[ns] > 0 && raw_bytes[ns] > 0
                               ? static_cast<double>(raw_bytes[ns]) / raw_events[ns]
                               : 0;
    double hot_per_event =
        c.hot_events > 0 ? static_cast<double>(c.hot_bytes) / c.hot_events : raw_per_event;
    double rate = c.events_per_day_7d;
    c.steady_hot_bytes = static_cast<uint64_t>(rate * Days(c.ages.hot) * hot_per_event);
    c.steady_warm_bytes = static_cast<uint64_t>(rate * Days(c.ages.LeaveStoreAt() - c.ages.hot) *
                                                hot_per_event * (1 - c.body_share));
    if (c.ages.archive) {
      c.steady_archive_bytes =
          static_cast<uint64_t>(rate * Days(*c.ages.archive - c.ages.warm) * raw_per_event);
    }
    Add(c, &report.total);
    report.namespaces.push_back(c);
  }
  return report;
}

std::string FormatCostReport(const CostReport& r) {
  std::string out =
      absl::StrCat("retention report for ", r.env, " at ", FormatTimestamp(r.now), "\n");
  absl::StrAppend(&out, absl::StrFormat("%-24s %10s %10s %10s %10s %10s %11s %11s %11s\n",
                                        "namespace", "hot", "warm", "archive", "ev/day 1d",
                                        "ev/day 7d", "steady hot", "steady warm", "steady arch"));
  auto line = [&](const std::string& name, const NamespaceCost& c) {
    absl::StrAppend(
        &out, absl::StrFormat("%-24s %10s %10s %10s %10.0f %10.1f %11s %11s %11s\n", name,
                              Bytes(c.hot_bytes), Bytes(c.warm_bytes), Bytes(c.archive_bytes),
                              c.events_per_day_1d, c.events_per_day_7d, Bytes(c.steady_hot_bytes),
                              Bytes(c.steady_warm_bytes), Bytes(c.steady_archive_bytes)));
  };
  for (const NamespaceCost& c : r.namespaces) line(c.ns.empty() ? "(cluster)" : c.ns, c);
  line("total", r.total);
  return out;
}

}  // namespace kq::retention
