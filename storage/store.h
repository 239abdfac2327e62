// The store: one RocksDB instance per environment, under one memory budget.
//
// CONTRACT between storage (implements) and server/retention/tools (call). Change it only
// together with every caller.
//
// Environments are physically apart: each has its own directory, WAL, files and lock, and work
// on one never opens another's files. The block cache and write-buffer manager are shared so
// that `memory_budget_bytes` bounds the whole process.
#ifndef KQ_STORAGE_STORE_H_
#define KQ_STORAGE_STORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "storage/event.h"
#include "storage/scan.h"

namespace kq::storage {

struct EnvironmentOptions {
  std::string name;  // [a-z0-9][a-z0-9_-]*, e.g. "prod"
  std::string dir;   // empty: <StoreOptions::data_dir>/<name>
};

enum class Durability {
  kSync,      // default: Append returns after the WAL is fsynced (group commit shares syncs)
  kBuffered,  // Append returns after the WAL write; a machine crash may lose the last writes
};

struct StoreOptions {
  std::string data_dir;  // required
  // Default: prod and dev.
  std::vector<EnvironmentOptions> environments = {{"prod", ""}, {"dev", ""}};
  // Block cache + memtables of all environments together. Unit: bytes. Default 256 MiB.
  uint64_t memory_budget_bytes = 256ull << 20;
  Durability durability = Durability::kSync;
  // Whether RocksDB writes its own LOG file into each environment's directory (flushes,
  // compactions, a stats dump every 10 minutes; up to about 12 MiB each), for investigating
  // write stalls. Off (default): RocksDB's warnings and errors go to kq's log, nothing else.
  bool rocksdb_log_file = false;
  // Events with the same (auditID, stage, stageTimestamp, content hash) within this window of
  // requestReceivedTimestamp are stored once. Unit: micros. Default 1 hour.
  TimeMicros dedupe_window = kMicrosPerHour;
  Clock* clock = Clock::Real();  // not owned
};

struct AppendResult {
  uint64_t stored = 0;
  uint64_t duplicates = 0;  // skipped by dedupe
};

// A record of input that could not be decoded, kept so that nothing is lost silently.
struct QuarantineRecord {
  uint64_t id = 0;          // assigned by the store, increasing
  TimeMicros received = 0;  // when kq saw it
  std::string source;       // "file:/var/log/audit.log:1234", "webhook:prod/c1 batch 17", ...
  std::string reason;       // what was wrong, for a person
  std::string payload;      // the bytes as received (possibly truncated to a limit)
};

// Bytes and events per (tier, namespace). Tier names: "hot" (full), "warm" (bodies dropped).
struct NamespaceStats {
  std::string tier;
  std::string ns;
  uint64_t events = 0;
  uint64_t raw_bytes = 0;   // JSON bytes as ingested
  uint64_t disk_bytes = 0;  // estimated bytes on disk, bodies and indexes included
};
struct EnvironmentStats {
  std::string env;
  uint64_t events = 0;
  uint64_t raw_bytes = 0;
  uint64_t disk_bytes = 0;  // all column families and indexes (SST + WAL)
  uint64_t quarantined = 0;
  TimeMicros oldest = 0, newest = 0;
  std::vector<NamespaceStats> namespaces;
  // Write stalls (RocksDB throttling writes while flushes/compactions catch up), at the time
  // of the call. write_stopped: writes are blocked now. delayed_write_rate: the throttled write
  // rate in bytes/s while writes are slowed down, 0 otherwise. The rest are cumulative since
  // the store was opened: microseconds writers spent stalled, and how many times the column
  // families entered the slowed-down and the stopped state.
  bool write_stopped = false;
  uint64_t delayed_write_rate = 0;
  uint64_t write_stall_micros = 0;
  uint64_t write_slowdowns = 0;
  uint64_t write_stops = 0;
};

// A write in parts, for large writes decoded piece by piece (kq import): each Add dedupes and
// encodes its events at once, so the caller may reuse or free them when Add returns, and
// Commit stores everything added with one durable write, as one Append of all the events
// would (all or nothing). A stream destroyed without a successful Commit stores nothing.
// After an error from Add, Commit returns that error. One writer at a time per stream.
class AppendStream {
 public:
  virtual ~AppendStream() = default;
  [[nodiscard]] virtual absl::Status Add(std::span<const Event> events) = 0;
  // Returns once durable under the configured Durability; *result counts every event added.
  [[nodiscard]] virtual absl::Status Commit(AppendResult* result) = 0;
};

// One environment's store. Thread-safe.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual const std::string& name() const = 0;

  // Stores `events` (env attribution is set to name()); returns once durable under the
  // configured Durability. Concurrent callers share WAL syncs.
  [[nodiscard]] virtual absl::Status Append(std::span<const Event> events,
                                            AppendResult* result) = 0;
  // Starts a write in parts (AppendStream). Appends and streams may run at once.
  virtual std::unique_ptr<AppendStream> BeginAppend() = 0;
  // A consistent snapshot for reading; sees everything Append acknowledged before the call.
  virtual std::unique_ptr<Reader> NewReader() = 0;

  [[nodiscard]] virtual absl::StatusOr<uint64_t> AddQuarantine(QuarantineRecord record) = 0;
  // Newest first, at most `limit`.
  [[nodiscard]] virtual absl::StatusOr<std::vector<QuarantineRecord>> ListQuarantine(
      size_t limit) = 0;
  [[nodiscard]] virtual absl::StatusOr<QuarantineRecord> GetQuarantine(uint64_t id) = 0;

  [[nodiscard]] virtual absl::StatusOr<EnvironmentStats> Stats() = 0;

  // Retention primitives; each costs a constant number of RocksDB range deletions per
  // (bucket range, namespace), independent of the event count. [from, to) on bucket start.
  // `namespaces` empty means all.
  [[nodiscard]] virtual absl::Status DropBodies(TimeMicros from, TimeMicros to,
                                                std::span<const std::string> namespaces) = 0;
  [[nodiscard]] virtual absl::Status DeleteRange(TimeMicros from, TimeMicros to,
                                                 std::span<const std::string> namespaces) = 0;
  // Like DeleteRange, but removes only the segments `reader` sees (`reader` must come from this
  // environment's NewReader()): events appended after the reader's snapshot survive. Retention
  // archives what a reader saw, then deletes exactly that. A segment merged after the snapshot
  // survives too (its events are seen again by the next reader). Cost: point deletions per
  // segment seen (a segment holds up to 65,536 events), not per event.
  [[nodiscard]] virtual absl::Status DeleteSeen(const Reader& reader, TimeMicros from,
                                                TimeMicros to,
                                                std::span<const std::string> namespaces) = 0;

  // Seals recent events into segments and flushes memtables (used at shutdown and in tests).
  [[nodiscard]] virtual absl::Status Flush() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed) every configured environment. A directory locked by another
  // process fails with FailedPrecondition "... locked by pid N"; corrupt files with DataLoss
  // naming the file.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // nullptr when `env` is not configured.
  virtual Environment* Find(std::string_view env) = 0;
  virtual std::vector<std::string> EnvironmentNames() const = 0;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_STORE_H_
