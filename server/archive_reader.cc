#include "server/archive_reader.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "retention/archive.h"
#include "server/memory_reader.h"
#include "storage/decoder.h"

namespace kq::server {
namespace {

constexpr TimeMicros kBucket = kMicrosPerHour;  // as MemoryReader's batches

bool Wanted(const std::vector<std::string>& namespaces, const std::string& ns) {
  return namespaces.empty() ||
         std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

TimeMicros HourOf(TimeMicros t) { return t - (((t % kBucket) + kBucket) % kBucket); }

}  // namespace

absl::Status ArchiveReader::ScanWhere(const storage::ScanRange& range,
                                      const std::function<bool(const storage::Event&)>& keep,
                                      const storage::BatchCallback& fn, storage::ScanStats* stats) {
  storage::ScanStats local;
  storage::ScanStats& st = stats != nullptr ? *stats : local;
  KQ_ASSIGN_OR_RETURN(std::vector<retention::ArchivePartition> partitions,
                      retention::ListPartitions(root_, env_));
  // Partitions come sorted by day, then namespace: walk them day by day in scan order.
  std::vector<std::pair<size_t, size_t>> days;  // [begin, end) into partitions
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (days.empty() || partitions[days.back().first].day != partitions[i].day) {
      days.push_back({i, i + 1});
    } else {
      days.back().second = i + 1;
    }
  }
  if (range.newest_first) std::reverse(days.begin(), days.end());
  storage::Decoder decoder;
  for (auto [begin, end] : days) {
    std::vector<storage::Event> events;
    for (size_t i = begin; i < end; ++i) {
      const retention::ArchivePartition& p = partitions[i];
      bool partition_wanted =
          Wanted(range.namespaces, p.ns) && p.day + kMicrosPerDay > range.from && p.day < range.to;
      for (const retention::ArchivePart& part : p.parts) {
        ++st.segments_total;
        if (!partition_wanted || part.max_time < range.from || part.min_time >= range.to) {
          ++st.segments_pruned;
          continue;
        }
        ++st.segments_read;
        st.bytes_read += part.bytes;
        uint64_t line = 0;
        KQ_RETURN_IF_ERROR(
            retention::ReadPart(p, part, [&](std::string_view json) -> absl::StatusOr<bool> {
              ++line;
              storage::Event e;
              absl::Status s = decoder.DecodeEvent(json, &e);
              if (!s.ok()) {
                return absl::DataLossError(
                    absl::StrCat(p.dir, "/", part.file, " line ", line, ": ", s.message()));
              }
              if (e.request_received_time < range.from || e.request_received_time >= range.to ||
                  !keep(e)) {
                return true;
              }
              e.env = env_;
              events.push_back(std::move(e));
              return true;
            }).status());
      }
    }
    std::map<TimeMicros, std::vector<const storage::Event*>> hours;
    for (const storage::Event& e : events) hours[HourOf(e.request_received_time)].push_back(&e);
    bool stopped = false;
    storage::BatchCallback counted = [&](const storage::EventBatch& b) -> absl::StatusOr<bool> {
      st.rows_read += b.num_rows();
      KQ_ASSIGN_OR_RETURN(bool more, fn(b));
      stopped = !more;
      return more;
    };
    auto scan_hour = [&](std::vector<const storage::Event*> rows) -> absl::Status {
      MemoryReader reader(std::move(rows));
      return reader.Scan(storage::ScanRange(), counted, nullptr);
    };
    if (range.newest_first) {
      for (auto it = hours.rbegin(); it != hours.rend() && !stopped; ++it) {
        KQ_RETURN_IF_ERROR(scan_hour(std::move(it->second)));
      }
    } else {
      for (auto it = hours.begin(); it != hours.end() && !stopped; ++it) {
        KQ_RETURN_IF_ERROR(scan_hour(std::move(it->second)));
      }
    }
    if (stopped) break;
  }
  return absl::OkStatus();
}

absl::Status ArchiveReader::Scan(const storage::ScanRange& range, const storage::BatchCallback& fn,
                                 storage::ScanStats* stats) {
  return ScanWhere(
      range, [](const storage::Event&) { return true; }, fn, stats);
}

absl::Status ArchiveReader::LookupAuditId(std::string_view audit_id,
                                          const storage::BatchCallback& fn,
                                          storage::ScanStats* stats) {
  return ScanWhere(
      storage::ScanRange(), [&](const storage::Event& e) { return e.audit_id == audit_id; }, fn,
      stats);
}

absl::Status ArchiveReader::LookupName(std::string_view name, const storage::ScanRange& range,
                                       const storage::BatchCallback& fn,
                                       storage::ScanStats* stats) {
  return ScanWhere(
      range, [&](const storage::Event& e) { return e.Name() == name; }, fn, stats);
}

absl::StatusOr<std::vector<std::string>> ArchiveReader::DistinctValues(storage::Column, size_t) {
  return std::vector<std::string>();
}

}  // namespace kq::server
