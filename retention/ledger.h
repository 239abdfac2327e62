// The retention ledger of one environment: legal holds, the retention trail, and the intent
// journal that makes retention runs crash-safe. Plain files in a directory of that
// environment's own (by default <env dir>/retention), so work on one environment never opens
// another's files:
//
//   holds.jsonl    append-only: {"op":"add",...} and {"op":"release",...} records
//   trail.jsonl    append-only: one record per hold change and per retention action
//   intent.json    the steps of the run in progress (absent when no run is in progress)
//   state.json     the body-drop watermark
//
// Every append is fsynced before the call returns. A torn last line (a crash mid-append) was
// never acknowledged and is ignored when reading. Thread-safe (one mutex); one process at a time
// per directory (the store's lock on the environment directory guards it).
#ifndef KQ_RETENTION_LEDGER_H_
#define KQ_RETENTION_LEDGER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace kq::retention {

// Data that must be neither archived, nor deleted, nor stripped of its bodies.
struct LegalHold {
  uint64_t id = 0;                      // assigned by AddHold, increasing from 1
  std::vector<std::string> namespaces;  // empty: every namespace ("" = cluster-scoped)
  TimeMicros from = 0;                  // inclusive, on requestReceivedTimestamp
  TimeMicros to = 0;                    // exclusive
  std::string reason;
  std::string created_by;
  TimeMicros created = 0;
  std::optional<TimeMicros> released;  // set once released
  std::string released_by;

  // True when the hold is active and covers part of [from, to) of namespace `ns`.
  bool Covers(std::string_view ns, TimeMicros from, TimeMicros to) const;
};

// One line of the retention trail.
struct TrailRecord {
  TimeMicros time = 0;  // when it was done
  std::string action;   // "drop-bodies", "archive", "delete", "hold-add", "hold-release"
  std::string tier;     // the tier the data left: "hot", "warm", "archive"; "" for holds
  TimeMicros from = 0;  // the range acted on, [from, to)
  TimeMicros to = 0;
  std::vector<std::string> namespaces;
  uint64_t events = 0;
  uint64_t bytes = 0;
  std::string digest;  // sha256 of the archived files' manifest, for "archive"
  std::string detail;  // hold id and reason, or other context
};

class Ledger {
 public:
  // Opens (creating) `dir` for environment `env`. `clock` is not owned. `sync` false skips the
  // fsyncs (for tests and benchmarks: a machine crash may then lose the latest records).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Ledger>> Open(std::string dir,
                                                                    std::string env, Clock* clock,
                                                                    bool sync = true);

  const std::string& env() const { return env_; }
  const std::string& dir() const { return dir_; }

  // Records a hold (id, created are assigned) and its trail record; returns it.
  // InvalidArgument when to <= from or the reason is empty.
  [[nodiscard]] absl::StatusOr<LegalHold> AddHold(LegalHold hold);
  // NotFound for an unknown id, FailedPrecondition when already released.
  [[nodiscard]] absl::Status ReleaseHold(uint64_t id, std::string_view by);
  // Every hold ever added, in id order; released ones only if `include_released`.
  std::vector<LegalHold> Holds(bool include_released) const;
  // True when an active hold covers part of [from, to) of `ns`.
  bool IsHeld(std::string_view ns, TimeMicros from, TimeMicros to) const;

  [[nodiscard]] absl::Status AppendTrail(TrailRecord record);
  [[nodiscard]] absl::StatusOr<std::vector<TrailRecord>> ReadTrail() const;

  // The body-drop watermark: every (day, namespace) before it has had its bodies dropped or is
  // held, so plans need not look there again. INT64_MIN until first set. Stored in state.json.
  [[nodiscard]] absl::StatusOr<TimeMicros> BodiesDroppedBefore() const;
  [[nodiscard]] absl::Status SetBodiesDroppedBefore(TimeMicros t);

  // The intent journal: `text` is written atomically (temp file, fsync, rename, fsync dir).
  [[nodiscard]] absl::Status WriteIntent(std::string_view text);
  // nullopt when no run is in progress.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> ReadIntent() const;
  [[nodiscard]] absl::Status ClearIntent();

 private:
  Ledger(std::string dir, std::string env, Clock* clock, bool sync)
      : dir_(std::move(dir)), env_(std::move(env)), clock_(clock), sync_(sync) {}
  [[nodiscard]] absl::Status LoadHolds();
  [[nodiscard]] absl::Status AppendHoldLine(const std::string& line);

  const std::string dir_;
  const std::string env_;
  Clock* const clock_;
  const bool sync_;
  mutable absl::Mutex mu_;
  std::vector<LegalHold> holds_ ABSL_GUARDED_BY(mu_);
};

// Appends `line` and a newline to the file at `path` (created if needed) and fsyncs it (unless
// `sync` is false).
[[nodiscard]] absl::Status AppendLineDurably(const std::string& path, std::string_view line,
                                             bool sync = true);
// Writes `contents` to `path` atomically: a temporary file beside it, fsync, rename, fsync of
// the directory (the fsyncs are skipped when `sync` is false; the rename stays atomic).
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                               bool sync = true);

}  // namespace kq::retention

#endif  // KQ_RETENTION_LEDGER_H_
