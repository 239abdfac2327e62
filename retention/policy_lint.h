// `kq policy lint`: mistakes in an audit Policy that the apiserver accepts silently.
//
//   for (const LintFinding& f : LintPolicy(policy)) std::cout << f.message << "\n";
//
// Findings:
//   kShadowed        a rule can never match: an earlier rule matches every request it would
//                    (first match wins). Reported only when certain (the check is conservative).
//   kUnknownVerb     a verb that never appears on audit events ("*" is not a wildcard here;
//                    authorization-only verbs such as impersonate or bind are never audited).
//   kUnknownResource a resource (or subresource) unknown in a built-in API group. Groups that are
//                    not built in (CRDs, aggregated APIs) are not checked.
//   kNoCatchAll      no rule matches every request, so unmatched requests are not logged at all.
//   kNeverMatches    a rule that can match nothing (resourceNames with only nameless verbs).
//   kLevelNoEffect   Request or RequestResponse on non-resource URLs records no more than
//                    Metadata (non-resource requests have no bodies).
// Pure functions of the Policy; thread-safe.
#ifndef KQ_RETENTION_POLICY_LINT_H_
#define KQ_RETENTION_POLICY_LINT_H_

#include <string>
#include <string_view>
#include <vector>

#include "retention/policy.h"

namespace kq::retention {

struct LintFinding {
  enum class Kind {
    kShadowed,
    kUnknownVerb,
    kUnknownResource,
    kNoCatchAll,
    kNeverMatches,
    kLevelNoEffect,
  };
  Kind kind;
  int rule = -1;  // 0-based index of the rule concerned; -1 for the whole policy
  int line = 0;   // the rule's line in the policy file (0 when unknown)
  // For a person, starting with where: "rule 4 (line 31): ...".
  std::string message;
};

// "shadowed", "unknown-verb", "unknown-resource", "no-catch-all", "never-matches",
// "level-no-effect": stable names for JSON output and tests.
std::string_view LintKindName(LintFinding::Kind kind);

// Findings in rule order; the policy-wide ones last.
std::vector<LintFinding> LintPolicy(const Policy& policy);

// True when every request `later` matches is also matched by `earlier` (so a `later` rule
// placed after `earlier` never wins). Conservative: false when unsure.
bool RuleCovers(const PolicyRule& earlier, const PolicyRule& later);

}  // namespace kq::retention

#endif  // KQ_RETENTION_POLICY_LINT_H_
