#include "server/retention_runner.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/archive.h"
#include "retention/report.h"
#include "retention/yaml.h"

namespace kq::server {
namespace {

void FillStep(const retention::RetentionStep& s, v1::RetentionStep* out) {
  out->set_action(std::string(retention::StepActionName(s.action)));
  out->set_tier(std::string(retention::StepTier(s.action)));
  out->set_day_micros(s.day);
  out->set_ns(s.ns);
  out->set_events(s.events);
  out->set_bytes(s.bytes);
}

void FillPlan(const retention::RetentionPlan& plan, const retention::EnvironmentRetention* policy,
              v1::EnvironmentPlan* out) {
  out->set_env(plan.env);
  out->set_has_policy(policy != nullptr);
  if (policy != nullptr) out->set_policy(policy->ages.ToString());
  out->set_now_micros(plan.now);
  out->set_run_id(plan.run_id);
  for (const auto& s : plan.steps) FillStep(s, out->add_steps());
  for (const auto& h : plan.held) {
    v1::HeldDay* d = out->add_held();
    d->set_day_micros(h.day);
    d->set_ns(h.ns);
    d->set_action(h.action);
  }
  out->set_rows_scanned(plan.rows_scanned);
  out->set_text(retention::FormatPlan(plan));
}

// The plan of an environment without a retention policy: nothing to do.
void FillUnenforcedPlan(const std::string& env, TimeMicros now, v1::EnvironmentPlan* out) {
  retention::RetentionPlan empty;
  empty.env = env;
  empty.now = now;
  FillPlan(empty, nullptr, out);
}

void FillHold(const std::string& env, const retention::LegalHold& h, v1::LegalHold* out) {
  out->set_env(env);
  out->set_id(h.id);
  for (const auto& ns : h.namespaces) out->add_namespaces(ns);
  out->set_from_micros(h.from);
  out->set_to_micros(h.to);
  out->set_reason(h.reason);
  out->set_created_by(h.created_by);
  out->set_created_micros(h.created);
  out->set_released_micros(h.released.value_or(0));
  out->set_released_by(h.released_by);
}

void FillCost(const retention::NamespaceCost& c, v1::NamespaceCost* out) {
  out->set_ns(c.ns);
  out->set_hot_events(c.hot_events);
  out->set_hot_bytes(c.hot_bytes);
  out->set_warm_events(c.warm_events);
  out->set_warm_bytes(c.warm_bytes);
  out->set_archive_events(c.archive_events);
  out->set_archive_bytes(c.archive_bytes);
  out->set_events_per_day_1d(c.events_per_day_1d);
  out->set_events_per_day_7d(c.events_per_day_7d);
  out->set_body_share(c.body_share);
  out->set_ages(c.ages.ToString());
  out->set_steady_hot_bytes(c.steady_hot_bytes);
  out->set_steady_warm_bytes(c.steady_warm_bytes);
  out->set_steady_archive_bytes(c.steady_archive_bytes);
}

void FillReport(const retention::CostReport& r, v1::EnvironmentCost* out) {
  out->set_env(r.env);
  out->set_now_micros(r.now);
  for (const auto& c : r.namespaces) FillCost(c, out->add_namespaces());
  FillCost(r.total, out->mutable_total());
  out->mutable_total()->set_ns("*");
  out->set_text(retention::FormatCostReport(r));
}

// Crash-test hook (kKqTestRetentionPause in retention_runner.h): the hook that blocks the Nth
// archive step of this process, or an empty function when the variable is unset.
std::function<void(const retention::RetentionStep&)> PauseHookFromEnvironment() {
  const char* value = std::getenv(kKqTestRetentionPause);
  int n = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &n) || n <= 0) return {};
  auto seen = std::make_shared<std::atomic<int>>(0);
  return [seen, n](const retention::RetentionStep& step) {
    if (++*seen != n) return;
    log::Warning("retention paused by ", kKqTestRetentionPause, " before deleting archived ",
                 FormatTimestamp(step.day).substr(0, 10), " ns=", step.ns);
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  };
}

}  // namespace

std::string ResolveArchiveRoot(const std::string& data_dir, const std::string& configured) {
  std::string root = configured.empty() ? data_dir + "/archive" : configured;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(root, ec);
  return ec ? root : absolute.lexically_normal().string();
}

absl::StatusOr<std::unique_ptr<RetentionRunner>> RetentionRunner::Create(
    storage::Store* store, RetentionRunnerOptions options) {
  options.archive_root = ResolveArchiveRoot(options.data_dir, options.archive_root);
  std::unique_ptr<RetentionRunner> r(new RetentionRunner(store, std::move(options)));
  const RetentionRunnerOptions& o = r->options_;
  r->next_due_ = o.clock->Now() + o.interval;
  for (const std::string& name : store->EnvironmentNames()) {
    auto env = std::make_unique<Env>();
    env->name = name;
    env->store_env = store->Find(name);
    std::string dir = absl::StrCat(o.data_dir, "/", name);
    for (const auto& e : o.environments) {
      if (e.name == name && !e.dir.empty()) dir = e.dir;
    }
    KQ_ASSIGN_OR_RETURN(env->ledger,
                        retention::Ledger::Open(dir + "/retention", name, o.clock, o.sync));
    env->policy = o.policy.Find(name);
    if (env->policy != nullptr) {
      retention::EnforcerOptions eo;
      eo.archive_root = o.archive_root;
      eo.clock = o.clock;
      eo.sync_archives = o.sync;
      eo.before_archive_delete = PauseHookFromEnvironment();
      env->enforcer =
          std::make_unique<retention::Enforcer>(env->policy, env->store_env, env->ledger.get(), eo);
    }
    r->envs_.push_back(std::move(env));
  }
  return r;
}

RetentionRunner::~RetentionRunner() { StopScheduler(); }

absl::StatusOr<std::vector<RetentionRunner::Env*>> RetentionRunner::Select(
    const std::string& name) {
  std::vector<Env*> out;
  for (auto& e : envs_) {
    if (name.empty() || e->name == name) out.push_back(e.get());
  }
  if (out.empty() && !name.empty()) {
    std::vector<std::string> names;
    for (auto& e : envs_) names.push_back(e->name);
    return absl::NotFoundError(absl::StrCat("environment \"", name, "\" is not configured (",
                                            absl::StrJoin(names, ", "), ")"));
  }
  return out;
}

absl::Status RetentionRunner::Plan(const v1::RetentionPlanRequest& request,
                                   v1::RetentionPlanResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  for (Env* env : envs) {
    v1::EnvironmentPlan* out = response->add_environments();
    if (env->enforcer == nullptr) {
      FillUnenforcedPlan(env->name, options_.clock->Now(), out);
      continue;
    }
    std::lock_guard<std::mutex> lock(env->mu);
    KQ_ASSIGN_OR_RETURN(retention::RetentionPlan plan, env->enforcer->Plan());
    FillPlan(plan, env->policy, out);
  }
  return absl::OkStatus();
}

absl::StatusOr<retention::RunReport> RetentionRunner::RunOne(Env* env) {
  absl::StatusOr<retention::RunReport> report;
  {
    std::lock_guard<std::mutex> lock(env->mu);
    report = env->enforcer->Run();
  }
  std::lock_guard<std::mutex> lock(counters_mu_);
  Counters& c = counters_[env->name];
  ++runs_finished_;
  if (!report.ok()) {
    ++c.runs_failed;
    return report;
  }
  ++c.runs_ok;
  c.last_run = options_.clock->Now();
  for (const auto& s : report->plan.steps)
    ++c.steps[std::string(retention::StepActionName(s.action))];
  return report;
}

absl::Status RetentionRunner::Run(const v1::RetentionRunRequest& request,
                                  v1::RetentionRunResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  for (Env* env : envs) {
    v1::EnvironmentPlan* out = response->add_environments();
    if (env->enforcer == nullptr) {
      FillUnenforcedPlan(env->name, options_.clock->Now(), out);
      continue;
    }
    KQ_ASSIGN_OR_RETURN(retention::RunReport report, RunOne(env));
    FillPlan(report.plan, env->policy, out);
    out->set_resumed_steps(report.resumed_steps);
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::Log(const v1::RetentionLogRequest& request,
                                  v1::RetentionLogResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  for (Env* env : envs) {
    KQ_ASSIGN_OR_RETURN(std::vector<retention::TrailRecord> trail, env->ledger->ReadTrail());
    size_t first = 0;
    if (request.limit() > 0 && trail.size() > request.limit()) {
      first = trail.size() - request.limit();
    }
    for (size_t i = first; i < trail.size(); ++i) {
      const retention::TrailRecord& t = trail[i];
      v1::TrailRecord* out = response->add_records();
      out->set_env(env->name);
      out->set_time_micros(t.time);
      out->set_action(t.action);
      out->set_tier(t.tier);
      out->set_from_micros(t.from);
      out->set_to_micros(t.to);
      for (const auto& ns : t.namespaces) out->add_namespaces(ns);
      out->set_events(t.events);
      out->set_bytes(t.bytes);
      out->set_digest(t.digest);
      out->set_detail(t.detail);
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::Report(const v1::RetentionReportRequest& request,
                                     v1::RetentionReportResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  std::optional<retention::RetentionConfig> proposed;
  if (!request.policy_yaml().empty()) {
    KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::Parse(request.policy_yaml(), "--policy"));
    KQ_ASSIGN_OR_RETURN(proposed, retention::RetentionConfig::FromYaml(root));
  }
  for (Env* env : envs) {
    if (env->policy == nullptr) {
      if (!request.env().empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("environment \"", env->name, "\" has no retention policy"));
      }
      continue;
    }
    KQ_ASSIGN_OR_RETURN(retention::CostReport current,
                        retention::BuildCostReport(*env->policy, env->store_env,
                                                   options_.archive_root, options_.clock));
    FillReport(current, response->add_current());
    if (proposed.has_value()) {
      const retention::EnvironmentRetention* p = proposed->Find(env->name);
      if (p == nullptr) continue;
      KQ_ASSIGN_OR_RETURN(
          retention::CostReport changed,
          retention::BuildCostReport(*p, env->store_env, options_.archive_root, options_.clock));
      FillReport(changed, response->add_proposed());
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::AddHold(const v1::AddHoldRequest& request,
                                      v1::AddHoldResponse* response) {
  const v1::LegalHold& in = request.hold();
  if (in.env().empty()) return absl::InvalidArgumentError("a hold needs an environment (--env)");
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(in.env()));
  retention::LegalHold hold;
  hold.namespaces.assign(in.namespaces().begin(), in.namespaces().end());
  hold.from = in.from_micros();
  hold.to = in.to_micros();
  hold.reason = in.reason();
  hold.created_by = in.created_by();
  KQ_ASSIGN_OR_RETURN(retention::LegalHold added, envs[0]->ledger->AddHold(std::move(hold)));
  FillHold(envs[0]->name, added, response->mutable_hold());
  return absl::OkStatus();
}

absl::Status RetentionRunner::ListHolds(const v1::ListHoldsRequest& request,
                                        v1::ListHoldsResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  for (Env* env : envs) {
    for (const auto& h : env->ledger->Holds(request.include_released())) {
      FillHold(env->name, h, response->add_holds());
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::ReleaseHold(const v1::ReleaseHoldRequest& request) {
  if (request.env().empty()) {
    return absl::InvalidArgumentError("hold ids are per environment: name it (--env)");
  }
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  return envs[0]->ledger->ReleaseHold(request.id(), request.released_by());
}

absl::Status RetentionRunner::ListArchive(const v1::ListArchiveRequest& request,
                                          v1::ListArchiveResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  response->set_archive_root(options_.archive_root);
  for (Env* env : envs) {
    KQ_ASSIGN_OR_RETURN(std::vector<retention::ArchivePartition> partitions,
                        retention::ListPartitions(options_.archive_root, env->name));
    for (const auto& p : partitions) {
      v1::ArchivePartition* out = response->add_partitions();
      out->set_env(p.env);
      out->set_day_micros(p.day);
      out->set_ns(p.ns);
      out->set_dir(p.dir);
      for (const auto& part : p.parts) {
        v1::ArchivePart* o = out->add_parts();
        o->set_path(absl::StrCat(p.dir, "/", part.file));
        o->set_events(part.events);
        o->set_bytes(part.bytes);
        o->set_min_micros(part.min_time);
        o->set_max_micros(part.max_time);
        o->set_sha256(part.sha256);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::VerifyArchive(const v1::VerifyArchiveRequest& request,
                                            v1::VerifyArchiveResponse* response) {
  KQ_ASSIGN_OR_RETURN(std::vector<Env*> envs, Select(request.env()));
  for (Env* env : envs) {
    KQ_ASSIGN_OR_RETURN(retention::VerifyReport report,
                        retention::VerifyArchive(options_.archive_root, env->name));
    response->set_partitions(response->partitions() + report.partitions);
    response->set_parts(response->parts() + report.parts);
    response->set_events(response->events() + report.events);
    for (const auto& p : report.problems) {
      v1::ArchiveProblem* out = response->add_problems();
      out->set_path(p.path);
      out->set_what(p.what);
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionRunner::RestoreArchive(const v1::RestoreArchiveRequest& request,
                                             v1::RestoreArchiveResponse* response) {
  if (request.env().empty()) {
    return absl::InvalidArgumentError("restore needs the archived environment (--env)");
  }
  if (request.to_micros() <= request.from_micros()) {
    return absl::InvalidArgumentError("restore needs --from before --to");
  }
  KQ_RETURN_IF_ERROR(Select(request.env()).status());
  std::string target = request.target_env().empty() ? absl::StrCat(request.env(), "-restored")
                                                    : request.target_env();
  std::vector<std::string> namespaces(request.namespaces().begin(), request.namespaces().end());
  storage::Environment* target_env = store_->Find(target);
  std::unique_ptr<storage::Store> side;
  if (target_env == nullptr) {
    if (!options_.open_restore_targets) {
      return absl::FailedPreconditionError(
          absl::StrCat("the restored area \"", target,
                       "\" is not an environment of kqd: add it to `environments:` in the "
                       "config (e.g. --environment prod --environment dev --environment ",
                       target, ") and restart kqd"));
    }
    storage::StoreOptions so;
    so.data_dir = options_.data_dir;
    so.environments = {{target, ""}};
    so.clock = options_.clock;
    KQ_ASSIGN_OR_RETURN(side, storage::Store::Open(so));
    target_env = side->Find(target);
  }
  KQ_ASSIGN_OR_RETURN(
      uint64_t events,
      retention::RestoreArchive(options_.archive_root, request.env(), request.from_micros(),
                                request.to_micros(), namespaces, target_env));
  if (side != nullptr) KQ_RETURN_IF_ERROR(target_env->Flush());
  response->set_target_env(target);
  response->set_events(events);
  return absl::OkStatus();
}

int RetentionRunner::RunDue() {
  std::lock_guard<std::mutex> due_lock(due_mu_);
  TimeMicros now = options_.clock->Now();
  if (now < next_due_) return 0;
  next_due_ += options_.interval;
  if (next_due_ <= now) next_due_ = now + options_.interval;  // missed runs are not made up
  int runs = 0;
  for (auto& env : envs_) {
    if (env->enforcer == nullptr) continue;
    absl::StatusOr<retention::RunReport> report = RunOne(env.get());
    ++runs;
    if (!report.ok()) {
      log::Error("retention run of ", env->name, " failed: ", report.status().ToString());
      continue;
    }
    if (!report->plan.steps.empty() || report->resumed_steps > 0) {
      log::Info("retention run of ", env->name, ": ", report->plan.steps.size(), " steps, ",
                report->resumed_steps, " resumed");
    }
  }
  return runs;
}

void RetentionRunner::StartScheduler(std::chrono::milliseconds poll) {
  std::lock_guard<std::mutex> lock(scheduler_mu_);
  if (scheduler_.joinable()) return;
  stopping_ = false;
  scheduler_ = std::thread([this, poll] { SchedulerLoop(poll); });
}

void RetentionRunner::SchedulerLoop(std::chrono::milliseconds poll) {
  std::unique_lock<std::mutex> lock(scheduler_mu_);
  while (!stopping_) {
    lock.unlock();
    RunDue();
    lock.lock();
    scheduler_cv_.wait_for(lock, poll, [this] { return stopping_; });
  }
}

void RetentionRunner::StopScheduler() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(scheduler_mu_);
    stopping_ = true;
    t = std::move(scheduler_);
  }
  scheduler_cv_.notify_all();
  if (t.joinable()) t.join();
}

uint64_t RetentionRunner::runs_finished() const {
  std::lock_guard<std::mutex> lock(counters_mu_);
  return runs_finished_;
}

std::string RetentionRunner::MetricsText() const {
  std::lock_guard<std::mutex> lock(counters_mu_);
  std::string out =
      "# HELP kq_retention_runs_total Retention runs by environment and outcome.\n"
      "# TYPE kq_retention_runs_total counter\n";
  for (const auto& [env, c] : counters_) {
    absl::StrAppend(&out, "kq_retention_runs_total{env=\"", env, "\",outcome=\"ok\"} ", c.runs_ok,
                    "\n", "kq_retention_runs_total{env=\"", env, "\",outcome=\"error\"} ",
                    c.runs_failed, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP kq_retention_steps_total Retention steps done, by environment and "
                  "action.\n# TYPE kq_retention_steps_total counter\n");
  for (const auto& [env, c] : counters_) {
    for (const auto& [action, n] : c.steps) {
      absl::StrAppend(&out, "kq_retention_steps_total{env=\"", env, "\",action=\"", action, "\"} ",
                      n, "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP kq_retention_last_run_seconds Time of the last successful run (Unix "
                  "seconds).\n# TYPE kq_retention_last_run_seconds gauge\n");
  for (const auto& [env, c] : counters_) {
    absl::StrAppend(&out, "kq_retention_last_run_seconds{env=\"", env, "\"} ",
                    c.last_run / kMicrosPerSecond, "\n");
  }
  return out;
}

}  // namespace kq::server
