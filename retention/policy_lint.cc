#include "retention/policy_lint.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace kq::retention {
namespace {

// Verbs that appear on audit events: resource verbs from requestinfo.go, and the lower-cased
// HTTP methods of non-resource requests.
constexpr std::array<std::string_view, 13> kAuditVerbs = {
    "get",   "list", "watch", "create", "update", "patch", "delete", "deletecollection",
    "proxy", "post", "put",   "head",   "options"};
// Authorization verbs that are checked internally but never appear as event.verb.
constexpr std::array<std::string_view, 5> kAuthzOnlyVerbs = {"impersonate", "bind", "escalate",
                                                             "approve", "use"};

struct BuiltinGroup {
  std::string_view group;
  std::vector<std::string_view> resources;
};

// Built-in API groups of kube-apiserver (1.24 to 1.36) and their resources.
const std::vector<BuiltinGroup>& BuiltinGroups() {
  static const auto* groups = new std::vector<BuiltinGroup>{
      {"",
       {"bindings", "componentstatuses", "configmaps", "endpoints", "events", "limitranges",
        "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes", "pods",
        "podtemplates", "replicationcontrollers", "resourcequotas", "secrets", "serviceaccounts",
        "services"}},
      {"admissionregistration.k8s.io",
       {"mutatingwebhookconfigurations", "validatingwebhookconfigurations",
        "validatingadmissionpolicies", "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}},
      {"apiextensions.k8s.io", {"customresourcedefinitions"}},
      {"apiregistration.k8s.io", {"apiservices"}},
      {"apps", {"controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"}},
      {"authentication.k8s.io", {"tokenreviews", "selfsubjectreviews"}},
      {"authorization.k8s.io",
       {"localsubjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews",
        "subjectaccessreviews"}},
      {"autoscaling", {"horizontalpodautoscalers"}},
      {"batch", {"cronjobs", "jobs"}},
      {"certificates.k8s.io", {"certificatesigningrequests", "clustertrustbundles"}},
      {"coordination.k8s.io", {"leases", "leasecandidates"}},
      {"discovery.k8s.io", {"endpointslices"}},
      {"events.k8s.io", {"events"}},
      {"extensions",
       {"daemonsets", "deployments", "ingresses", "networkpolicies", "podsecuritypolicies",
        "replicasets", "replicationcontrollers"}},
      {"flowcontrol.apiserver.k8s.io", {"flowschemas", "prioritylevelconfigurations"}},
      {"internal.apiserver.k8s.io", {"storageversions"}},
      {"networking.k8s.io",
       {"ingressclasses", "ingresses", "networkpolicies", "ipaddresses", "servicecidrs"}},
      {"node.k8s.io", {"runtimeclasses"}},
      {"policy", {"poddisruptionbudgets", "podsecuritypolicies"}},
      {"rbac.authorization.k8s.io",
       {"clusterrolebindings", "clusterroles", "rolebindings", "roles"}},
      {"resource.k8s.io",
       {"deviceclasses", "resourceclaims", "resourceclaimtemplates", "resourceslices",
        "podschedulingcontexts", "resourceclasses"}},
      {"scheduling.k8s.io", {"priorityclasses"}},
      {"storage.k8s.io",
       {"csidrivers", "csinodes", "csistoragecapacities", "storageclasses", "volumeattachments",
        "volumeattributesclasses"}},
      {"storagemigration.k8s.io", {"storageversionmigrations"}},
  };
  return *groups;
}

constexpr std::array<std::string_view, 16> kSubresources = {
    "approval",    "attach", "binding",        "ephemeralcontainers",
    "eviction",    "exec",   "finalize",       "log",
    "portforward", "proxy",  "resize",         "scale",
    "status",      "token",  "resourceclaims", "*"};

template <typename Container>
bool Contains(const Container& c, std::string_view v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

// every element of `sub` is in `super`
bool Subset(const std::vector<std::string>& sub, const std::vector<std::string>& super) {
  return std::all_of(sub.begin(), sub.end(),
                     [&](const std::string& s) { return Contains(super, s); });
}

// A list selector of `earlier` (empty = anything) covers the same selector of `later`.
bool ListCovers(const std::vector<std::string>& earlier, const std::vector<std::string>& later) {
  return earlier.empty() || (!later.empty() && Subset(later, earlier));
}

bool HasResourceSelectors(const PolicyRule& r) {
  return !r.namespaces.empty() || !r.resources.empty();
}

// Does resource pattern `e` match every (resource, subresource) that pattern `l` matches?
bool ResourcePatternCovers(std::string_view e, std::string_view l) {
  if (e == "*" || e == l) return true;
  size_t slash = l.find('/');
  std::string_view l_res = l.substr(0, slash);
  std::string_view l_sub = slash == std::string_view::npos ? "" : l.substr(slash + 1);
  if (e.size() > 2 && e.substr(e.size() - 2) == "/*") {
    // "pods/*" matches every request on resource pods, with or without a subresource.
    return l_res != "*" && l_res == e.substr(0, e.size() - 2);
  }
  if (e.size() > 2 && e.substr(0, 2) == "*/") {
    // "*/scale" matches any resource's scale subresource.
    return !l_sub.empty() && l_sub != "*" && l_sub == e.substr(2);
  }
  return false;
}

// Every request matched by `l` (one GroupResources entry of the later rule) is matched by some
// entry of `earlier`.
bool GroupResourcesCovered(const std::vector<GroupResources>& earlier, const GroupResources& l) {
  auto group_ok = [&](const GroupResources& e) { return e.group == "*" || e.group == l.group; };
  auto names_ok = [&](const GroupResources& e) {
    return e.resource_names.empty() ||
           (!l.resource_names.empty() && Subset(l.resource_names, e.resource_names));
  };
  if (l.resources.empty()) {
    return std::any_of(earlier.begin(), earlier.end(),
                       [&](const GroupResources& e) { return group_ok(e) && e.resources.empty(); });
  }
  for (const std::string& res : l.resources) {
    bool covered = std::any_of(earlier.begin(), earlier.end(), [&](const GroupResources& e) {
      if (!group_ok(e)) return false;
      if (e.resources.empty()) return true;
      if (!names_ok(e)) return false;
      return std::any_of(e.resources.begin(), e.resources.end(),
                         [&](const std::string& er) { return ResourcePatternCovers(er, res); });
    });
    if (!covered) return false;
  }
  return true;
}

bool UrlCovers(std::string_view e, std::string_view l) {
  if (e == "*" || e == l) return true;
  if (!e.empty() && e.back() == '*') {
    std::string_view prefix = e.substr(0, e.size() - 1);
    return l.substr(0, std::min(l.size(), prefix.size())) == prefix && l.size() >= prefix.size();
  }
  return false;
}

std::string Where(int index, const PolicyRule& rule) {
  if (rule.line > 0) return absl::StrCat("rule ", index, " (line ", rule.line, ")");
  return absl::StrCat("rule ", index);
}

bool IsCatchAll(const PolicyRule& r) {
  return r.users.empty() && r.user_groups.empty() && r.verbs.empty() && r.resources.empty() &&
         r.namespaces.empty() && r.non_resource_urls.empty();
}

}  // namespace

std::string_view LintKindName(LintFinding::Kind kind) {
  switch (kind) {
    case LintFinding::Kind::kShadowed:
      return "shadowed";
    case LintFinding::Kind::kUnknownVerb:
      return "unknown-verb";
    case LintFinding::Kind::kUnknownResource:
      return "unknown-resource";
    case LintFinding::Kind::kNoCatchAll:
      return "no-catch-all";
    case LintFinding::Kind::kNeverMatches:
      return "never-matches";
    case LintFinding::Kind::kLevelNoEffect:
      return "level-no-effect";
  }
  return "unknown";
}

bool RuleCovers(const PolicyRule& e, const PolicyRule& l) {
  if (!ListCovers(e.users, l.users)) return false;
  if (!e.user_groups.empty()) {
    // Users named by `l` may have groups outside `e`'s list; only a group list can prove it.
    if (l.user_groups.empty() || !Subset(l.user_groups, e.user_groups)) return false;
  }
  if (!ListCovers(e.verbs, l.verbs)) return false;
  if (HasResourceSelectors(e)) {
    if (!HasResourceSelectors(l)) return false;
    if (!ListCovers(e.namespaces, l.namespaces)) return false;
    if (e.resources.empty()) return true;
    if (l.resources.empty()) return false;
    return std::all_of(l.resources.begin(), l.resources.end(), [&](const GroupResources& gr) {
      return GroupResourcesCovered(e.resources, gr);
    });
  }
  if (!e.non_resource_urls.empty()) {
    if (l.non_resource_urls.empty()) return false;
    return std::all_of(
        l.non_resource_urls.begin(), l.non_resource_urls.end(), [&](const std::string& lu) {
          return std::any_of(e.non_resource_urls.begin(), e.non_resource_urls.end(),
                             [&](const std::string& eu) { return UrlCovers(eu, lu); });
        });
  }
  return true;
}

std::vector<LintFinding> LintPolicy(const Policy& policy) {
  std::vector<LintFinding> out;
  const std::vector<PolicyRule>& rules = policy.rules();
  auto add = [&](LintFinding::Kind kind, int index, std::string message) {
    int line = index >= 0 ? rules[index].line : 0;
    std::string where = index >= 0 ? Where(index, rules[index]) : "policy";
    out.push_back({kind, index, line, absl::StrCat(where, ": ", message)});
  };
  for (int j = 0; j < static_cast<int>(rules.size()); ++j) {
    const PolicyRule& rule = rules[j];
    for (int i = 0; i < j; ++i) {
      if (RuleCovers(rules[i], rule)) {
        add(LintFinding::Kind::kShadowed, j,
            absl::StrCat("can never match: ", Where(i, rules[i]),
                         " comes first and matches every request this rule matches"));
        break;
      }
    }
    for (const std::string& verb : rule.verbs) {
      if (Contains(kAuditVerbs, verb)) continue;
      std::string why = verb == "*" ? "\"*\" is not a wildcard in audit policies; leave verbs "
                                      "out to match every verb"
                        : Contains(kAuthzOnlyVerbs, verb)
                            ? absl::StrCat("\"", verb,
                                           "\" is an authorization verb and never appears on "
                                           "audit events")
                            : absl::StrCat("unknown verb \"", verb, "\"");
      add(LintFinding::Kind::kUnknownVerb, j, why);
    }
    for (const GroupResources& gr : rule.resources) {
      const BuiltinGroup* builtin = nullptr;
      for (const BuiltinGroup& b : BuiltinGroups()) {
        if (b.group == gr.group) builtin = &b;
      }
      if (builtin == nullptr) continue;
      std::string_view group_label = gr.group.empty() ? "core" : std::string_view(gr.group);
      for (const std::string& res : gr.resources) {
        size_t slash = res.find('/');
        std::string_view name = std::string_view(res).substr(0, slash);
        std::string_view sub =
            slash == std::string::npos ? "" : std::string_view(res).substr(slash + 1);
        if (name != "*" && !Contains(builtin->resources, name)) {
          add(LintFinding::Kind::kUnknownResource, j,
              absl::StrCat("resource \"", Sv(name), "\" does not exist in the ", Sv(group_label),
                           " API group"));
        } else if (slash != std::string::npos && !Contains(kSubresources, sub)) {
          add(LintFinding::Kind::kUnknownResource, j,
              absl::StrCat("unknown subresource \"", Sv(sub), "\" in \"", res, "\""));
        }
      }
    }
    bool has_names =
        std::any_of(rule.resources.begin(), rule.resources.end(), [](const GroupResources& gr) {
          return !gr.resource_names.empty() && !Contains(gr.resource_names, "");
        });
    bool nameless_verbs_only =
        !rule.verbs.empty() &&
        std::all_of(rule.verbs.begin(), rule.verbs.end(),
                    [](const std::string& v) { return v == "create" || v == "deletecollection"; });
    if (has_names && nameless_verbs_only) {
      add(LintFinding::Kind::kNeverMatches, j,
          "resourceNames never match create or deletecollection requests, which carry no name");
    }
    if (!rule.non_resource_urls.empty() && rule.level > Level::kMetadata) {
      add(LintFinding::Kind::kLevelNoEffect, j,
          absl::StrCat("level ", Sv(LevelName(rule.level)),
                       " on non-resource URLs records the same as Metadata (they have no "
                       "bodies)"));
    }
  }
  if (std::none_of(rules.begin(), rules.end(), IsCatchAll)) {
    add(LintFinding::Kind::kNoCatchAll, -1,
        "no catch-all rule: requests that no rule matches are not logged at all (level None); "
        "end the policy with a rule such as \"- level: Metadata\"");
  }
  return out;
}

}  // namespace kq::retention
