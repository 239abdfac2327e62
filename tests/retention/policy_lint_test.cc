#include "retention/policy_lint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CorpusDir;
using ::testing::HasSubstr;

Policy MustParse(std::string_view body) {
  absl::StatusOr<Policy> p =
      Policy::Parse(absl::StrCat("apiVersion: audit.k8s.io/v1\nkind: Policy\n", Sv(body)), "p");
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// The findings as "kind@rule" strings, for compact comparisons.
std::vector<std::string> Summary(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const LintFinding& f : findings) {
    out.push_back(absl::StrCat(Sv(LintKindName(f.kind)), "@", f.rule));
  }
  return out;
}

TEST(PolicyLintTest, CleanPolicyHasNoFindings) {
  Policy p = MustParse(
      "rules:\n"
      "- level: None\n  users: [system:kube-proxy]\n  verbs: [watch]\n"
      "  resources: [{group: \"\", resources: [endpoints, services]}]\n"
      "- level: Metadata\n  resources: [{group: \"\", resources: [secrets, pods/log]}]\n"
      "- level: None\n  nonResourceURLs: [/healthz*]\n"
      "- level: Request\n");
  EXPECT_TRUE(LintPolicy(p).empty()) << ::testing::PrintToString(Summary(LintPolicy(p)));
}

TEST(PolicyLintTest, ShadowedRules) {
  Policy p = MustParse(
      "rules:\n"
      "- level: Metadata\n  resources: [{group: \"\", resources: [\"pods/*\"]}]\n"  // 0
      "- level: None\n  verbs: [get]\n  resources: [{group: \"\", resources: [pods/log]}]\n"
      "- level: None\n  resources: [{group: \"\", resources: [pods]}]\n"         // 2: shadowed
      "- level: None\n  resources: [{group: apps, resources: [deployments]}]\n"  // 3
      "- level: None\n  userGroups: [ops]\n  resources: [{group: apps, resources: [\"*\"]}]\n"
      "- level: None\n  nonResourceURLs: [\"/api*\"]\n"                 // 5
      "- level: None\n  nonResourceURLs: [/apis/apps, \"/api/v1*\"]\n"  // 6: shadowed by 5
      "- level: None\n  nonResourceURLs: [/version]\n"                  // 7: not shadowed
      "- level: Metadata\n"                                             // 8
      "- level: None\n  verbs: [get]\n");  // 9: shadowed by the catch-all
  std::vector<LintFinding> f = LintPolicy(p);
  EXPECT_THAT(Summary(f),
              ::testing::ElementsAre("shadowed@1", "shadowed@2", "shadowed@6", "shadowed@9"));
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].line, 6);  // two header lines, "rules:", rule 0 on lines 4-5
  EXPECT_THAT(f[0].message, HasSubstr("rule 1 (line 6): can never match: rule 0 (line 4)"));
}

TEST(PolicyLintTest, CoverageIsConservative) {
  PolicyRule by_user;
  by_user.users = {"alice"};
  PolicyRule by_group;
  by_group.user_groups = {"ops"};
  // A group rule cannot prove it covers a user rule (alice's groups are unknown).
  EXPECT_FALSE(RuleCovers(by_group, by_user));
  EXPECT_FALSE(RuleCovers(by_user, by_group));
  PolicyRule names;
  names.resources = {{"", {"configmaps"}, {"leader"}}};
  PolicyRule all_cm;
  all_cm.resources = {{"", {"configmaps"}, {}}};
  EXPECT_TRUE(RuleCovers(all_cm, names));
  EXPECT_FALSE(RuleCovers(names, all_cm));
  PolicyRule ns_only;
  ns_only.namespaces = {"kube-system"};
  PolicyRule catch_all;
  // A namespace rule matches no non-resource request; a catch-all does.
  EXPECT_FALSE(RuleCovers(ns_only, catch_all));
  EXPECT_TRUE(RuleCovers(catch_all, ns_only));
  PolicyRule any_scale;
  any_scale.resources = {{"*", {"*/scale"}, {}}};
  PolicyRule deploy_scale;
  deploy_scale.resources = {{"apps", {"deployments/scale"}, {}}};
  EXPECT_TRUE(RuleCovers(any_scale, deploy_scale));
  EXPECT_FALSE(RuleCovers(deploy_scale, any_scale));
}

TEST(PolicyLintTest, UnknownVerbsAndResources) {
  Policy p = MustParse(
      "rules:\n"
      "- level: None\n  verbs: [\"*\", impersonate, gets]\n"
      "- level: None\n  resources: [{group: \"\", resources: [deployments, pods/logs]}]\n"
      "- level: None\n  resources: [{group: example.com, resources: [widgets]}]\n"
      "- level: None\n  verbs: [create]\n"
      "  resources: [{group: \"\", resources: [configmaps], resourceNames: [x]}]\n"
      "- level: RequestResponse\n  nonResourceURLs: [/metrics]\n");
  std::vector<LintFinding> f = LintPolicy(p);
  EXPECT_THAT(Summary(f),
              ::testing::ElementsAre("unknown-verb@0", "unknown-verb@0", "unknown-verb@0",
                                     "unknown-resource@1", "unknown-resource@1", "never-matches@3",
                                     "level-no-effect@4", "no-catch-all@-1"));
  EXPECT_THAT(f[0].message, HasSubstr("not a wildcard"));
  EXPECT_THAT(f[1].message, HasSubstr("authorization verb"));
  EXPECT_THAT(f[3].message, HasSubstr("\"deployments\" does not exist in the core API group"));
  EXPECT_THAT(f[4].message, HasSubstr("unknown subresource \"logs\""));
}

TEST(PolicyLintTest, CorpusPolicies) {
  // The Falco policy logs "deployments" in the core group, where it does not exist.
  ASSERT_OK_AND_ASSIGN(Policy falco,
                       Policy::LoadFile(CorpusDir() / "policies/falco-k8saudit-plugin-audit-"
                                                      "policy.yaml"));
  EXPECT_THAT(Summary(LintPolicy(falco)), ::testing::ElementsAre("unknown-resource@0"));
  ASSERT_OK_AND_ASSIGN(Policy website,
                       Policy::LoadFile(CorpusDir() / "policies/k8s-website-audit-policy.yaml"));
  EXPECT_THAT(Summary(LintPolicy(website)), ::testing::IsEmpty());
}

}  // namespace
}  // namespace kq::retention
