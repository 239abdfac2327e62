// Retention enforcement for one environment: `kq retention plan` and `kq retention run`, and the
// scheduler inside kqd.
//
// Work is done by whole UTC day and namespace: a (day, namespace) moves on once the whole day
// is older than the age (so an event is kept at least its age, and at most one day and one run
// interval longer). Each step costs a constant number of deletions on the store
// (Environment::DropBodies / DeleteRange; DeleteSeen: one per segment read), whatever the number
// of events:
//
//   drop-bodies     hot -> warm                 DropBodies(day, ns)
//   archive         warm -> archive files       a part written and committed, then DeleteSeen
//   delete          warm -> gone (no archive)   DeleteRange(day, ns)
//   delete-archive  archive -> gone             the partition directory removed
//
// Days under an active legal hold are skipped by every step, including dropping bodies.
//
// Crash safety: Run() writes the whole list of steps to the ledger's intent journal before it
// acts, and advances a "next step" mark after each one. A run killed midway is finished by the
// next Run() before it plans anew. Every step is idempotent; an archive step records its part
// number in the intent, and a part already committed is never written again. An archive step
// writes the events one store snapshot holds, minus those the partition already holds, then
// deletes exactly that snapshot's segments (Environment::DeleteSeen): an event appended to the
// day meanwhile stays in the store and goes to a new part at the next run. So nothing is
// archived twice and nothing is deleted unarchived. Each finished step appends one record to the
// trail, tagged with the run and step, and a resumed step does not append its record twice.
//
// One Enforcer per environment: the policy, the store and the ledger must all name the same
// environment (a dev policy can never touch prod data). Not thread-safe; runs of one
// environment must not overlap.
#ifndef KQ_RETENTION_ENFORCER_H_
#define KQ_RETENTION_ENFORCER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "retention/ledger.h"
#include "retention/tiers.h"
#include "storage/store.h"

namespace kq::retention {

struct RetentionStep {
  enum class Action { kDropBodies, kArchive, kDelete, kDeleteArchive };
  Action action = Action::kDelete;
  TimeMicros day = 0;   // UTC midnight; the step covers [day, day + 1d)
  std::string ns;       // "" = cluster-scoped
  int part = 0;         // kArchive: the part number this step commits
  uint64_t events = 0;  // measured when planned (kDropBodies: events that still have bodies)
  uint64_t bytes = 0;   // event JSON bytes; kDropBodies: body bytes freed
};

// "drop-bodies", "archive", "delete", "delete-archive".
std::string_view StepActionName(RetentionStep::Action action);
// The tier the data leaves: "hot", "warm", "warm", "archive".
std::string_view StepTier(RetentionStep::Action action);

struct HeldDay {
  TimeMicros day = 0;
  std::string ns;
  std::string action;  // what the hold prevented
};

struct RetentionPlan {
  std::string env;
  TimeMicros now = 0;
  std::string run_id;                // random, names the run in the trail and the intent journal
  std::vector<RetentionStep> steps;  // in execution order
  std::vector<HeldDay> held;         // due, but kept back by a legal hold
  uint64_t rows_scanned = 0;         // store rows the plan looked at
  // The body-drop watermark once these steps are done (see Ledger::BodiesDroppedBefore).
  TimeMicros bodies_dropped_before = INT64_MIN;
};

struct RunReport {
  RetentionPlan plan;          // what this run did (after any resumed steps)
  uint64_t resumed_steps = 0;  // steps finished from an interrupted run
};

struct EnforcerOptions {
  // Root of the archives (<root>/<env>/date=.../ns=.../). Required when a tier archives.
  std::string archive_root;
  Clock* clock = Clock::Real();  // not owned
  // False skips the fsyncs of archive parts and manifests. Tests only: a machine crash could
  // then lose a part whose events were already deleted from the store.
  bool sync_archives = true;
  // Test hook for crash tests: stop (returning Aborted) after this many steps, leaving the
  // intent in place as a killed process would. -1: never.
  int stop_after_steps = -1;
  // Test hook for the archive step's race: called after the part is committed and before the
  // store's deletion (a test appends a late event for the day here). Empty: none.
  std::function<void(const RetentionStep&)> before_archive_delete;
};

class Enforcer {
 public:
  // `policy`, `env` and `ledger` are not owned and must outlive the Enforcer.
  Enforcer(const EnvironmentRetention* policy, storage::Environment* env, Ledger* ledger,
           EnforcerOptions options);

  // What the next run would do now, without doing it.
  [[nodiscard]] absl::StatusOr<RetentionPlan> Plan();
  // Finishes an interrupted run if there is one, then plans and executes.
  [[nodiscard]] absl::StatusOr<RunReport> Run();

 private:
  [[nodiscard]] absl::Status CheckSameEnvironment() const;
  // Runs plan.steps[first...]. `resumed`: the plan comes from an interrupted run's intent, so
  // steps whose trail record exists already do not record again.
  [[nodiscard]] absl::Status Execute(const RetentionPlan& plan, size_t first, bool resumed,
                                     uint64_t* executed);
  [[nodiscard]] absl::Status ExecuteStep(const RetentionStep& step, TrailRecord* record);
  [[nodiscard]] absl::Status ArchiveStep(const RetentionStep& step, TimeMicros to,
                                         TrailRecord* record);

  const EnvironmentRetention* policy_;
  storage::Environment* env_;
  Ledger* ledger_;
  EnforcerOptions options_;
  int steps_left_ = -1;
};

// `kq archive restore`: decodes the archived events of `source_env` with requestReceivedTimestamp
// in [from, to) (and namespace in `namespaces`, empty: all) and appends them to `target`, a
// separate environment that serves as the queryable restored area (restoring into the live
// environment would have them archived again by the next run). Returns the events restored.
// Altered parts fail with DataLoss before anything of theirs is appended.
[[nodiscard]] absl::StatusOr<uint64_t> RestoreArchive(std::string_view archive_root,
                                                      std::string_view source_env, TimeMicros from,
                                                      TimeMicros to,
                                                      const std::vector<std::string>& namespaces,
                                                      storage::Environment* target);

// The plan as text for `kq retention plan`: one line per (action, namespace) with days, events
// and bytes, then the held days.
std::string FormatPlan(const RetentionPlan& plan);

}  // namespace kq::retention

#endif  // KQ_RETENTION_ENFORCER_H_
