#include "tools/kq/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "common/time.h"
#include "tools/kq/policy_commands.h"

namespace kq::cli {
namespace {

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  return u == 0 ? absl::StrFormat("%.0f %s", bytes, units[u])
                : absl::StrFormat("%.1f %s", bytes, units[u]);
}

std::string EnvOr(const Session& session, const std::string& env) {
  return env.empty() ? session.target().env : env;
}

// Draws import progress on stderr when it is a terminal, at most ~10 times a second.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO)), start_(Clock::now()) {}

  void Update(const ImportProgress& p) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double secs = std::max(1e-3, std::chrono::duration<double>(now - start_).count());
    double frac = p.bytes_total ? static_cast<double>(p.bytes_done) / p.bytes_total : 0;
    int filled = static_cast<int>(frac * 30);
    std::string bar = std::string(filled, '#') + std::string(30 - filled, ' ');
    double eta = frac > 0 ? secs / frac - secs : 0;
    std::fprintf(stderr, "\r[%s] %3.0f%%  %s events  %.0f events/s  %s/s  ETA %.0fs ", bar.c_str(),
                 frac * 100, absl::StrCat(p.events).c_str(), p.events / secs,
                 HumanBytes(p.bytes_done / secs).c_str(), eta);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r\x1b[K");
  }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  Clock::time_point start_, last_;
};

}  // namespace

int ReportError(const absl::Status& status) {
  std::fprintf(stderr, "kq: %s\n", std::string(StdSv(status.message())).c_str());
  return ExitCodeFor(status);
}

int RunQueryCommand(Session& session, const QueryArgs& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(args.format);
  if (!format.ok()) return ReportError(format.status()), kExitUsage;
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  ResultPrinter printer(stdout, DetectTerminal(stdout, *format));
  query::QueryStats stats;
  auto start = std::chrono::steady_clock::now();
  absl::Status status = (*backend)->Query(args.text, EnvOr(session, args.env), printer, &stats);
  printer.Finish();
  auto total = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (!status.ok()) return ReportError(status);
  if (args.timing) {
    // "query": the engine's time (kqd's, when remote); "total": as this client saw it, from
    // sending the query to the last row printed.
    std::fprintf(stderr,
                 "%llu rows, %llu scanned, segments %llu read / %llu pruned, query %s, total %s\n",
                 static_cast<unsigned long long>(stats.rows_returned),
                 static_cast<unsigned long long>(stats.rows_scanned),
                 static_cast<unsigned long long>(stats.segments_read),
                 static_cast<unsigned long long>(stats.segments_pruned),
                 FormatDuration(stats.elapsed).c_str(), FormatDuration(total.count()).c_str());
  }
  return kExitOk;
}

int RunExplainCommand(Session& session, const QueryArgs& args) {
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  absl::StatusOr<std::string> plan = (*backend)->Explain(args.text, EnvOr(session, args.env));
  if (!plan.ok()) return ReportError(plan.status());
  std::fputs(plan->c_str(), stdout);
  if (!plan->empty() && plan->back() != '\n') std::fputc('\n', stdout);
  return kExitOk;
}

int RunTailCommand(Session& session, const QueryArgs& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(args.format);
  if (!format.ok()) return ReportError(format.status()), kExitUsage;
  if (*format == OutputFormat::kTable || *format == OutputFormat::kJson) {
    format = OutputFormat::kJsonLines;  // a live stream cannot be aligned or closed
  }
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  ResultPrinter printer(stdout, DetectTerminal(stdout, *format));
  absl::Status status = (*backend)->Tail(args.text, EnvOr(session, args.env), printer);
  printer.Finish();
  return status.ok() ? kExitOk : ReportError(status);
}

int RunImportCommand(Session& session, const ImportArgs& args) {
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  ImportRequest request{args.files, EnvOr(session, args.env), args.cluster};
  ProgressBar bar;
  absl::StatusOr<ImportSummary> summary =
      (*backend)->Import(request, [&](const ImportProgress& p) { bar.Update(p); });
  bar.Done();
  if (!summary.ok()) return ReportError(summary.status());
  std::fprintf(stderr,
               "imported into %s: %llu events stored, %llu duplicates skipped, %llu quarantined "
               "(%.1fs)\n",
               request.env.c_str(), static_cast<unsigned long long>(summary->stored),
               static_cast<unsigned long long>(summary->duplicates),
               static_cast<unsigned long long>(summary->quarantined), bar.Seconds());
  if (summary->quarantined > 0) {
    std::fprintf(stderr, "see them with: kq quarantine list --env %s\n", request.env.c_str());
  }
  return kExitOk;
}

int RunStatsCommand(Session& session, const std::string& env, const std::string& format) {
  if (format != "table" && format != "json") {
    return ReportError(absl::InvalidArgumentError("stats --format is table or json")), kExitUsage;
  }
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  std::vector<server::PolicyRuleStats> rules;
  absl::StatusOr<std::vector<storage::EnvironmentStats>> stats = (*backend)->Stats(env, &rules);
  if (!stats.ok()) return ReportError(stats.status());
  std::string out;
  if (format == "json") {
    out = "[";
    for (size_t i = 0; i < stats->size(); ++i) {
      const storage::EnvironmentStats& e = (*stats)[i];
      absl::StrAppend(&out, i ? "," : "", "\n{\"env\":", JsonQuote(e.env), ",\"events\":", e.events,
                      ",\"raw_bytes\":", e.raw_bytes, ",\"disk_bytes\":", e.disk_bytes,
                      ",\"quarantined\":", e.quarantined,
                      ",\"policy_rules\":", PolicyRulesJson(rules, e.env), ",\"namespaces\":[");
      for (size_t j = 0; j < e.namespaces.size(); ++j) {
        const storage::NamespaceStats& n = e.namespaces[j];
        absl::StrAppend(&out, j ? "," : "", "{\"tier\":", JsonQuote(n.tier),
                        ",\"ns\":", JsonQuote(n.ns), ",\"events\":", n.events,
                        ",\"raw_bytes\":", n.raw_bytes, ",\"disk_bytes\":", n.disk_bytes, "}");
      }
      out += "]}";
    }
    out += "\n]\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  for (const storage::EnvironmentStats& e : *stats) {
    double ratio = e.disk_bytes ? static_cast<double>(e.raw_bytes) / e.disk_bytes : 0;
    absl::StrAppend(&out, "environment ", e.env, ": ", e.events, " events, ",
                    HumanBytes(e.raw_bytes), " raw, ", HumanBytes(e.disk_bytes),
                    absl::StrFormat(" on disk (%.1fx), ", ratio), e.quarantined, " quarantined\n");
    uint64_t max_bytes = 1;
    for (const auto& n : e.namespaces) max_bytes = std::max(max_bytes, n.disk_bytes);
    absl::StrAppend(&out, absl::StrFormat("  %-5s %-28s %12s %10s  %s\n", "tier", "namespace",
                                          "events", "disk", "share of disk"));
    for (const auto& n : e.namespaces) {
      int bar = static_cast<int>(30.0 * n.disk_bytes / max_bytes + 0.5);
      std::string bars;
      for (int i = 0; i < bar; ++i) bars += "█";
      absl::StrAppend(&out, absl::StrFormat("  %-5s %-28s %12d %10s  %s\n", n.tier,
                                            n.ns.empty() ? "(cluster)" : n.ns, n.events,
                                            HumanBytes(n.disk_bytes), bars));
    }
    out += PolicyRulesTable(rules, e.env);
  }
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

int RunQuarantineList(Session& session, const std::string& env, size_t limit) {
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  auto records = (*backend)->ListQuarantine(EnvOr(session, env), limit);
  if (!records.ok()) return ReportError(records.status());
  if (records->empty()) std::fprintf(stderr, "quarantine is empty\n");
  for (const storage::QuarantineRecord& r : *records) {
    std::printf("%-6llu %s  %s  %s\n", static_cast<unsigned long long>(r.id),
                FormatTimestamp(r.received).c_str(), r.source.c_str(), r.reason.c_str());
  }
  return kExitOk;
}

int RunQuarantineShow(Session& session, const std::string& env, uint64_t id) {
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  auto record = (*backend)->GetQuarantine(EnvOr(session, env), id);
  if (!record.ok()) return ReportError(record.status());
  std::printf("id:       %llu\nreceived: %s\nsource:   %s\nreason:   %s\npayload:\n%s\n",
              static_cast<unsigned long long>(record->id),
              FormatTimestamp(record->received).c_str(), record->source.c_str(),
              record->reason.c_str(), record->payload.c_str());
  return kExitOk;
}

int RunGetContexts() {
  std::string path = ContextConfigPath();
  absl::StatusOr<ContextConfig> config = LoadContexts(path);
  if (!config.ok()) return ReportError(config.status());
  std::printf("%-8s %-20s %-30s %s\n", "CURRENT", "NAME", "TARGET", "ENV");
  for (const Context& c : config->contexts) {
    std::string target = c.server.empty() ? "data=" + c.data : "server=" + c.server;
    std::printf("%-8s %-20s %-30s %s\n", c.name == config->current ? "*" : "", c.name.c_str(),
                target.c_str(), c.env.empty() ? "prod" : c.env.c_str());
  }
  if (config->contexts.empty()) {
    std::fprintf(stderr,
                 "no contexts in %s: add one with `kq config set-context NAME "
                 "--server HOST:PORT` or `--data DIR`\n",
                 path.c_str());
  }
  return kExitOk;
}

int RunUseContext(const std::string& name) {
  std::string path = ContextConfigPath();
  absl::StatusOr<ContextConfig> config = LoadContexts(path);
  if (!config.ok()) return ReportError(config.status());
  if (config->Find(name) == nullptr) {
    return ReportError(absl::NotFoundError(absl::StrCat("no context named \"", name, "\" in ", path,
                                                        ": see `kq config get-contexts`")));
  }
  config->current = name;
  absl::Status saved = SaveContexts(path, *config);
  if (!saved.ok()) return ReportError(saved);
  std::printf("switched to context \"%s\"\n", name.c_str());
  return kExitOk;
}

int RunSetContext(const Context& context) {
  if (context.server.empty() == context.data.empty()) {
    return ReportError(absl::InvalidArgumentError(
               "set-context needs exactly one of --server HOST:PORT or --data DIR")),
           kExitUsage;
  }
  std::string path = ContextConfigPath();
  absl::StatusOr<ContextConfig> config = LoadContexts(path);
  if (!config.ok()) return ReportError(config.status());
  auto it = std::find_if(config->contexts.begin(), config->contexts.end(),
                         [&](const Context& c) { return c.name == context.name; });
  if (it == config->contexts.end()) {
    config->contexts.push_back(context);
  } else {
    *it = context;
  }
  if (config->current.empty()) config->current = context.name;
  absl::Status saved = SaveContexts(path, *config);
  if (!saved.ok()) return ReportError(saved);
  std::printf("context \"%s\" saved in %s\n", context.name.c_str(), path.c_str());
  return kExitOk;
}

}  // namespace kq::cli
