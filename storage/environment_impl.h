// EnvironmentImpl: one environment's RocksDB instance and the write, merge, retention and
// quarantine paths over it (docs/format.md). Internal to the storage module; callers use
// storage/store.h. Thread-safe. Owns a background merge thread, stopped by the destructor.
// Readers (NewReader) hold a RocksDB snapshot and must be destroyed before their environment.
#ifndef KQ_STORAGE_ENVIRONMENT_IMPL_H_
#define KQ_STORAGE_ENVIRONMENT_IMPL_H_

#include <rocksdb/db.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "storage/audit_runs.h"
#include "storage/store.h"

namespace rocksdb {
class Cache;
class Logger;
class WriteBufferManager;
}  // namespace rocksdb

namespace kq::storage {

struct EncodedSegment;
class SegmentBuilder;

class EnvironmentImpl;

// The RocksDB snapshot of `reader` when it was made by `env`'s NewReader(), else nullptr.
const rocksdb::Snapshot* SnapshotOf(const Reader& reader, const EnvironmentImpl* env);

// A RocksDB logger that writes RocksDB's warnings and errors to kq's log, naming `env`, and drops
// its informational messages (StoreOptions::rocksdb_log_file off).
std::shared_ptr<rocksdb::Logger> NewKqRocksDbLogger(std::string env);

// Converts a RocksDB status once, at the edge; corruption becomes DataLoss naming `context`.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view context);

struct SharedResources {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  uint64_t memory_budget_bytes = 0;
};

// The SST file IngestAuditIdRuns writes before moving it into the index; removed at open when
// a crash left it.
std::string IngestFilePath(const std::string& dir);

class EnvironmentImpl : public Environment {
 public:
  // Column family indexes into handles().
  enum Cf {
    kMeta = 0,
    kSegments,
    kSummaries,
    kBodies,
    kDedupe,
    kQuarantine,
    kAuditIds,
    kAuditRuns,
    kNumCfs
  };

  [[nodiscard]] static absl::StatusOr<std::unique_ptr<EnvironmentImpl>> Open(
      const std::string& name, const std::string& dir, const StoreOptions& options,
      const SharedResources& shared);
  ~EnvironmentImpl() override;

  const std::string& name() const override { return name_; }
  [[nodiscard]] absl::Status Append(std::span<const Event> events, AppendResult* result) override;
  std::unique_ptr<AppendStream> BeginAppend() override;
  std::unique_ptr<Reader> NewReader() override;
  [[nodiscard]] absl::StatusOr<uint64_t> AddQuarantine(QuarantineRecord record) override;
  [[nodiscard]] absl::StatusOr<std::vector<QuarantineRecord>> ListQuarantine(size_t limit) override;
  [[nodiscard]] absl::StatusOr<QuarantineRecord> GetQuarantine(uint64_t id) override;
  [[nodiscard]] absl::StatusOr<EnvironmentStats> Stats() override;
  [[nodiscard]] absl::Status DropBodies(TimeMicros from, TimeMicros to,
                                        std::span<const std::string> namespaces) override;
  [[nodiscard]] absl::Status DeleteRange(TimeMicros from, TimeMicros to,
                                         std::span<const std::string> namespaces) override;
  [[nodiscard]] absl::Status DeleteSeen(const Reader& reader, TimeMicros from, TimeMicros to,
                                        std::span<const std::string> namespaces) override;
  [[nodiscard]] absl::Status Flush() override;

  // Merges groups of small segments of one (bucket, namespace); `all` merges every group with
  // two or more small segments (two groups at a time), else only groups with many. Returns the
  // small segments merged away.
  [[nodiscard]] absl::StatusOr<uint64_t> MergeSmallSegments(bool all);

  // How a write's events fared against dedupe (ClaimEvents).
  struct Claims {
    std::vector<uint32_t> keep;                            // the events to store, by index
    std::vector<std::pair<TimeMicros, uint64_t>> claimed;  // (hour, hash) per kept event
    std::vector<TimeMicros> hours;                         // the bucket of every event
  };
  // Claims the dedupe hash of each event; an event whose hash was claimed before (stored, or
  // earlier in `events`) is counted in result->duplicates and not kept. Adds the deletion of
  // expired dedupe records to `batch`. On error nothing stays claimed.
  [[nodiscard]] absl::Status ClaimEvents(std::span<const Event> events, Claims* claims,
                                         AppendResult* result, rocksdb::WriteBatch* batch);
  // Gives claims back (their events were not stored).
  void Unclaim(std::span<const std::pair<TimeMicros, uint64_t>> claimed);
  // Unclaim's work; requires dedupe_mu_.
  void EraseClaims(std::span<const std::pair<TimeMicros, uint64_t>> claimed);
  // Adds the persisted form of `claimed` to `batch`, which must also store their events: one
  // value per (hour, write), keyed by hour so that old hours go with one range deletion. Sorts
  // *claimed.
  void PutClaims(std::vector<std::pair<TimeMicros, uint64_t>>* claimed, rocksdb::WriteBatch* batch);
  // Seals `run`, adds it to `batch` and publishes it to readers, before `batch` is written (a
  // reader whose snapshot shows the write must know its keys). Returns its id, for
  // WithdrawAuditIdRun when the write fails.
  uint64_t StageAuditIdRun(AuditIdRun run, rocksdb::WriteBatch* batch);
  void WithdrawAuditIdRun(uint64_t id);
  // Unpublishes the runs `ids` (they were ingested, or their write failed). Requires runs_mu_.
  void DropRuns(const absl::flat_hash_set<uint64_t>& ids);
  // Writes a batch of new segments (durable under the configured Durability) and counts it
  // towards the next background merge.
  [[nodiscard]] absl::Status WriteAppended(rocksdb::WriteBatch* batch);
  // Adds `enc` to `batch` under a new segment id in `group` (a SegmentPrefix).
  void PutSegment(std::string_view group, const EncodedSegment& enc, rocksdb::WriteBatch* batch);
  uint64_t DedupeHash(const Event& e) const;
  // Segment builders for writes, kept between them: their buffers keep their capacity (about
  // 3 % of the append CPU). TakeBuilder makes one when none is idle; ReturnBuilder keeps at
  // most kIdleBuilders (append.cc), and not one that held more than kKeptBuilderRows rows in
  // its last write (`rows`): its buffers would keep that size while idle.
  std::unique_ptr<SegmentBuilder> TakeBuilder();
  void ReturnBuilder(std::unique_ptr<SegmentBuilder> builder, size_t rows);

  // Removes auditID index keys of (bucket, namespace) groups that have no segments left (after
  // DeleteRange). Runs in the background after a DeleteRange; reads the whole index. Returns
  // the keys removed.
  [[nodiscard]] absl::StatusOr<uint64_t> SweepAuditIndex();
  // The dedupe hashes of `hour`, read from the dedupe column family the first time the hour is
  // asked for (opening a store reads none). Requires dedupe_mu_.
  [[nodiscard]] absl::StatusOr<absl::flat_hash_set<uint64_t>*> DedupeSetOf(TimeMicros hour);
  // Asks the merge thread for a SweepAuditIndex once deletions pause (see
  // sweep_pending_since_). Called after every deletion of segments.
  void RequestIndexSweep();
  // Moves every published auditID index run into `auditids` as one ingested SST file, then
  // deletes the runs. Returns the keys ingested. Runs in the background once runs hold
  // kIngestRunKeys keys, and in Flush.
  [[nodiscard]] absl::StatusOr<uint64_t> IngestAuditIdRuns();
  // A snapshot for a reader (to release with ReleaseSnapshot) and the runs that go with it:
  // every run of a write the snapshot shows is among them.
  const rocksdb::Snapshot* SnapshotWithRuns(std::shared_ptr<const AuditIdRuns>* runs);
  // The number of distinct auditID index keys, in `auditids` or in runs (reads the whole
  // index; for tests).
  [[nodiscard]] absl::StatusOr<uint64_t> CountAuditIndexKeys();
  // The auditID index runs not yet moved into the index (for tests).
  size_t PendingAuditIdRuns();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return handles_[c]; }
  const std::string& dir() const { return dir_; }

 private:
  EnvironmentImpl(std::string name, std::string dir, const StoreOptions& options);
  [[nodiscard]] absl::Status OpenDb(const SharedResources& shared);
  [[nodiscard]] absl::Status Recover();
  [[nodiscard]] absl::Status Write(rocksdb::WriteBatch* batch);
  // Calls on_group once ("" prefix when `namespaces` is empty, else per (bucket, namespace)
  // present) and on_summary (may be empty) per summary in the range; writes one batch.
  [[nodiscard]] absl::Status ForEachGroup(
      TimeMicros from, TimeMicros to, std::span<const std::string> namespaces,
      const std::function<void(const std::string& prefix, rocksdb::WriteBatch*)>& on_group,
      const std::function<void(const std::string& key, std::string summary, rocksdb::WriteBatch*)>&
          on_summary);
  // Calls `fn` per summary with bucket in [from, to) and namespace in `namespaces` (empty:
  // all), in key order, read at `snapshot` (nullptr: the latest state).
  [[nodiscard]] absl::Status ForEachSummary(
      const rocksdb::Snapshot* snapshot, TimeMicros from, TimeMicros to,
      std::span<const std::string> namespaces,
      const std::function<void(const std::string& key, TimeMicros bucket, const std::string& ns,
                               const rocksdb::Slice& summary)>& fn);
  void MergeLoop();
  // Whether any segment of the group (a SegmentPrefix) exists now.
  [[nodiscard]] absl::StatusOr<bool> GroupExists(std::string_view group);
  // Adds to `batch` the deletion of every key of the segment `key` (both parts, summary,
  // bodies): the keys PutSegment writes.
  void DeleteSegment(const std::string& key, rocksdb::WriteBatch* batch);
  void ExpireDedupe(TimeMicros newest_hour, rocksdb::WriteBatch* batch);

  const std::string name_;
  const std::string dir_;
  const StoreOptions options_;
  int lock_fd_ = -1;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  std::mutex id_mu_;
  uint64_t next_segment_id_ = 1;
  uint64_t next_quarantine_id_ = 1;
  uint64_t next_dedupe_id_ = 1;

  uint64_t next_run_id_ = 1;  // guarded by id_mu_

  // auditID index runs not yet ingested (replaced, never changed, so readers can keep one).
  std::mutex runs_mu_;
  std::shared_ptr<const AuditIdRuns> runs_ = std::make_shared<AuditIdRuns>();
  uint64_t run_keys_ = 0;  // keys in runs_

  // Dedupe memory: hashes per hour of requestReceivedTimestamp.
  std::mutex dedupe_mu_;
  std::map<TimeMicros, absl::flat_hash_set<uint64_t>> dedupe_;  // hours loaded so far
  TimeMicros dedupe_newest_hour_ = INT64_MIN;
  TimeMicros dedupe_oldest_hour_ = INT64_MAX;  // no persisted dedupe record is older

  std::mutex builders_mu_;
  std::vector<std::unique_ptr<SegmentBuilder>> idle_builders_;

  // Held by merges, retention and the index sweep so they never interleave.
  std::mutex maintenance_mu_;
  // Held shared by Append while it writes, exclusively by the index sweep while it deletes.
  std::shared_mutex index_mu_;

  std::mutex merge_mu_;
  std::condition_variable merge_cv_;
  bool stop_ = false;
  uint64_t appends_since_merge_ = 0;
  // Deletions not yet followed by an auditID index sweep. A sweep reads the whole index, so it
  // waits until no deletion came for kSweepQuiet (a retention run deletes many ranges in a row)
  // or kSweepMaxDelay passed since the first pending one.
  std::optional<std::chrono::steady_clock::time_point> sweep_pending_since_;
  std::chrono::steady_clock::time_point last_deletion_;
  std::thread merge_thread_;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_ENVIRONMENT_IMPL_H_
