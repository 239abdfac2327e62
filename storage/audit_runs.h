// auditID index keys not yet in the `auditids` column family (docs/format.md, "auditID index"):
// each write's keys form one sorted run, stored in `auditruns` in the same WriteBatch as the
// write's segments and kept in memory; a background job moves many runs into `auditids` at once
// as one ingested SST file. So a write costs one RocksDB entry for its index keys instead of a
// skip-list insert per key. Internal to the storage module.
#ifndef KQ_STORAGE_AUDIT_RUNS_H_
#define KQ_STORAGE_AUDIT_RUNS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kq::storage {

class AuditIdRun {
 public:
  // Adds the key of an auditID, given its AuditIdHash, in `group` (a SegmentPrefix). Keys of one
  // group are added one after another (a write adds them group by group).
  void Add(uint32_t audit_hash, std::string_view group);
  // Sorts the keys by (hash, group) and drops repeats. Call once, after the last Add.
  void Seal();

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }
  // The groups holding keys of `audit_hash` (AuditIdHash). Sealed runs.
  void GroupsOf(uint32_t audit_hash, std::vector<std::string>* out) const;
  // Appends (audit hash, group) per key (AppendAuditIdIndexKey makes the key: sorting these
  // pairs sorts the keys). Views into this run.
  void AppendKeys(std::vector<std::pair<uint32_t, std::string_view>>* out) const;

  // AuditIdRun value (docs/format.md). Sealed runs.
  std::string Encode() const;
  // DataLoss naming `context` when `value` is not a well-formed run.
  [[nodiscard]] static absl::StatusOr<AuditIdRun> Decode(std::string_view value,
                                                         std::string_view context);

 private:
  std::vector<std::string> groups_;
  std::vector<std::pair<uint32_t, uint32_t>> keys_;  // (audit hash, index into groups_)
};

// The runs not yet moved into `auditids`, with their ids; immutable once published.
using AuditIdRuns = std::vector<std::pair<uint64_t, std::shared_ptr<const AuditIdRun>>>;

// The (audit hash, group) of every key of `runs`, sorted (so in index key order) and each once.
// Views into the runs.
std::vector<std::pair<uint32_t, std::string_view>> SortedKeys(const AuditIdRuns& runs);

}  // namespace kq::storage

#endif  // KQ_STORAGE_AUDIT_RUNS_H_
