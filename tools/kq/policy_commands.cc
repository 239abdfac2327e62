#include "tools/kq/policy_commands.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/policy.h"
#include "retention/policy_lint.h"
#include "retention/policy_simulate.h"
#include "server/policy_simulation.h"
#include "tools/kq/commands.h"

namespace kq::cli {
namespace {

// The text of the policy file; NotFound / FailedPrecondition naming it when it cannot be read.
absl::StatusOr<std::string> ReadPolicyText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::FailedPreconditionError(msg);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return text.str();
}

}  // namespace

int RunPolicyLint(const std::string& policy_file, const std::string& format) {
  absl::StatusOr<retention::Policy> policy = retention::Policy::LoadFile(policy_file);
  if (!policy.ok()) return ReportError(policy.status());
  std::vector<retention::LintFinding> findings = retention::LintPolicy(*policy);
  if (format == "json") {
    std::string out = "[";
    for (size_t i = 0; i < findings.size(); ++i) {
      const retention::LintFinding& f = findings[i];
      absl::StrAppend(&out, i ? ",\n" : "\n", "{\"kind\":\"", Sv(retention::LintKindName(f.kind)),
                      "\",\"rule\":", f.rule < 0 ? "null" : absl::StrCat(f.rule),
                      ",\"line\":", f.line, ",\"message\":", JsonQuote(f.message), "}");
    }
    out += findings.empty() ? "]\n" : "\n]\n";
    std::fputs(out.c_str(), stdout);
  } else {
    for (const retention::LintFinding& f : findings) {
      std::printf("%s: %s\n", std::string(retention::LintKindName(f.kind)).c_str(),
                  f.message.c_str());
    }
    std::fprintf(stderr, "%s: %zu finding%s\n", policy_file.c_str(), findings.size(),
                 findings.size() == 1 ? "" : "s");
  }
  return findings.empty() ? kExitOk : kExitError;
}

int RunPolicySimulate(Session& session, const SimulateArgs& args) {
  absl::StatusOr<std::string> text = ReadPolicyText(args.policy_file);
  if (!text.ok()) return ReportError(text.status());
  // Parsed here too: a bad policy fails before any connection, and the table names each
  // rule's line in the file.
  absl::StatusOr<retention::Policy> policy = retention::Policy::Parse(*text, args.policy_file);
  if (!policy.ok()) return ReportError(policy.status());
  v1::SimulatePolicyRequest request;
  request.set_policy_yaml(*text);
  request.set_policy_name(args.policy_file);
  request.set_env(args.env.empty() ? session.target().env : args.env);
  if (!args.since.empty()) {
    absl::StatusOr<TimeMicros> since = ParseDuration(args.since);
    if (!since.ok()) return ReportError(since.status()), kExitUsage;
    request.set_lookback_micros(*since);
  }
  absl::StatusOr<Backend*> backend = session.backend();
  if (!backend.ok()) return ReportError(backend.status());
  v1::SimulatePolicyResponse response;
  if (absl::Status s = (*backend)->SimulatePolicy(request, &response); !s.ok()) {
    return ReportError(s);
  }
  absl::StatusOr<retention::SimulationReport> report = server::ReportFromProto(response);
  if (!report.ok()) return ReportError(report.status());
  std::string out = args.format == "json" ? retention::SimulationJson(*report)
                                          : retention::FormatSimulation(*policy, *report);
  std::fputs(out.c_str(), stdout);
  if (!out.empty() && out.back() != '\n') std::fputc('\n', stdout);
  return kExitOk;
}

namespace {

std::string ScopeOf(const server::PolicyRuleStats& r) {
  if (r.source.empty() && r.cluster.empty()) return r.env;
  return absl::StrCat(r.env, "/", r.source.empty() ? "*" : r.source,
                      r.cluster.empty() ? "" : absl::StrCat("/", r.cluster));
}

}  // namespace

std::string PolicyRulesTable(const std::vector<server::PolicyRuleStats>& rules,
                             const std::string& env) {
  std::string out;
  std::string last_scope;
  for (const server::PolicyRuleStats& r : rules) {
    if (r.env != env) continue;
    std::string scope = ScopeOf(r);
    if (out.empty() || scope != last_scope) {
      absl::StrAppend(&out, "  audit policy at ingest, ", scope, ": ", r.file,
                      " (counts since kqd started)\n",
                      absl::StrFormat("    %-6s %-5s %-16s %12s %12s %12s\n", "rule", "line",
                                      "level", "dropped", "reduced", "kept"));
      last_scope = scope;
    }
    absl::StrAppend(&out, absl::StrFormat("    %-6s %-5d %-16s %12d %12d %12d\n",
                                          r.rule < 0 ? "none" : absl::StrCat(r.rule), r.line,
                                          r.level, r.dropped, r.reduced, r.kept));
  }
  return out;
}

std::string PolicyRulesJson(const std::vector<server::PolicyRuleStats>& rules,
                            const std::string& env) {
  std::string out = "[";
  bool first = true;
  for (const server::PolicyRuleStats& r : rules) {
    if (r.env != env) continue;
    absl::StrAppend(&out, first ? "" : ",", "{\"source\":", JsonQuote(r.source),
                    ",\"cluster\":", JsonQuote(r.cluster), ",\"policy\":", JsonQuote(r.file),
                    ",\"rule\":", r.rule < 0 ? "null" : absl::StrCat(r.rule), ",\"line\":", r.line,
                    ",\"level\":", JsonQuote(r.level), ",\"dropped\":", r.dropped,
                    ",\"reduced\":", r.reduced, ",\"kept\":", r.kept, "}");
    first = false;
  }
  return out + "]";
}

}  // namespace kq::cli
