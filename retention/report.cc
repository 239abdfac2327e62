#include "retention/report.h"

#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/archive.h"
#include "storage/compressed_file.h"
#include "storage/decoder.h"
#include "storage/event_json.h"

namespace kq::retention {
namespace {

// The last week of one namespace, from the scan.
struct Sample {
  uint64_t events_1d = 0;
  uint64_t events_7d = 0;
  uint64_t json_bytes = 0;
  uint64_t body_bytes = 0;
  // The compression sample: the first events of the latest complete day, without bodies, as
  // JSON lines (what that day's archive part would hold).
  TimeMicros sample_day = INT64_MIN;
  uint64_t sampled = 0;
  std::string sample_lines;
};

// Events and bytes of one tier, for a bytes-per-event figure.
struct Measured {
  uint64_t events = 0;
  uint64_t bytes = 0;
  double PerEvent() const { return events > 0 ? static_cast<double>(bytes) / events : 0; }
};

// The UTC midnight at or before `t`.
TimeMicros DayFloor(TimeMicros t) {
  return t - ((t % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay;
}

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

// 12345 -> "12,345".
std::string Thousands(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// A tier's bytes per event from the namespace's own measurement, else the environment's;
// false when neither has events. Basis: "<verb>[the environment's ]N <noun>".
bool Pick(const Measured& own, const Measured& env, std::string_view verb, std::string_view noun,
          double* per_event, std::string* basis) {
  const Measured& m = own.events > 0 ? own : env;
  if (m.events == 0) return false;
  *per_event = m.PerEvent();
  *basis = absl::StrCat(Sv(verb), own.events > 0 ? "" : "the environment's ", Thousands(m.events),
                        " ", Sv(noun));
  return true;
}

std::string PerEvent(double b) { return absl::StrFormat("%.0f B/event", b); }

// The event as the archive holds it once the warm tier dropped its bodies.
absl::StatusOr<std::string> WarmJson(storage::Decoder& decoder, std::string_view json) {
  storage::Event e;
  KQ_RETURN_IF_ERROR(decoder.DecodeEvent(json, &e));
  e.request_object.reset();
  e.response_object.reset();
  return storage::EventToJson(e);
}

// Compresses `lines` (JSON lines) as an archive part is written; returns its zstd bytes.
absl::StatusOr<uint64_t> ZstdBytes(const std::string& lines) {
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::CompressedFileWriter> w,
                      storage::CompressedFileWriter::Create("/dev/null", kArchiveZstdLevel));
  KQ_RETURN_IF_ERROR(w->Append(lines));
  KQ_RETURN_IF_ERROR(w->Finish(/*sync=*/false));
  return w->bytes_out();
}

}  // namespace

absl::StatusOr<CostReport> BuildCostReport(const EnvironmentRetention& policy,
                                           storage::Environment* env,
                                           const std::string& archive_root, Clock* clock) {
  CostReport report;
  report.env = env->name();
  report.now = clock->Now();
  std::map<std::string, NamespaceCost> by_ns;
  std::map<std::string, Measured> raw;  // JSON bytes at ingest
  Measured env_hot, env_warm, env_archive;
  KQ_ASSIGN_OR_RETURN(storage::EnvironmentStats stats, env->Stats());
  for (const storage::NamespaceStats& n : stats.namespaces) {
    NamespaceCost& c = by_ns[n.ns];
    bool warm = n.tier == "warm";
    (warm ? c.warm_events : c.hot_events) += n.events;
    (warm ? c.warm_bytes : c.hot_bytes) += n.disk_bytes;
    Measured& m = warm ? env_warm : env_hot;
    m.events += n.events;
    m.bytes += n.disk_bytes;
    raw[n.ns].events += n.events;
    raw[n.ns].bytes += n.raw_bytes;
  }
  if (!archive_root.empty()) {
    KQ_ASSIGN_OR_RETURN(std::vector<ArchivePartition> partitions,
                        ListPartitions(archive_root, report.env));
    for (const ArchivePartition& p : partitions) {
      NamespaceCost& c = by_ns[p.ns];
      for (const ArchivePart& part : p.parts) {
        c.archive_events += part.events;
        c.archive_bytes += part.bytes;
        env_archive.events += part.events;
        env_archive.bytes += part.bytes;
      }
    }
  }
  // The last week: rates, body share, and, for namespaces that archive but have nothing
  // archived yet, the compression sample.
  std::map<std::string, Sample> samples;
  std::map<std::string, bool> wants_sample;
  auto sampled_ns = [&](const std::string& ns) {
    auto it = wants_sample.find(ns);
    if (it == wants_sample.end()) {
      auto found = by_ns.find(ns);
      bool archived = found != by_ns.end() && found->second.archive_events > 0;
      it = wants_sample.emplace(ns, !archived && policy.ForNamespace(ns).archive).first;
    }
    return it->second;
  };
  const TimeMicros today = DayFloor(report.now);
  storage::Decoder decoder;
  storage::ScanRange range;
  range.from = report.now - 7 * kMicrosPerDay;
  range.to = report.now;
  std::unique_ptr<storage::Reader> reader = env->NewReader();
  storage::ScanStats scan_stats;
  KQ_RETURN_IF_ERROR(reader->Scan(
      range,
      [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
        const std::string ns(batch.ns());
        Sample& s = samples[ns];
        const bool sample = sampled_ns(ns);
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
          TimeMicros day = DayFloor(t);
          if (!sample || day >= today || day < s.sample_day) continue;
          if (day > s.sample_day) {
            s.sample_day = day;
            s.sampled = 0;
            s.sample_lines.clear();
          }
          if (s.sampled < kCostSampleEvents) {
            KQ_ASSIGN_OR_RETURN(std::string warm, WarmJson(decoder, json));
            absl::StrAppend(&s.sample_lines, warm, "\n");
            ++s.sampled;
          }
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

    const Measured hot{c.hot_events, c.hot_bytes}, warm{c.warm_events, c.warm_bytes},
        archived{c.archive_events, c.archive_bytes};
    if (!Pick(hot, env_hot, "measured over ", "hot events on disk", &c.hot_bytes_per_event,
              &c.hot_basis)) {
      c.hot_bytes_per_event = raw[ns].PerEvent();
      c.hot_basis = raw[ns].events > 0 ? "no hot data: JSON bytes at ingest" : "no data";
    }
    if (!Pick(warm, env_warm, "measured over ", "warm events on disk", &c.warm_bytes_per_event,
              &c.warm_basis)) {
      c.warm_bytes_per_event = c.hot_bytes_per_event * (1 - c.body_share);
      c.warm_basis =
          absl::StrFormat("no warm data: hot size x (1 - body share %.2f)", c.body_share);
    }
    // Sampled only when the namespace has nothing archived: its own sample comes before the
    // environment's archive, whose parts may be of another size.
    if (s.sampled > 0) {
      // That day's part, as the archive writer would write it.
      KQ_ASSIGN_OR_RETURN(uint64_t zstd_bytes, ZstdBytes(s.sample_lines));
      report.sample_events += s.sampled;
      report.sample_json_bytes += s.sample_lines.size();
      report.sample_zstd_bytes += zstd_bytes;
      c.archive_bytes_per_event = static_cast<double>(zstd_bytes) / s.sampled;
      c.archive_basis = absl::StrFormat(
          "no archive yet: %s events of %s without bodies, compressed as one part (zstd ratio "
          "%.3f)",
          Thousands(s.sampled), FormatTimestamp(s.sample_day).substr(0, 10),
          static_cast<double>(zstd_bytes) / s.sample_lines.size());
    } else if (!Pick(archived, env_archive, "estimated from ", "archived events",
                     &c.archive_bytes_per_event, &c.archive_basis)) {
      c.archive_basis = "no data";
    }
    if (!c.ages.archive) c.archive_basis = "no archive";

    double rate = c.events_per_day_7d;
    c.steady_hot_bytes = static_cast<uint64_t>(rate * Days(c.ages.hot) * c.hot_bytes_per_event);
    c.steady_warm_bytes = static_cast<uint64_t>(rate * Days(c.ages.LeaveStoreAt() - c.ages.hot) *
                                                c.warm_bytes_per_event);
    if (c.ages.archive) {
      c.steady_archive_bytes = static_cast<uint64_t>(rate * Days(*c.ages.archive - c.ages.warm) *
                                                     c.archive_bytes_per_event);
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
  if (!r.namespaces.empty()) absl::StrAppend(&out, "steady state per event:\n");
  for (const NamespaceCost& c : r.namespaces) {
    std::string name = c.ns.empty() ? "(cluster)" : c.ns;
    absl::StrAppend(&out, "  ", name, " (", c.ages.ToString(), ")\n");
    absl::StrAppend(&out, "    hot      ", PerEvent(c.hot_bytes_per_event), ", ", c.hot_basis,
                    "\n");
    absl::StrAppend(&out, "    warm     ", PerEvent(c.warm_bytes_per_event), ", ", c.warm_basis,
                    "\n");
    if (c.ages.archive) {
      absl::StrAppend(&out, "    archive  ", PerEvent(c.archive_bytes_per_event), ", ",
                      c.archive_basis, "\n");
    }
  }
  return out;
}

}  // namespace kq::retention
