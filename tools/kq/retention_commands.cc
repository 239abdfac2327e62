#include "tools/kq/retention_commands.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/time.h"
#include "tools/kq/commands.h"

namespace kq::cli {
namespace {

using Handler = std::function<int(Session&, const RetentionArgs&)>;

// Prints `message` as JSON on stdout.
int PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    return ReportError(absl::InternalError("cannot print the response as JSON"));
  }
  std::fputs(out.c_str(), stdout);
  if (out.empty() || out.back() != '\n') std::fputc('\n', stdout);
  return kExitOk;
}

// Columns padded to their widest cell; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i],
                      i + 1 < row.size() ? std::string(widths[i] - row[i].size() + 2, ' ') : "");
    }
    std::puts(line.c_str());
  }
}

std::string Day(int64_t micros) { return FormatTimestamp(micros).substr(0, 10); }
std::string NsName(const std::string& ns) { return ns.empty() ? "(cluster)" : ns; }
std::string Namespaces(const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (list.empty()) return "*";
  std::vector<std::string> names;
  for (const auto& ns : list) names.push_back(NsName(ns));
  return absl::StrJoin(names, ",");
}

// "2026-01-02" (UTC midnight) or an RFC 3339 timestamp.
absl::StatusOr<TimeMicros> ParseTime(const std::string& flag, const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is required"));
  absl::StatusOr<TimeMicros> t =
      ParseTimestamp(text.size() == 10 ? absl::StrCat(text, "T00:00:00Z") : text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": expected YYYY-MM-DD or an RFC 3339 time such as 2026-01-02T15:04:05Z, got \"",
        text, "\""));
  }
  return *t;
}

std::string EnvOrSession(Session& session, const RetentionArgs& args) {
  if (!args.env.empty()) return args.env;
  return session.target().env.empty() ? std::string("prod") : session.target().env;
}

std::string User() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : absl::StrCat("uid ", getuid());
}

// The session's backend, configured with --kqd-config when given.
absl::StatusOr<Backend*> OpenBackend(Session& session, const RetentionArgs& args) {
  KQ_ASSIGN_OR_RETURN(Backend * backend, session.backend());
  if (!args.kqd_config.empty()) KQ_RETURN_IF_ERROR(backend->UseKqdConfig(args.kqd_config));
  return backend;
}

#define KQ_BACKEND_OR_EXIT(session)                                   \
  absl::StatusOr<Backend*> backend_or = OpenBackend((session), args); \
  if (!backend_or.ok()) return ReportError(backend_or.status());      \
  Backend* backend = *backend_or

void PrintPlans(const google::protobuf::RepeatedPtrField<v1::EnvironmentPlan>& plans, bool ran) {
  for (const v1::EnvironmentPlan& p : plans) {
    if (!p.has_policy()) {
      std::printf("%s: no retention policy (nothing is removed)\n\n", p.env().c_str());
      continue;
    }
    std::printf("%s: %s\n", p.env().c_str(), p.policy().c_str());
    if (ran) {
      std::printf("run %s: %d steps done, %llu resumed from an interrupted run\n",
                  p.run_id().c_str(), p.steps_size(),
                  static_cast<unsigned long long>(p.resumed_steps()));
    }
    std::printf("%s\n", p.text().c_str());
  }
}

int Plan(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::RetentionPlanRequest request;
  request.set_env(args.env);
  v1::RetentionPlanResponse response;
  if (absl::Status s = backend->RetentionPlan(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  PrintPlans(response.environments(), false);
  return kExitOk;
}

int RunNow(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::RetentionRunRequest request;
  request.set_env(args.env);
  v1::RetentionRunResponse response;
  if (absl::Status s = backend->RetentionRun(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  PrintPlans(response.environments(), true);
  return kExitOk;
}

int Log(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::RetentionLogRequest request;
  request.set_env(args.env);
  request.set_limit(args.limit);
  v1::RetentionLogResponse response;
  if (absl::Status s = backend->RetentionLog(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  std::vector<std::vector<std::string>> rows = {
      {"time", "env", "action", "tier", "from", "to", "namespaces", "events", "bytes", "detail"}};
  for (const v1::TrailRecord& r : response.records()) {
    std::string detail = r.detail();
    if (!r.digest().empty()) {
      detail = absl::StrCat("sha256:", r.digest().substr(0, 16), detail.empty() ? "" : " ", detail);
    }
    rows.push_back({FormatTimestamp(r.time_micros()), r.env(), r.action(), r.tier(),
                    FormatTimestamp(r.from_micros()), FormatTimestamp(r.to_micros()),
                    Namespaces(r.namespaces()), absl::StrCat(r.events()), absl::StrCat(r.bytes()),
                    detail});
  }
  PrintTable(rows);
  return kExitOk;
}

int Report(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::RetentionReportRequest request;
  request.set_env(args.env);
  if (!args.policy_file.empty()) {
    std::ifstream in(args.policy_file, std::ios::binary);
    std::stringstream text;
    if (in) text << in.rdbuf();
    if (!in) {
      return ReportError(absl::NotFoundError(
                 absl::StrCat("--policy ", args.policy_file, ": cannot read the file"))),
             kExitUsage;
    }
    request.set_policy_yaml(text.str());
  }
  v1::RetentionReportResponse response;
  if (absl::Status s = backend->RetentionReport(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  for (const v1::EnvironmentCost& c : response.current()) std::printf("%s\n", c.text().c_str());
  for (const v1::EnvironmentCost& c : response.proposed()) {
    std::printf("with %s:\n%s\n", args.policy_file.c_str(), c.text().c_str());
  }
  return kExitOk;
}

int HoldAdd(Session& session, const RetentionArgs& args) {
  absl::StatusOr<TimeMicros> from = ParseTime("--from", args.from);
  if (!from.ok()) return ReportError(from.status()), kExitUsage;
  absl::StatusOr<TimeMicros> to = ParseTime("--to", args.to);
  if (!to.ok()) return ReportError(to.status()), kExitUsage;
  KQ_BACKEND_OR_EXIT(session);
  v1::AddHoldRequest request;
  v1::LegalHold* hold = request.mutable_hold();
  hold->set_env(EnvOrSession(session, args));
  for (const auto& ns : args.namespaces) hold->add_namespaces(ns);
  hold->set_from_micros(*from);
  hold->set_to_micros(*to);
  hold->set_reason(args.reason);
  hold->set_created_by(User());
  v1::AddHoldResponse response;
  if (absl::Status s = backend->AddHold(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  std::printf("hold %llu added on %s\n", static_cast<unsigned long long>(response.hold().id()),
              response.hold().env().c_str());
  return kExitOk;
}

int HoldList(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::ListHoldsRequest request;
  request.set_env(args.env);
  request.set_include_released(args.all);
  v1::ListHoldsResponse response;
  if (absl::Status s = backend->ListHolds(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  std::vector<std::vector<std::string>> rows = {
      {"env", "id", "namespaces", "from", "to", "reason", "by", "created", "released"}};
  for (const v1::LegalHold& h : response.holds()) {
    rows.push_back({h.env(), absl::StrCat(h.id()), Namespaces(h.namespaces()),
                    FormatTimestamp(h.from_micros()), FormatTimestamp(h.to_micros()), h.reason(),
                    h.created_by(), FormatTimestamp(h.created_micros()),
                    h.released_micros() == 0 ? "-"
                                             : absl::StrCat(FormatTimestamp(h.released_micros()),
                                                            " by ", h.released_by())});
  }
  PrintTable(rows);
  return kExitOk;
}

int HoldRelease(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::ReleaseHoldRequest request;
  request.set_env(EnvOrSession(session, args));
  request.set_id(args.id);
  request.set_released_by(User());
  if (absl::Status s = backend->ReleaseHold(request); !s.ok()) return ReportError(s);
  std::printf("hold %llu on %s released\n", static_cast<unsigned long long>(args.id),
              request.env().c_str());
  return kExitOk;
}

int ArchiveList(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::ListArchiveRequest request;
  request.set_env(args.env);
  v1::ListArchiveResponse response;
  if (absl::Status s = backend->ListArchive(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  std::printf("archive root: %s\n", response.archive_root().c_str());
  std::vector<std::vector<std::string>> rows = {
      {"env", "date", "namespace", "parts", "events", "bytes", "dir"}};
  for (const v1::ArchivePartition& p : response.partitions()) {
    uint64_t events = 0, bytes = 0;
    for (const v1::ArchivePart& part : p.parts()) {
      events += part.events();
      bytes += part.bytes();
    }
    rows.push_back({p.env(), Day(p.day_micros()), NsName(p.ns()), absl::StrCat(p.parts_size()),
                    absl::StrCat(events), absl::StrCat(bytes), p.dir()});
  }
  PrintTable(rows);
  return kExitOk;
}

int ArchiveVerify(Session& session, const RetentionArgs& args) {
  KQ_BACKEND_OR_EXIT(session);
  v1::VerifyArchiveRequest request;
  request.set_env(args.env);
  v1::VerifyArchiveResponse response;
  if (absl::Status s = backend->VerifyArchive(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") {
    PrintJson(response);
  } else {
    for (const v1::ArchiveProblem& p : response.problems()) {
      std::printf("%s: %s\n", p.what().c_str(), p.path().c_str());
    }
    std::printf("%llu partitions, %llu parts, %llu events checked: %s\n",
                static_cast<unsigned long long>(response.partitions()),
                static_cast<unsigned long long>(response.parts()),
                static_cast<unsigned long long>(response.events()),
                response.problems().empty()
                    ? "ok"
                    : absl::StrCat(response.problems_size(), " problems").c_str());
  }
  return response.problems().empty() ? kExitOk : kExitError;
}

int ArchiveRestore(Session& session, const RetentionArgs& args) {
  absl::StatusOr<TimeMicros> from = ParseTime("--from", args.from);
  if (!from.ok()) return ReportError(from.status()), kExitUsage;
  absl::StatusOr<TimeMicros> to = ParseTime("--to", args.to);
  if (!to.ok()) return ReportError(to.status()), kExitUsage;
  KQ_BACKEND_OR_EXIT(session);
  v1::RestoreArchiveRequest request;
  request.set_env(EnvOrSession(session, args));
  request.set_from_micros(*from);
  request.set_to_micros(*to);
  for (const auto& ns : args.namespaces) request.add_namespaces(ns);
  request.set_target_env(args.target);
  v1::RestoreArchiveResponse response;
  if (absl::Status s = backend->RestoreArchive(request, &response); !s.ok()) return ReportError(s);
  if (args.format == "json") return PrintJson(response);
  std::printf("%llu events restored into %s (query them with --env %s)\n",
              static_cast<unsigned long long>(response.events()), response.target_env().c_str(),
              response.target_env().c_str());
  return kExitOk;
}

}  // namespace

RetentionCommands::RetentionCommands(CLI::App& app) {
  auto add = [&](CLI::App* parent, const char* name, const char* help, const char* footer,
                 Handler handler, bool json) {
    CLI::App* cmd = parent->add_subcommand(name, help);
    cmd->footer(footer);
    if (json) {
      cmd->add_option("--format", args_.format, "table or json")
          ->check(CLI::IsMember({"table", "json"}));
    }
    cmd->add_option("--kqd-config", args_.kqd_config,
                    "With --data: use this kqd config's retention, archive-root and "
                    "environments")
        ->check(CLI::ExistingFile);
    commands_.emplace_back(cmd, std::move(handler));
    return cmd;
  };
  constexpr char kAllEnvs[] = "Only this environment (default: every one)";

  CLI::App* retention = app.add_subcommand(
      "retention", "Retention tiers: plan, run, trail, cost (docs/retention.md)");
  retention->require_subcommand(1);
  add(retention, "plan", "What the next retention run would drop, archive or delete",
      "Example: kq retention plan --env prod", Plan, true)
      ->add_option("--env", args_.env, kAllEnvs);
  add(retention, "run", "Run retention now (finishes an interrupted run first)",
      "Example: kq retention run --env dev", RunNow, true)
      ->add_option("--env", args_.env, kAllEnvs);
  CLI::App* log = add(retention, "log", "The retention trail: every move, archive, delete, hold",
                      "Example: kq retention log --env prod --limit 50", Log, true);
  log->add_option("--env", args_.env, kAllEnvs);
  log->add_option("--limit", args_.limit, "Newest records per environment (default all)");
  CLI::App* report =
      add(retention, "report", "Bytes per tier and namespace, ingest rate, steady-state size",
          "Example: kq retention report --env prod --policy longer-retention.yaml\n"
          "The policy file holds a `retention:` section's content (prod: {hot: 14d, ...}).",
          Report, true);
  report->add_option("--env", args_.env, kAllEnvs);
  report->add_option("--policy", args_.policy_file, "Compare with this retention YAML")
      ->check(CLI::ExistingFile);

  CLI::App* hold = app.add_subcommand("hold", "Legal holds: data kept whatever the tiers say");
  hold->require_subcommand(1);
  CLI::App* hold_add =
      add(hold, "add", "Keep a time range (of some namespaces) from archiving and deletion",
          "Example: kq hold add --env prod --ns payments --from 2026-01-01 --to 2026-02-01 "
          "--reason 'case 4711'",
          HoldAdd, true);
  hold_add->add_option("--env", args_.env, "Environment (default: the context's, else prod)");
  hold_add->add_option("--ns", args_.namespaces, "Namespace (repeat; default every one)");
  hold_add->add_option("--from", args_.from, "Start, inclusive: YYYY-MM-DD or RFC 3339")
      ->required();
  hold_add->add_option("--to", args_.to, "End, exclusive: YYYY-MM-DD or RFC 3339")->required();
  hold_add->add_option("--reason", args_.reason, "Why (recorded in the trail)")->required();
  CLI::App* hold_list =
      add(hold, "list", "Active holds", "Example: kq hold list --all", HoldList, true);
  hold_list->add_option("--env", args_.env, kAllEnvs);
  hold_list->add_flag("--all", args_.all, "Released holds too");
  CLI::App* hold_release = add(hold, "release", "Release a hold (recorded in the trail)",
                               "Example: kq hold release --env prod 3", HoldRelease, false);
  hold_release->add_option("--env", args_.env, "Environment (default: the context's, else prod)");
  hold_release->add_option("ID", args_.id, "Hold id from `kq hold list`")->required();

  CLI::App* archive =
      app.add_subcommand("archive", "Archived events: jsonl files per day and namespace");
  archive->require_subcommand(1);
  add(archive, "list", "Archive partitions with their parts, events and bytes",
      "Example: kq archive list --env prod", ArchiveList, true)
      ->add_option("--env", args_.env, kAllEnvs);
  add(archive, "verify", "Recompute every sha256; report missing or altered files (exit 1)",
      "Example: kq archive verify --env prod", ArchiveVerify, true)
      ->add_option("--env", args_.env, kAllEnvs);
  CLI::App* restore =
      add(archive, "restore", "Copy archived events back into a queryable restored area",
          "Example: kq archive restore --env prod --from 2025-01-01 --to 2025-01-08 --ns payments\n"
          "then: kq query --env prod-restored 'events | take 10'",
          ArchiveRestore, true);
  restore->add_option("--env", args_.env, "Archived environment (default: the context's)");
  restore->add_option("--from", args_.from, "Start, inclusive: YYYY-MM-DD or RFC 3339")->required();
  restore->add_option("--to", args_.to, "End, exclusive: YYYY-MM-DD or RFC 3339")->required();
  restore->add_option("--ns", args_.namespaces, "Namespace (repeat; default every one)");
  restore->add_option("--target", args_.target, "Receiving environment (default <env>-restored)");
}

bool RetentionCommands::parsed() const {
  for (const auto& [cmd, handler] : commands_) {
    if (cmd->parsed()) return true;
  }
  return false;
}

int RetentionCommands::Run(Session& session) {
  for (const auto& [cmd, handler] : commands_) {
    if (cmd->parsed()) return handler(session, args_);
  }
  return kExitUsage;
}

}  // namespace kq::cli
