#include "retention/enforcer.h"

#include <algorithm>
#include <map>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_escape.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/archive.h"
#include "retention/yaml.h"
#include "storage/decoder.h"

namespace kq::retention {
namespace {

using Action = RetentionStep::Action;

TimeMicros DayFloor(TimeMicros t) {
  TimeMicros d = t / kMicrosPerDay * kMicrosPerDay;
  return d > t ? d - kMicrosPerDay : d;
}

// First day that is NOT yet fully older than `age` at `now`: days before it are due.
TimeMicros Cutoff(TimeMicros now, TimeMicros age) { return DayFloor(now - age); }

struct DayStats {
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t body_events = 0;
  uint64_t body_bytes = 0;
};

using DayKey = std::pair<TimeMicros, std::string>;  // (day, namespace)

std::string StepTag(const RetentionPlan& plan, size_t index) {
  return absl::StrCat("run ", plan.run_id, " at ", FormatTimestamp(plan.now), " step ", index + 1);
}

std::string NewRunId() {
  std::random_device rd;
  uint64_t id = (uint64_t{rd()} << 32) ^ rd();
  return absl::StrFormat("%016x", id);
}

std::string IntentText(const RetentionPlan& plan, size_t next) {
  std::string out =
      absl::StrCat(R"({"env":)", JsonQuote(plan.env), R"(,"run":)", JsonQuote(plan.run_id),
                   R"(,"now":")", FormatTimestamp(plan.now), R"(","next":)", next, R"(,"steps":[)");
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const RetentionStep& s = plan.steps[i];
    absl::StrAppend(&out, i > 0 ? ",\n" : "\n", R"({"action":")", Sv(StepActionName(s.action)),
                    R"(","day":")", FormatTimestamp(s.day), R"(","ns":)", JsonQuote(s.ns),
                    R"(,"part":)", s.part, R"(,"events":)", s.events, R"(,"bytes":)", s.bytes, "}");
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

absl::StatusOr<std::pair<RetentionPlan, size_t>> ParseIntent(const std::string& text,
                                                             const std::string& source) {
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::Parse(text, source));
  RetentionPlan plan;
  auto scalar = [](const yaml::Node& n, std::string_view key) -> std::string {
    const yaml::Node* v = n.Find(key);
    return v != nullptr ? v->scalar() : "";
  };
  plan.env = scalar(root, "env");
  plan.run_id = scalar(root, "run");
  KQ_ASSIGN_OR_RETURN(plan.now, ParseTimestamp(scalar(root, "now")));
  const yaml::Node* next = root.Find("next");
  const yaml::Node* steps = root.Find("steps");
  if (next == nullptr || steps == nullptr || !steps->IsSequence()) {
    return root.Error("intent journal without next or steps");
  }
  KQ_ASSIGN_OR_RETURN(int64_t next_index, next->Int());
  for (const yaml::Node& n : steps->items()) {
    RetentionStep s;
    std::string action = scalar(n, "action");
    bool known = false;
    for (Action a :
         {Action::kDropBodies, Action::kArchive, Action::kDelete, Action::kDeleteArchive}) {
      if (StepActionName(a) == action) {
        s.action = a;
        known = true;
      }
    }
    if (!known) return n.Error(absl::StrCat("unknown action \"", action, "\""));
    KQ_ASSIGN_OR_RETURN(s.day, ParseTimestamp(scalar(n, "day")));
    s.ns = scalar(n, "ns");
    for (auto [key, field] : {std::pair{"events", &s.events}, std::pair{"bytes", &s.bytes}}) {
      if (const yaml::Node* v = n.Find(key)) {
        KQ_ASSIGN_OR_RETURN(int64_t i, v->Int());
        *field = static_cast<uint64_t>(i);
      }
    }
    if (const yaml::Node* v = n.Find("part")) {
      KQ_ASSIGN_OR_RETURN(int64_t p, v->Int());
      s.part = static_cast<int>(p);
    }
    plan.steps.push_back(std::move(s));
  }
  return std::make_pair(std::move(plan), static_cast<size_t>(std::max<int64_t>(0, next_index)));
}

}  // namespace

std::string_view StepActionName(Action action) {
  switch (action) {
    case Action::kDropBodies:
      return "drop-bodies";
    case Action::kArchive:
      return "archive";
    case Action::kDelete:
      return "delete";
    case Action::kDeleteArchive:
      return "delete-archive";
  }
  return "delete";
}

std::string_view StepTier(Action action) {
  switch (action) {
    case Action::kDropBodies:
      return "hot";
    case Action::kArchive:
    case Action::kDelete:
      return "warm";
    case Action::kDeleteArchive:
      return "archive";
  }
  return "";
}

Enforcer::Enforcer(const EnvironmentRetention* policy, storage::Environment* env, Ledger* ledger,
                   EnforcerOptions options)
    : policy_(policy), env_(env), ledger_(ledger), options_(std::move(options)) {}

absl::Status Enforcer::CheckSameEnvironment() const {
  if (policy_->env != env_->name() || ledger_->env() != env_->name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("retention policy for \"", policy_->env, "\" and ledger for \"",
                     ledger_->env(), "\" cannot act on environment \"", env_->name(), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<RetentionPlan> Enforcer::Plan() {
  KQ_RETURN_IF_ERROR(CheckSameEnvironment());
  RetentionPlan plan;
  plan.env = env_->name();
  plan.now = options_.clock->Now();
  plan.run_id = NewRunId();
  const TimeMicros now = plan.now;

  // Days due somewhere: before the cutoff of the shortest hot age (body drops) and of the
  // shortest leave-store age. Body drops before the watermark are done already; one day of
  // slack takes late arrivals (a watch's ResponseComplete comes up to an hour late).
  TimeMicros hot_to = INT64_MIN, leave_to = INT64_MIN;
  plan.bodies_dropped_before = INT64_MAX;
  for (const TierAges& a : policy_->AllAges()) {
    hot_to = std::max(hot_to, Cutoff(now, a.hot));
    leave_to = std::max(leave_to, Cutoff(now, a.LeaveStoreAt()));
    plan.bodies_dropped_before = std::min(plan.bodies_dropped_before, Cutoff(now, a.hot));
  }
  KQ_ASSIGN_OR_RETURN(TimeMicros watermark, ledger_->BodiesDroppedBefore());
  TimeMicros hot_from = watermark == INT64_MIN ? INT64_MIN : watermark - kMicrosPerDay;

  std::map<DayKey, DayStats> days;
  std::map<std::string, TierAges> ages_cache;
  auto ages_for = [&](const std::string& ns) -> const TierAges& {
    auto it = ages_cache.find(ns);
    if (it == ages_cache.end()) it = ages_cache.emplace(ns, policy_->ForNamespace(ns)).first;
    return it->second;
  };
  // `leaving_pass`: count rows due to leave the store; else rows due for a body drop only.
  auto scan = [&](TimeMicros from, TimeMicros to, bool leaving_pass) -> absl::Status {
    if (from >= to) return absl::OkStatus();
    std::unique_ptr<storage::Reader> reader = env_->NewReader();
    storage::ScanRange range;
    range.from = from;
    range.to = to;
    storage::ScanStats stats;
    return reader->Scan(
        range,
        [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
          std::string ns(batch.ns());
          const TierAges& ages = ages_for(ns);
          const storage::IntColumn& time = batch.Ints(storage::Column::kTime);
          for (size_t row = 0; row < batch.num_rows(); ++row) {
            if (!time.present[row] || time.values[row] < from || time.values[row] >= to) {
              continue;
            }
            ++plan.rows_scanned;
            TimeMicros day = DayFloor(time.values[row]);
            bool leaving = day < Cutoff(now, ages.LeaveStoreAt());
            if (leaving != leaving_pass) continue;
            if (!leaving && day >= Cutoff(now, ages.hot)) continue;
            DayStats& d = days[{day, ns}];
            ++d.events;
            if (leaving) {
              KQ_ASSIGN_OR_RETURN(std::string json, batch.EventJson(row));
              d.bytes += json.size();
            } else {
              KQ_ASSIGN_OR_RETURN(std::string req, batch.RequestObject(row));
              KQ_ASSIGN_OR_RETURN(std::string resp, batch.ResponseObject(row));
              if (!req.empty() || !resp.empty()) {
                ++d.body_events;
                d.body_bytes += req.size() + resp.size();
              }
            }
          }
          return true;
        },
        &stats);
  };
  KQ_RETURN_IF_ERROR(scan(INT64_MIN, leave_to, /*leaving_pass=*/true));
  KQ_RETURN_IF_ERROR(scan(hot_from, hot_to, /*leaving_pass=*/false));

  std::vector<RetentionStep> expire, leave, drop;
  // Archives past their age.
  if (!options_.archive_root.empty()) {
    KQ_ASSIGN_OR_RETURN(std::vector<ArchivePartition> partitions,
                        ListPartitions(options_.archive_root, plan.env));
    for (const ArchivePartition& p : partitions) {
      const TierAges& ages = ages_for(p.ns);
      TimeMicros expiry = ages.archive.value_or(ages.delete_at);
      if (p.day >= Cutoff(now, expiry)) continue;
      if (ledger_->IsHeld(p.ns, p.day, p.day + kMicrosPerDay)) {
        plan.held.push_back({p.day, p.ns, "delete-archive"});
        continue;
      }
      RetentionStep s{Action::kDeleteArchive, p.day, p.ns};
      for (const ArchivePart& part : p.parts) {
        s.events += part.events;
        s.bytes += part.bytes;
      }
      expire.push_back(std::move(s));
    }
  }
  for (const auto& [key, d] : days) {
    const auto& [day, ns] = key;
    const TierAges& ages = ages_for(ns);
    bool leaving = day < Cutoff(now, ages.LeaveStoreAt());
    RetentionStep s;
    s.day = day;
    s.ns = ns;
    if (leaving) {
      s.action = ages.archive ? Action::kArchive : Action::kDelete;
      s.events = d.events;
      s.bytes = d.bytes;
    } else {
      if (d.body_events == 0) continue;
      s.action = Action::kDropBodies;
      s.events = d.body_events;
      s.bytes = d.body_bytes;
    }
    if (ledger_->IsHeld(ns, day, day + kMicrosPerDay)) {
      plan.held.push_back({day, ns, std::string(StepActionName(s.action))});
      if (s.action == Action::kDropBodies) {
        plan.bodies_dropped_before = std::min(plan.bodies_dropped_before, day);
      }
      continue;
    }
    if (s.action == Action::kArchive) {
      if (options_.archive_root.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "environment \"", plan.env, "\" archives but no archive root is configured"));
      }
      KQ_ASSIGN_OR_RETURN(ArchivePartition p,
                          ReadPartition(options_.archive_root, plan.env, day, ns));
      int last = 0;
      for (const ArchivePart& part : p.parts) last = std::max(last, part.number);
      s.part = last + 1;
    }
    (leaving ? leave : drop).push_back(std::move(s));
  }
  for (auto* list : {&expire, &leave, &drop}) {
    for (RetentionStep& s : *list) plan.steps.push_back(std::move(s));
  }
  return plan;
}

absl::StatusOr<RunReport> Enforcer::Run() {
  KQ_RETURN_IF_ERROR(CheckSameEnvironment());
  steps_left_ = options_.stop_after_steps;
  RunReport report;
  KQ_ASSIGN_OR_RETURN(std::optional<std::string> intent, ledger_->ReadIntent());
  if (intent) {
    KQ_ASSIGN_OR_RETURN(auto parsed, ParseIntent(*intent, ledger_->dir() + "/intent.json"));
    if (parsed.first.env != env_->name()) {
      return absl::FailedPreconditionError(absl::StrCat("intent journal of \"", parsed.first.env,
                                                        "\" found in the ledger of \"",
                                                        env_->name(), "\""));
    }
    KQ_RETURN_IF_ERROR(
        Execute(parsed.first, parsed.second, /*resumed=*/true, &report.resumed_steps));
  }
  KQ_ASSIGN_OR_RETURN(report.plan, Plan());
  uint64_t executed = 0;
  KQ_RETURN_IF_ERROR(Execute(report.plan, 0, /*resumed=*/false, &executed));
  KQ_RETURN_IF_ERROR(ledger_->SetBodiesDroppedBefore(report.plan.bodies_dropped_before));
  return report;
}

absl::Status Enforcer::Execute(const RetentionPlan& plan, size_t first, bool resumed,
                               uint64_t* executed) {
  if (plan.steps.empty()) return ledger_->ClearIntent();
  KQ_RETURN_IF_ERROR(ledger_->WriteIntent(IntentText(plan, first)));
  // Trail records already written by an interrupted run of this plan.
  absl::flat_hash_set<std::string> recorded;
  if (resumed) {
    KQ_ASSIGN_OR_RETURN(std::vector<TrailRecord> trail, ledger_->ReadTrail());
    for (const TrailRecord& r : trail) recorded.insert(r.detail);
  }
  for (size_t i = first; i < plan.steps.size(); ++i) {
    if (steps_left_ == 0) {
      return absl::AbortedError("stopped after the requested number of steps");
    }
    if (steps_left_ > 0) --steps_left_;
    const RetentionStep& step = plan.steps[i];
    TrailRecord record;
    record.action = std::string(StepActionName(step.action));
    record.tier = std::string(StepTier(step.action));
    record.from = step.day;
    record.to = step.day + kMicrosPerDay;
    record.namespaces = {step.ns};
    record.events = step.events;
    record.bytes = step.bytes;
    record.detail = StepTag(plan, i);
    KQ_RETURN_IF_ERROR(ExecuteStep(step, &record));
    record.time = options_.clock->Now();
    if (!recorded.contains(record.detail)) KQ_RETURN_IF_ERROR(ledger_->AppendTrail(record));
    KQ_RETURN_IF_ERROR(ledger_->WriteIntent(IntentText(plan, i + 1)));
    ++*executed;
  }
  return ledger_->ClearIntent();
}

absl::Status Enforcer::ExecuteStep(const RetentionStep& step, TrailRecord* record) {
  std::vector<std::string> ns = {step.ns};
  TimeMicros to = step.day + kMicrosPerDay;
  switch (step.action) {
    case Action::kDropBodies:
      return env_->DropBodies(step.day, to, ns);
    case Action::kDelete:
      return env_->DeleteRange(step.day, to, ns);
    case Action::kDeleteArchive:
      return DeleteArchivePartition(options_.archive_root, env_->name(), step.day, step.ns);
    case Action::kArchive:
      return ArchiveStep(step, to, record);
  }
  return absl::OkStatus();
}

absl::Status Enforcer::ArchiveStep(const RetentionStep& step, TimeMicros to, TrailRecord* record) {
  // The events of (day, ns) this reader sees; the deletion below removes exactly those, so an
  // event appended meanwhile stays in the store for the next run.
  std::vector<ArchiveEvent> events;
  std::unique_ptr<storage::Reader> reader = env_->NewReader();
  storage::ScanRange range;
  range.from = step.day;
  range.to = to;
  range.namespaces = {step.ns};
  storage::ScanStats stats;
  KQ_RETURN_IF_ERROR(reader->Scan(
      range,
      [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
        if (batch.ns() != step.ns) return true;
        const storage::IntColumn& time = batch.Ints(storage::Column::kTime);
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          if (!time.present[row] || time.values[row] < step.day || time.values[row] >= to) {
            continue;
          }
          KQ_ASSIGN_OR_RETURN(std::string json, batch.EventJson(row));
          events.push_back({std::move(json), time.values[row]});
        }
        return true;
      },
      &stats));
  // Events the partition holds already (a resumed step whose part was committed, or segments
  // that survived an earlier deletion because a merge rewrote them) are not archived again.
  KQ_ASSIGN_OR_RETURN(ArchivePartition p,
                      ReadPartition(options_.archive_root, env_->name(), step.day, step.ns));
  int part_number = step.part;
  if (!p.parts.empty()) {
    absl::flat_hash_map<std::string, uint64_t> archived;
    for (const ArchivePart& a : p.parts) {
      part_number = std::max(part_number, a.number + 1);
      KQ_ASSIGN_OR_RETURN(bool unused, ReadPart(p, a, [&](std::string_view json) {
                            ++archived[std::string(json)];
                            return true;
                          }));
      (void)unused;
    }
    std::erase_if(events, [&](const ArchiveEvent& e) {
      auto it = archived.find(e.json);
      if (it == archived.end() || it->second == 0) return false;
      --it->second;
      return true;
    });
  }
  if (!events.empty()) {
    std::string digest;
    KQ_ASSIGN_OR_RETURN(ArchivePart part,
                        WritePart(options_.archive_root, env_->name(), step.day, step.ns,
                                  part_number, events, &digest, options_.sync_archives));
    record->events = part.events;
    record->bytes = part.bytes;
    record->digest = digest;
  } else {
    // Nothing new: a resumed step reports the part it committed before the interruption.
    record->events = 0;
    record->bytes = 0;
    for (const ArchivePart& a : p.parts) {
      if (a.number != step.part) continue;
      record->events = a.events;
      record->bytes = a.bytes;
      record->digest = a.sha256;
    }
  }
  if (options_.before_archive_delete) options_.before_archive_delete(step);
  return env_->DeleteSeen(*reader, step.day, to, std::vector<std::string>{step.ns});
}

absl::StatusOr<uint64_t> RestoreArchive(std::string_view archive_root, std::string_view source_env,
                                        TimeMicros from, TimeMicros to,
                                        const std::vector<std::string>& namespaces,
                                        storage::Environment* target) {
  if (target->name() == source_env) {
    return absl::InvalidArgumentError(
        absl::StrCat("restore into a separate environment, not \"", Sv(source_env),
                     "\" itself: the next retention run would archive the restored events again"));
  }
  storage::Decoder decoder;
  std::vector<storage::Event> batch;
  uint64_t restored = 0;
  auto flush = [&]() -> absl::Status {
    storage::AppendResult result;
    KQ_RETURN_IF_ERROR(target->Append(batch, &result));
    restored += result.stored + result.duplicates;
    batch.clear();
    return absl::OkStatus();
  };
  KQ_RETURN_IF_ERROR(ReadArchive(
      archive_root, source_env, from, to, namespaces,
      [&](std::string_view json) -> absl::StatusOr<bool> {
        storage::Event event;
        absl::Status s = decoder.DecodeEvent(json, &event);
        if (!s.ok()) {
          return absl::DataLossError(absl::StrCat("archived event does not decode: ", s.message()));
        }
        if (event.request_received_time < from || event.request_received_time >= to) return true;
        batch.push_back(std::move(event));
        if (batch.size() >= 1000) KQ_RETURN_IF_ERROR(flush());
        return true;
      }));
  if (!batch.empty()) KQ_RETURN_IF_ERROR(flush());
  return restored;
}

std::string FormatPlan(const RetentionPlan& plan) {
  struct Sum {
    uint64_t days = 0, events = 0, bytes = 0;
  };
  std::map<std::pair<std::string, std::string>, Sum> sums;
  for (const RetentionStep& s : plan.steps) {
    Sum& sum = sums[{std::string(StepActionName(s.action)), s.ns}];
    ++sum.days;
    sum.events += s.events;
    sum.bytes += s.bytes;
  }
  std::string out =
      absl::StrCat("retention plan for ", plan.env, " at ", FormatTimestamp(plan.now), "\n");
  absl::StrAppend(&out, absl::StrFormat("%-15s %-6s %-30s %6s %12s %14s\n", "action", "tier",
                                        "namespace", "days", "events", "bytes"));
  for (const auto& [key, sum] : sums) {
    std::string tier;
    for (Action a :
         {Action::kDropBodies, Action::kArchive, Action::kDelete, Action::kDeleteArchive}) {
      if (StepActionName(a) == key.first) tier = std::string(StepTier(a));
    }
    absl::StrAppend(&out, absl::StrFormat("%-15s %-6s %-30s %6d %12d %14d\n", key.first, tier,
                                          key.second.empty() ? "(cluster)" : key.second, sum.days,
                                          sum.events, sum.bytes));
  }
  if (plan.steps.empty()) absl::StrAppend(&out, "nothing to do\n");
  for (const HeldDay& h : plan.held) {
    absl::StrAppend(&out, "held: ", FormatTimestamp(h.day).substr(0, 10), " ",
                    h.ns.empty() ? "(cluster)" : h.ns, " (", h.action, " kept back)\n");
  }
  return out;
}

}  // namespace kq::retention
