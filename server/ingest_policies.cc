#include "server/ingest_policies.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"

namespace kq::server {
namespace {

std::string ScopeName(const PolicyScope& s) {
  std::string out = s.env;
  if (!s.source.empty() || !s.cluster.empty()) {
    absl::StrAppend(&out, "/", s.source.empty() ? "*" : s.source);
  }
  if (!s.cluster.empty()) absl::StrAppend(&out, "/", s.cluster);
  return out;
}

// Label values escaped for the Prometheus text format.
std::string Label(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out.push_back('\\');
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(ch);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IngestPolicies>> IngestPolicies::Load(const ServerConfig& config) {
  std::map<std::string, std::shared_ptr<const retention::Policy>> loaded;
  auto load = [&loaded](const std::string& file, const std::string& key)
      -> absl::StatusOr<std::shared_ptr<const retention::Policy>> {
    auto found = loaded.find(file);
    if (found != loaded.end()) return found->second;
    absl::StatusOr<retention::Policy> p = retention::Policy::LoadFile(file);
    if (!p.ok()) return Annotate(p.status(), key);
    auto policy = std::make_shared<const retention::Policy>(std::move(*p));
    loaded[file] = policy;
    return policy;
  };
  auto out = std::unique_ptr<IngestPolicies>(new IngestPolicies());
  std::string where = config.config_file.empty() ? "" : absl::StrCat(config.config_file, ": ");
  for (const auto& env : config.environments) {
    bool overridden = false;
    for (const auto& s : config.audit_policies) {
      overridden = overridden || (s.env == env.name && s.source.empty() && s.cluster.empty());
    }
    if (config.audit_policy.empty() || overridden) continue;
    KQ_ASSIGN_OR_RETURN(auto policy,
                        load(config.audit_policy, absl::StrCat(where, "audit-policy")));
    out->entries_.push_back({env.name, "", "", config.audit_policy,
                             std::make_shared<retention::PolicyApplier>(std::move(policy))});
  }
  for (const auto& s : config.audit_policies) {
    Entry e{s.env, s.source, s.cluster, s.file, nullptr};
    if (!s.file.empty()) {
      std::string at = s.origin.empty() ? where : absl::StrCat(s.origin, ": ");
      KQ_ASSIGN_OR_RETURN(auto policy,
                          load(s.file, absl::StrCat(at, "audit-policies (", ScopeName(s), ")")));
      e.applier = std::make_shared<retention::PolicyApplier>(std::move(policy));
    }
    out->entries_.push_back(std::move(e));
  }
  return out;
}

retention::PolicyApplier* IngestPolicies::Find(std::string_view env, std::string_view source,
                                               std::string_view cluster) const {
  const Entry* best = nullptr;
  int best_score = -1;
  for (const Entry& e : entries_) {
    if (e.env != env) continue;
    if (!e.source.empty() && e.source != source) continue;
    if (!e.cluster.empty() && e.cluster != cluster) continue;
    int score = (e.source.empty() ? 0 : 2) + (e.cluster.empty() ? 0 : 1);
    if (score > best_score) {
      best = &e;
      best_score = score;
    }
  }
  return best == nullptr ? nullptr : best->applier.get();
}

std::vector<PolicyRuleStats> IngestPolicies::Stats(std::string_view env) const {
  std::vector<PolicyRuleStats> out;
  for (const Entry& e : entries_) {
    if (e.applier == nullptr || (!env.empty() && e.env != env)) continue;
    const auto& rules = e.applier->policy().rules();
    for (const retention::PolicyRuleCounters& c : e.applier->Counters()) {
      PolicyRuleStats s;
      s.env = e.env;
      s.source = e.source;
      s.cluster = e.cluster;
      s.file = e.file;
      s.rule = c.rule;
      if (c.rule >= 0) {
        s.line = rules[c.rule].line;
        s.level = std::string(retention::LevelName(rules[c.rule].level));
      } else {
        s.level = std::string(retention::LevelName(retention::Level::kNone));
      }
      s.dropped = c.dropped;
      s.reduced = c.reduced;
      s.kept = c.kept;
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string IngestPolicies::MetricsText() const {
  std::string out =
      "# HELP kq_policy_rule_events_total Events an ingest audit policy decided, by scope, rule "
      "(0-based; \"none\" when no rule matched) and action (dropped, reduced, kept).\n"
      "# TYPE kq_policy_rule_events_total counter\n";
  for (const PolicyRuleStats& s : Stats("")) {
    std::string labels = absl::StrCat(
        "env=\"", Label(s.env), "\",source=\"", Label(s.source), "\",cluster=\"", Label(s.cluster),
        "\",policy=\"", Label(s.file), "\",rule=\"", s.rule < 0 ? "none" : absl::StrCat(s.rule),
        "\",line=\"", s.line, "\",level=\"", s.level, "\"");
    const std::pair<const char*, uint64_t> actions[] = {
        {"dropped", s.dropped}, {"reduced", s.reduced}, {"kept", s.kept}};
    for (const auto& [action, n] : actions) {
      absl::StrAppend(&out, "kq_policy_rule_events_total{", labels, ",action=\"", action, "\"} ", n,
                      "\n");
    }
  }
  return out;
}

}  // namespace kq::server
