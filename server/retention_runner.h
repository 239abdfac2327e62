// Retention at work: one Ledger and one Enforcer per environment of a store, the requests of
// kq.v1 RetentionService answered in-process, and the scheduler thread of kqd.
//
// kqd (RetentionServiceImpl) and `kq --data DIR` (the embedded backend) both answer retention
// requests through this class, so both behave the same.
//
// Per environment <name> (directory <env dir>, by default <data>/<name>):
//   <env dir>/retention/      the ledger: holds, trail, intent journal (retention/ledger.h)
//   <archive root>/<name>/    its archives (retention/archive.h); root default <data>/archive
// The policy is the environment's entry of the `retention:` config section; an environment
// without one (e.g. "prod-restored") is never enforced, but has holds and a trail. Each
// environment has its own Enforcer, so a dev policy can never touch prod data.
//
// Thread-safety: every method is thread-safe. Plan and Run of one environment hold that
// environment's mutex, so runs of one environment never overlap (the scheduler and an on-demand
// `kq retention run` queue behind each other); different environments run independently.
#ifndef KQ_SERVER_RETENTION_RUNNER_H_
#define KQ_SERVER_RETENTION_RUNNER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "kq/v1/retention.pb.h"
#include "retention/enforcer.h"
#include "retention/ledger.h"
#include "retention/tiers.h"
#include "storage/store.h"

namespace kq::server {

struct RetentionRunnerOptions {
  std::string data_dir;  // the store's data directory
  // The store's environments (for their directories); names not in the store are ignored.
  std::vector<storage::EnvironmentOptions> environments;
  retention::RetentionConfig policy = retention::RetentionConfig::Defaults();
  std::string archive_root;              // "" = <data_dir>/archive
  TimeMicros interval = kMicrosPerHour;  // scheduler: time between runs (on `clock`)
  Clock* clock = Clock::Real();          // not owned
  bool sync = true;                      // false: no fsyncs of ledger and archives (tests)
  // RestoreArchive into an environment the store does not have: true opens it as its own store
  // under <data_dir>/<target> for the restore (kq --data); false refuses (kqd: configure it).
  bool open_restore_targets = false;
};

// Crash-test hook, for the end-to-end kill-and-resume test only: with this environment variable
// set to N > 0, the Nth archive step of the process blocks forever once its part is committed
// and before the store's deletion (the most delicate point of a run), after logging "retention
// paused by KQ_TEST_RETENTION_PAUSE ..." to stderr, so that the test can kill -9 kqd there.
inline constexpr char kKqTestRetentionPause[] = "KQ_TEST_RETENTION_PAUSE";

// The archive root in force: `configured`, else <data_dir>/archive; made absolute, so that
// listings, trail records and archive queries name the same files wherever kq runs from.
std::string ResolveArchiveRoot(const std::string& data_dir, const std::string& configured);

class RetentionRunner {
 public:
  // `store` is not owned and must outlive the runner. Opens every environment's ledger.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RetentionRunner>> Create(
      storage::Store* store, RetentionRunnerOptions options);
  ~RetentionRunner();  // stops the scheduler
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;

  const std::string& archive_root() const { return options_.archive_root; }

  // The RetentionService requests (proto/kq/v1/retention.proto). Unknown environments are
  // NotFound; bad arguments InvalidArgument.
  [[nodiscard]] absl::Status Plan(const v1::RetentionPlanRequest& request,
                                  v1::RetentionPlanResponse* response);
  [[nodiscard]] absl::Status Run(const v1::RetentionRunRequest& request,
                                 v1::RetentionRunResponse* response);
  [[nodiscard]] absl::Status Log(const v1::RetentionLogRequest& request,
                                 v1::RetentionLogResponse* response);
  [[nodiscard]] absl::Status Report(const v1::RetentionReportRequest& request,
                                    v1::RetentionReportResponse* response);
  [[nodiscard]] absl::Status AddHold(const v1::AddHoldRequest& request,
                                     v1::AddHoldResponse* response);
  [[nodiscard]] absl::Status ListHolds(const v1::ListHoldsRequest& request,
                                       v1::ListHoldsResponse* response);
  [[nodiscard]] absl::Status ReleaseHold(const v1::ReleaseHoldRequest& request);
  [[nodiscard]] absl::Status ListArchive(const v1::ListArchiveRequest& request,
                                         v1::ListArchiveResponse* response);
  [[nodiscard]] absl::Status VerifyArchive(const v1::VerifyArchiveRequest& request,
                                           v1::VerifyArchiveResponse* response);
  [[nodiscard]] absl::Status RestoreArchive(const v1::RestoreArchiveRequest& request,
                                            v1::RestoreArchiveResponse* response);

  // Scheduler. RunDue() runs every environment with a policy when the clock has reached the
  // next due time (the first is one `interval` after Create(), so a restart never mutates data
  // at once; then every `interval` after the previous due time; missed ones are not made up)
  // and returns how many environment runs it made. A failed run is logged and counted; the
  // others go on.
  int RunDue();
  // Starts a thread that calls RunDue() every `poll` of real time, until StopScheduler().
  void StartScheduler(std::chrono::milliseconds poll = std::chrono::seconds(1));
  void StopScheduler();  // idempotent

  // Counters for /metrics (Prometheus text): runs per environment and outcome, steps per
  // environment and action, and the time of the last finished run.
  std::string MetricsText() const;
  uint64_t runs_finished() const;

 private:
  struct Env {
    std::string name;
    storage::Environment* store_env = nullptr;
    const retention::EnvironmentRetention* policy = nullptr;  // null: never enforced
    std::unique_ptr<retention::Ledger> ledger;
    std::unique_ptr<retention::Enforcer> enforcer;  // null without a policy
    std::mutex mu;                                  // one Plan/Run at a time
  };
  struct Counters {
    uint64_t runs_ok = 0, runs_failed = 0;
    std::map<std::string, uint64_t> steps;  // per action
    TimeMicros last_run = 0;
  };

  explicit RetentionRunner(storage::Store* store, RetentionRunnerOptions options)
      : store_(store), options_(std::move(options)) {}
  // The environments a request names: `name`, or every one when empty.
  [[nodiscard]] absl::StatusOr<std::vector<Env*>> Select(const std::string& name);
  [[nodiscard]] absl::StatusOr<retention::RunReport> RunOne(Env* env);
  void SchedulerLoop(std::chrono::milliseconds poll);

  storage::Store* const store_;
  RetentionRunnerOptions options_;
  std::vector<std::unique_ptr<Env>> envs_;

  mutable std::mutex counters_mu_;
  std::map<std::string, Counters> counters_;
  uint64_t runs_finished_ = 0;

  std::mutex due_mu_;  // one RunDue() at a time; guards next_due_
  TimeMicros next_due_ = 0;

  std::mutex scheduler_mu_;
  std::condition_variable scheduler_cv_;
  bool stopping_ = false;
  std::thread scheduler_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_RETENTION_RUNNER_H_
