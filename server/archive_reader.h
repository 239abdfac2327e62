// A storage::Reader over one environment's archive files (retention/archive.h), so queries
// read archived ranges without restoring them: the query source `archive("prod")`.
//
// Scan lists the environment's partitions, skips those whose day or namespace is outside the
// ScanRange and the parts whose time range is, reads the rest (each part's sha256 checked
// first: DataLoss when altered), decodes the events (storage::Decoder) and hands them out
// through a MemoryReader, one batch per (hour, namespace), hours in scan order. ScanStats count
// parts as segments: segments_total parts listed, segments_pruned skipped unread,
// segments_read read, bytes_read their stored (compressed) bytes. Only one day's events are in
// memory at a time. Archive lines are the original event JSON, without kq's cluster attribution:
// the cluster column is null, as the store gives it for an event without one. Lookups scan
// (archives have no index). The reader owns nothing but paths; the archive must not be deleted
// under it. Thread-compatible, as storage::Reader.
#ifndef KQ_SERVER_ARCHIVE_READER_H_
#define KQ_SERVER_ARCHIVE_READER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/event.h"
#include "storage/scan.h"

namespace kq::server {

class ArchiveReader : public storage::Reader {
 public:
  // `root` is the archive root (kqd's archive-root); `env` the environment's name.
  ArchiveReader(std::string root, std::string env) : root_(std::move(root)), env_(std::move(env)) {}

  [[nodiscard]] absl::Status Scan(const storage::ScanRange& range, const storage::BatchCallback& fn,
                                  storage::ScanStats* stats) override;
  [[nodiscard]] absl::Status LookupAuditId(std::string_view audit_id,
                                           const storage::BatchCallback& fn,
                                           storage::ScanStats* stats) override;
  [[nodiscard]] absl::Status LookupName(std::string_view name, const storage::ScanRange& range,
                                        const storage::BatchCallback& fn,
                                        storage::ScanStats* stats) override;
  // Distinct values of the archive's manifests are not kept: an empty list.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> DistinctValues(storage::Column c,
                                                                        size_t limit) override;

 private:
  // Scan with an optional row filter (for the lookups).
  [[nodiscard]] absl::Status ScanWhere(const storage::ScanRange& range,
                                       const std::function<bool(const storage::Event&)>& keep,
                                       const storage::BatchCallback& fn, storage::ScanStats* stats);
  std::string root_;
  std::string env_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_ARCHIVE_READER_H_
