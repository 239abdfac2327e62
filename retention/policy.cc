#include "retention/policy.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"

namespace kq::retention {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"None", "Metadata", "Request",
                                                         "RequestResponse"};
constexpr std::array<std::string_view, 4> kStageNames = {"RequestReceived", "ResponseStarted",
                                                         "ResponseComplete", "Panic"};

template <typename Container>
bool Has(const Container& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ruleMatchesResource in checker.go.
bool MatchesResource(const PolicyRule& r, const RequestAttributes& a) {
  if (!a.is_resource_request) return false;
  if (!r.namespaces.empty() && !Has(r.namespaces, a.ns)) return false;
  if (r.resources.empty()) return true;
  std::string combined(a.resource);
  if (!a.subresource.empty()) absl::StrAppend(&combined, "/", Sv(a.subresource));
  for (const GroupResources& gr : r.resources) {
    if (gr.group != a.api_group && gr.group != "*") continue;
    if (gr.resources.empty()) return true;
    for (const std::string& res : gr.resources) {
      if (!gr.resource_names.empty() && !Has(gr.resource_names, a.name)) continue;
      if (res == combined || res == "*") return true;
      std::string_view rv(res);
      if (!a.subresource.empty() && HasPrefix(rv, "*/") && a.subresource == rv.substr(2)) {
        return true;
      }
      if (HasSuffix(rv, "/*") && a.resource == rv.substr(0, rv.size() - 2)) return true;
    }
  }
  return false;
}

// pathMatches in checker.go: "*" matches all; a trailing "*" is a plain string prefix.
bool PathMatches(std::string_view path, std::string_view spec) {
  if (spec == "*" || spec == path) return true;
  if (HasSuffix(spec, "*")) {
    while (!spec.empty() && spec.back() == '*') spec.remove_suffix(1);
    return HasPrefix(path, spec);
  }
  return false;
}

bool MatchesNonResource(const PolicyRule& r, const RequestAttributes& a) {
  if (a.is_resource_request) return false;
  for (const std::string& spec : r.non_resource_urls) {
    if (PathMatches(a.path, spec)) return true;
  }
  return false;
}

// IsDNS1123Subdomain from apimachinery: at most 253 characters of [a-z0-9.-], each
// dot-separated label non-empty and starting and ending with [a-z0-9].
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty()) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(label.front()) || !alnum(label.back())) return false;
    for (char c : label) {
      if (!alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string OneOf(const std::array<std::string_view, 4>& names) {
  std::vector<absl::string_view> v;
  for (std::string_view n : names) v.push_back(Sv(n));
  return absl::StrCat("expected one of: ", absl::StrJoin(v, ", "));
}

[[nodiscard]] absl::StatusOr<StageSet> ParseStages(const yaml::Node& node) {
  StageSet out;
  KQ_ASSIGN_OR_RETURN(std::vector<std::string> names, node.StringList());
  for (size_t i = 0; i < names.size(); ++i) {
    std::optional<Stage> s = StageFromName(names[i]);
    if (!s) {
      return node.items()[i].Error(
          absl::StrCat("unknown stage \"", names[i], "\" (", OneOf(kStageNames), ")"));
    }
    out.Add(*s);
  }
  return out;
}

[[nodiscard]] absl::StatusOr<GroupResources> ParseGroupResources(const yaml::Node& node) {
  KQ_RETURN_IF_ERROR(node.ExpectMap({"group", "resources", "resourceNames"}));
  GroupResources gr;
  if (const yaml::Node* g = node.Find("group"); g != nullptr && !g->IsNull()) {
    KQ_ASSIGN_OR_RETURN(gr.group, g->String());
    if (!gr.group.empty() && gr.group != "*" && !IsDnsSubdomain(gr.group)) {
      return g->Error(absl::StrCat("group \"", gr.group,
                                   "\" must be \"\", \"*\" or a DNS subdomain (lower case "
                                   "letters, digits, '-' and '.')"));
    }
  }
  if (const yaml::Node* r = node.Find("resources")) {
    KQ_ASSIGN_OR_RETURN(gr.resources, r->StringList());
  }
  if (const yaml::Node* n = node.Find("resourceNames")) {
    KQ_ASSIGN_OR_RETURN(gr.resource_names, n->StringList());
    if (!gr.resource_names.empty() && gr.resources.empty()) {
      return n->Error("using resourceNames requires at least one resource");
    }
  }
  return gr;
}

[[nodiscard]] absl::StatusOr<PolicyRule> ParseRule(const yaml::Node& node) {
  KQ_RETURN_IF_ERROR(
      node.ExpectMap({"level", "users", "userGroups", "verbs", "resources", "namespaces",
                      "nonResourceURLs", "omitStages", "omitManagedFields"}));
  PolicyRule rule;
  rule.line = node.line();
  const yaml::Node* level = node.Find("level");
  if (level == nullptr || level->IsNull()) return node.Error("missing required field \"level\"");
  KQ_ASSIGN_OR_RETURN(std::string level_name, level->String());
  std::optional<Level> l = LevelFromName(level_name);
  if (!l) {
    return level->Error(
        absl::StrCat("unknown level \"", level_name, "\" (", OneOf(kLevelNames), ")"));
  }
  rule.level = *l;
  if (const yaml::Node* n = node.Find("users")) {
    KQ_ASSIGN_OR_RETURN(rule.users, n->StringList());
  }
  if (const yaml::Node* n = node.Find("userGroups")) {
    KQ_ASSIGN_OR_RETURN(rule.user_groups, n->StringList());
  }
  if (const yaml::Node* n = node.Find("verbs")) {
    KQ_ASSIGN_OR_RETURN(rule.verbs, n->StringList());
  }
  if (const yaml::Node* n = node.Find("namespaces")) {
    KQ_ASSIGN_OR_RETURN(rule.namespaces, n->StringList());
  }
  if (const yaml::Node* n = node.Find("resources"); n != nullptr && !n->IsNull()) {
    if (!n->IsSequence()) return n->Error("expected a list of {group, resources} entries");
    for (const yaml::Node& item : n->items()) {
      KQ_ASSIGN_OR_RETURN(GroupResources gr, ParseGroupResources(item));
      rule.resources.push_back(std::move(gr));
    }
  }
  if (const yaml::Node* n = node.Find("nonResourceURLs")) {
    KQ_ASSIGN_OR_RETURN(rule.non_resource_urls, n->StringList());
    for (size_t i = 0; i < rule.non_resource_urls.size(); ++i) {
      const std::string& url = rule.non_resource_urls[i];
      if (url == "*") continue;
      if (url.empty() || url[0] != '/') {
        return n->items()[i].Error(
            absl::StrCat("non-resource URL \"", url, "\" must be \"*\" or begin with '/'"));
      }
      size_t star = url.find('*');
      if (star != std::string::npos && star != url.size() - 1) {
        return n->items()[i].Error(absl::StrCat("non-resource URL \"", url,
                                                "\": a wildcard '*' is allowed only at the end"));
      }
    }
    if (!rule.non_resource_urls.empty() && (!rule.resources.empty() || !rule.namespaces.empty())) {
      return n->Error(
          "a rule cannot apply to both regular resources (resources, namespaces) and "
          "non-resource URLs");
    }
  }
  if (const yaml::Node* n = node.Find("omitStages")) {
    KQ_ASSIGN_OR_RETURN(rule.omit_stages, ParseStages(*n));
  }
  if (const yaml::Node* n = node.Find("omitManagedFields"); n != nullptr && !n->IsNull()) {
    KQ_ASSIGN_OR_RETURN(bool b, n->Bool());
    rule.omit_managed_fields = b;
  }
  return rule;
}

}  // namespace

std::string_view LevelName(Level level) { return kLevelNames[static_cast<size_t>(level)]; }

std::optional<Level> LevelFromName(std::string_view name) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  return std::nullopt;
}

std::string_view StageName(Stage stage) { return kStageNames[static_cast<size_t>(stage)]; }

std::optional<Stage> StageFromName(std::string_view name) {
  for (size_t i = 0; i < kStageNames.size(); ++i) {
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  }
  return std::nullopt;
}

std::string StageSet::ToString() const {
  std::vector<absl::string_view> names;
  for (size_t i = 0; i < kStageNames.size(); ++i) {
    if (Contains(static_cast<Stage>(i))) names.push_back(Sv(kStageNames[i]));
  }
  return absl::StrCat("[", absl::StrJoin(names, ", "), "]");
}

bool RuleMatches(const PolicyRule& r, const RequestAttributes& a) {
  if (!r.users.empty() && (!a.has_user || !Has(r.users, a.user))) return false;
  if (!r.user_groups.empty()) {
    if (!a.has_user) return false;
    bool any = false;
    for (std::string_view g : a.groups) any = any || Has(r.user_groups, g);
    if (!any) return false;
  }
  if (!r.verbs.empty() && !Has(r.verbs, a.verb)) return false;
  if (!r.namespaces.empty() || !r.resources.empty()) return MatchesResource(r, a);
  if (!r.non_resource_urls.empty()) return MatchesNonResource(r, a);
  return true;
}

PolicyDecision Policy::Evaluate(const RequestAttributes& a) const {
  PolicyDecision d;
  d.omit_stages = omit_stages_;
  d.omit_managed_fields = omit_managed_fields_;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const PolicyRule& r = rules_[i];
    if (!RuleMatches(r, a)) continue;
    d.rule = static_cast<int>(i);
    d.level = r.level;
    d.omit_stages = omit_stages_.Union(r.omit_stages);
    d.omit_managed_fields = r.omit_managed_fields.value_or(omit_managed_fields_);
    break;
  }
  return d;
}

absl::StatusOr<Policy> Policy::FromYaml(const yaml::Node& root) {
  if (root.IsNull()) return root.Error("empty document: expected an audit.k8s.io/v1 Policy");
  if (!root.IsMap()) return root.Error("expected a map (an audit.k8s.io/v1 Policy)");
  const yaml::Node* api_version = root.Find("apiVersion");
  const yaml::Node* kind = root.Find("kind");
  if (api_version == nullptr || kind == nullptr) {
    return root.Error(
        "not an audit.k8s.io/v1 Policy: \"apiVersion: audit.k8s.io/v1\" and \"kind: Policy\" "
        "are required (non-standard formats such as OpenShift's wildcard policies are not "
        "supported)");
  }
  KQ_ASSIGN_OR_RETURN(std::string version, api_version->String());
  if (version != "audit.k8s.io/v1") {
    return api_version->Error(absl::StrCat("unsupported apiVersion \"", version,
                                           "\" (expected audit.k8s.io/v1; v1alpha1 and "
                                           "v1beta1 were removed in Kubernetes 1.24)"));
  }
  KQ_ASSIGN_OR_RETURN(std::string kind_name, kind->String());
  if (kind_name != "Policy") {
    return kind->Error(absl::StrCat("kind is \"", kind_name, "\", expected \"Policy\""));
  }
  KQ_RETURN_IF_ERROR(root.ExpectMap(
      {"apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields"}));
  if (const yaml::Node* m = root.Find("metadata"); m != nullptr && !m->IsNull() && !m->IsMap()) {
    return m->Error("expected a map");
  }
  Policy policy;
  policy.source_ = root.source();
  if (const yaml::Node* n = root.Find("omitStages")) {
    KQ_ASSIGN_OR_RETURN(policy.omit_stages_, ParseStages(*n));
  }
  if (const yaml::Node* n = root.Find("omitManagedFields"); n != nullptr && !n->IsNull()) {
    KQ_ASSIGN_OR_RETURN(policy.omit_managed_fields_, n->Bool());
  }
  const yaml::Node* rules = root.Find("rules");
  if (rules == nullptr || rules->IsNull() || (rules->IsSequence() && rules->items().empty())) {
    return root.Error("a policy needs at least one rule (\"rules\" is missing or empty)");
  }
  if (!rules->IsSequence()) return rules->Error("expected a list of rules");
  for (const yaml::Node& item : rules->items()) {
    KQ_ASSIGN_OR_RETURN(PolicyRule rule, ParseRule(item));
    policy.rules_.push_back(std::move(rule));
  }
  return policy;
}

absl::StatusOr<Policy> Policy::Parse(std::string_view text, std::string_view source_name) {
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::Parse(text, source_name));
  return FromYaml(root);
}

absl::StatusOr<Policy> Policy::LoadFile(const std::string& path) {
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::ParseFile(path));
  return FromYaml(root);
}

}  // namespace kq::retention
