// Archives: events moved out of the store into plain files that stay useful without kq.
//
// Layout (hive-style partitions, one per UTC day and namespace):
//
//   <root>/<env>/date=YYYY-MM-DD/ns=<namespace>/part-<n>.jsonl.zst
//   <root>/<env>/date=YYYY-MM-DD/ns=<namespace>/manifest.json
//
// Each part holds one original event JSON per line, as one zstd frame (with zstd's content
// checksum): `zstdcat part-1.jsonl.zst | jq` reads it. Cluster-scoped events (namespace "") go to
// ns=_cluster (a namespace cannot contain '_'). The manifest lists every part with its event
// count, byte size, time range and sha256; it is replaced atomically after the part file is
// durable, so a part that is not in the manifest was never committed. Parts are numbered from
// 1; events that reach an already archived day later (an import of old data) go to a new part.
//
// The manifest's sha256 and bytes are of the file as stored (compressed), so `sha256sum`
// checks them. Parts written plain (.jsonl, before compression) are still read and verified.
// Readers: zstdcat | jq, DuckDB read_json_auto('<root>/prod/*/*/*.jsonl.zst',
// hive_partitioning=1), ClickHouse file('<root>/prod/*/*/*.jsonl.zst', 'JSONEachRow').
//
// Functions on one partition are not safe to run concurrently with each other on the same
// partition; different partitions are independent.
#ifndef KQ_RETENTION_ARCHIVE_H_
#define KQ_RETENTION_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"

namespace kq::retention {

inline constexpr std::string_view kArchivePartExtension = ".jsonl.zst";
// zstd level of archive parts: 3 is zstd's default (fast; most of -19's ratio on audit JSON).
inline constexpr int kArchiveZstdLevel = 3;

struct ArchivePart {
  int number = 0;
  std::string file;  // "part-1.jsonl.zst", relative to the partition directory
  uint64_t events = 0;
  uint64_t bytes = 0;                     // of the file as stored (compressed)
  TimeMicros min_time = 0, max_time = 0;  // requestReceivedTimestamp range
  std::string sha256;                     // lower-case hex of the stored file's bytes
};

struct ArchivePartition {
  std::string env;
  TimeMicros day = 0;  // UTC midnight
  std::string ns;
  std::string dir;  // absolute partition directory
  std::vector<ArchivePart> parts;
};

// The directory of one partition.
std::string PartitionDir(std::string_view root, std::string_view env, TimeMicros day,
                         std::string_view ns);

// Reads a partition's manifest; a partition without one has no parts (NotFound is not an
// error: parts == {}). Malformed manifests: DataLoss naming the file.
[[nodiscard]] absl::StatusOr<ArchivePartition> ReadPartition(std::string_view root,
                                                             std::string_view env, TimeMicros day,
                                                             std::string_view ns);

// One event to archive: its JSON (one line, no newline inside) and requestReceivedTimestamp.
struct ArchiveEvent {
  std::string json;
  TimeMicros time = 0;
};

// Writes `events` as part `part_number` of the partition and commits it to the manifest.
// Idempotent: when the manifest already lists `part_number`, nothing is written and the listed
// part is returned. Returns the part and, in *manifest_sha256, the digest of the new manifest.
// `sync` false skips the fsyncs (tests only: a machine crash could then lose a committed part).
[[nodiscard]] absl::StatusOr<ArchivePart> WritePart(std::string_view root, std::string_view env,
                                                    TimeMicros day, std::string_view ns,
                                                    int part_number,
                                                    const std::vector<ArchiveEvent>& events,
                                                    std::string* manifest_sha256, bool sync = true);

// Every partition of `env` (sorted by day, then namespace).
[[nodiscard]] absl::StatusOr<std::vector<ArchivePartition>> ListPartitions(std::string_view root,
                                                                           std::string_view env);

// Removes one partition directory (every part and its manifest). Missing is fine.
[[nodiscard]] absl::Status DeleteArchivePartition(std::string_view root, std::string_view env,
                                                  TimeMicros day, std::string_view ns);

// `kq archive verify`: recomputes every hash and reports missing, altered and unlisted files.
struct VerifyProblem {
  std::string path;
  std::string what;  // "missing", "sha256 mismatch", "size mismatch", "not in manifest"
};
struct VerifyReport {
  uint64_t partitions = 0;
  uint64_t parts = 0;
  uint64_t events = 0;
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};
[[nodiscard]] absl::StatusOr<VerifyReport> VerifyArchive(std::string_view root,
                                                         std::string_view env);

// Calls `fn` with every archived event JSON of `env` in the parts whose time range overlaps
// [from, to) and whose namespace is in `namespaces` (empty: all), partition by partition (the
// caller filters rows exactly). Parts are checked against their sha256 first; an altered part
// fails with DataLoss. `fn` returns false to stop.
[[nodiscard]] absl::Status ReadArchive(
    std::string_view root, std::string_view env, TimeMicros from, TimeMicros to,
    const std::vector<std::string>& namespaces,
    const std::function<absl::StatusOr<bool>(std::string_view json)>& fn);

// Calls `fn` with every event JSON of one part of `partition`, after checking the part's
// sha256 (DataLoss when altered). Returns false when `fn` asked to stop.
[[nodiscard]] absl::StatusOr<bool> ReadPart(
    const ArchivePartition& partition, const ArchivePart& part,
    const std::function<absl::StatusOr<bool>(std::string_view json)>& fn);

// Lower-case hex sha256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace kq::retention

#endif  // KQ_RETENTION_ARCHIVE_H_
