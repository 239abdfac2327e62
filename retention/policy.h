// The Kubernetes audit Policy (audit.k8s.io/v1 Policy) with upstream semantics.
//
// A Policy decides, for one API request, at what level the apiserver records it (None,
// Metadata, Request, RequestResponse), which stages it leaves out, and whether managedFields
// are stripped from bodies. Evaluate() is an exact port of kubernetes/apiserver
// pkg/audit/policy/checker.go (see docs/policy.md): the first matching rule wins, no match means
// level None. Loading follows pkg/audit/policy/reader.go and validation.go, except that unknown
// or duplicate fields are refused (upstream only warns) so that typos do not pass silently.
//
//   KQ_ASSIGN_OR_RETURN(Policy policy, Policy::LoadFile("audit-policy.yaml"));
//   RequestAttributes a;  // filled from a request or a stored event
//   PolicyDecision d = policy.Evaluate(a);
//
// A Policy is an immutable value after loading; Evaluate() is const and thread-safe.
#ifndef KQ_RETENTION_POLICY_H_
#define KQ_RETENTION_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "retention/yaml.h"

namespace kq::retention {

// Audit levels, ordered: a higher level records more.
enum class Level : uint8_t { kNone = 0, kMetadata = 1, kRequest = 2, kRequestResponse = 3 };

// "None", "Metadata", "Request", "RequestResponse".
std::string_view LevelName(Level level);
// The exact (case-sensitive) name; nullopt for anything else.
std::optional<Level> LevelFromName(std::string_view name);

enum class Stage : uint8_t {
  kRequestReceived = 0,
  kResponseStarted = 1,
  kResponseComplete = 2,
  kPanic = 3,
};
std::string_view StageName(Stage stage);
std::optional<Stage> StageFromName(std::string_view name);

// A set of stages (a small bit set). Value type.
class StageSet {
 public:
  StageSet() = default;
  void Add(Stage s) { bits_ |= Bit(s); }
  bool Contains(Stage s) const { return (bits_ & Bit(s)) != 0; }
  bool empty() const { return bits_ == 0; }
  StageSet Union(StageSet other) const { return StageSet(bits_ | other.bits_); }
  bool operator==(const StageSet&) const = default;
  // "[RequestReceived, ResponseStarted]" in stage order.
  std::string ToString() const;

 private:
  explicit StageSet(uint8_t bits) : bits_(bits) {}
  static uint8_t Bit(Stage s) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(s)); }
  uint8_t bits_ = 0;
};

// What the checker knows about one request: the authorizer attributes the apiserver evaluates
// the policy on. The views point into strings owned by the caller and must outlive the call.
// From a stored event: user = event.user (NOT impersonatedUser); resource request iff the event
// has an objectRef; path = requestURI without the query (see AttributesFromEvent in
// retention/policy_apply.h).
struct RequestAttributes {
  // False for a request with no user at all (failed authentication): then rules with users or
  // userGroups never match. Anonymous requests do have a user (system:anonymous).
  bool has_user = true;
  std::string_view user;
  std::vector<std::string_view> groups;
  std::string_view verb;
  bool is_resource_request = false;
  // Resource requests only.
  std::string_view ns;         // "" for cluster-scoped
  std::string_view api_group;  // "" for the core group
  std::string_view resource;
  std::string_view subresource;
  std::string_view name;
  // Non-resource requests only: the URL path, without the query.
  std::string_view path;
};

// One entry of PolicyRule.resources.
struct GroupResources {
  std::string group;                        // "" = core, "*" = every group
  std::vector<std::string> resources;       // empty = every resource of the group
  std::vector<std::string> resource_names;  // empty = any name
};

struct PolicyRule {
  Level level = Level::kNone;
  std::vector<std::string> users;
  std::vector<std::string> user_groups;
  std::vector<std::string> verbs;
  std::vector<GroupResources> resources;
  std::vector<std::string> namespaces;
  std::vector<std::string> non_resource_urls;
  StageSet omit_stages;  // as written on the rule (without the policy's)
  std::optional<bool> omit_managed_fields;
  int line = 0;  // where the rule starts in its file (0 when built in code)
};

// The outcome of evaluating a policy on one request.
struct PolicyDecision {
  int rule = -1;  // 0-based index of the matching rule; -1 when none matched
  Level level = Level::kNone;
  StageSet omit_stages;  // policy omitStages united with the rule's
  bool omit_managed_fields = false;
};

// True when `rule` selects `a` (ruleMatches in checker.go).
bool RuleMatches(const PolicyRule& rule, const RequestAttributes& a);

class Policy {
 public:
  // Parses and validates an audit.k8s.io/v1 Policy. Errors name the source, line and field:
  // "policy.yaml:14:7: rules[2].level: unknown level \"Everything\" (expected one of: None,
  // Metadata, Request, RequestResponse)".
  [[nodiscard]] static absl::StatusOr<Policy> Parse(std::string_view text,
                                                    std::string_view source_name);
  [[nodiscard]] static absl::StatusOr<Policy> FromYaml(const yaml::Node& root);
  [[nodiscard]] static absl::StatusOr<Policy> LoadFile(const std::string& path);

  PolicyDecision Evaluate(const RequestAttributes& a) const;

  const std::vector<PolicyRule>& rules() const { return rules_; }
  StageSet omit_stages() const { return omit_stages_; }
  bool omit_managed_fields() const { return omit_managed_fields_; }
  const std::string& source() const { return source_; }

 private:
  Policy() = default;

  std::string source_;
  std::vector<PolicyRule> rules_;
  StageSet omit_stages_;
  bool omit_managed_fields_ = false;
};

}  // namespace kq::retention

#endif  // KQ_RETENTION_POLICY_H_
