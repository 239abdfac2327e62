// `kq policy lint` and `kq policy simulate`: tuning a kube-apiserver audit Policy before it is
// rolled out (docs/policy.md).
#ifndef KQ_TOOLS_KQ_POLICY_COMMANDS_H_
#define KQ_TOOLS_KQ_POLICY_COMMANDS_H_

#include <string>
#include <vector>

#include "server/ingest_policies.h"
#include "tools/kq/session.h"

namespace kq::cli {

// Prints the findings (table or json); exit 0 when there are none, 1 when there are some.
int RunPolicyLint(const std::string& policy_file, const std::string& format);

struct SimulateArgs {
  std::string policy_file;
  std::string env;    // empty: the session's
  std::string since;  // a duration ("7d"); empty: every stored event
  std::string format = "table";
};
// Simulates the policy where the events are (Backend::SimulatePolicy: in kqd with --server,
// in-process with --data) and prints, rule by rule, events matched, bytes now and after, and
// share of the total.
int RunPolicySimulate(Session& session, const SimulateArgs& args);

// For `kq stats`: the counts per rule of the audit policies kqd applies at ingest to `env`, as a
// table ("" when there are none) and as a JSON array.
std::string PolicyRulesTable(const std::vector<server::PolicyRuleStats>& rules,
                             const std::string& env);
std::string PolicyRulesJson(const std::vector<server::PolicyRuleStats>& rules,
                            const std::string& env);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_POLICY_COMMANDS_H_
