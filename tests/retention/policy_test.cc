#include "retention/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CorpusDir;
using ::kq::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::string_view kHeader = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";

absl::StatusOr<Policy> ParseBody(std::string_view body) {
  return Policy::Parse(std::string(kHeader) + std::string(body), "p.yaml");
}

RequestAttributes Resource(std::string_view verb, std::string_view group, std::string_view resource,
                           std::string_view sub, std::string_view ns, std::string_view name = "") {
  RequestAttributes a;
  a.user = "alice";
  a.verb = verb;
  a.is_resource_request = true;
  a.api_group = group;
  a.resource = resource;
  a.subresource = sub;
  a.ns = ns;
  a.name = name;
  return a;
}

RequestAttributes NonResource(std::string_view verb, std::string_view path) {
  RequestAttributes a;
  a.user = "alice";
  a.verb = verb;
  a.path = path;
  return a;
}

TEST(PolicyLoadTest, EveryStandardCorpusPolicyLoads) {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir() / "policies")) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".yaml" || name.find("nonstandard") != std::string::npos) {
      continue;
    }
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(Policy p, Policy::LoadFile(entry.path().string()));
    EXPECT_FALSE(p.rules().empty());
    ++loaded;
  }
  EXPECT_EQ(loaded, 3);
}

TEST(PolicyLoadTest, WebsitePolicyHasTheDocumentedShape) {
  ASSERT_OK_AND_ASSIGN(Policy p,
                       Policy::LoadFile(CorpusDir() / "policies/k8s-website-audit-policy.yaml"));
  // Per PROVENANCE.md: 9 rules, policy-level omitStages [RequestReceived], RR pods first.
  ASSERT_EQ(p.rules().size(), 9u);
  StageSet rr;
  rr.Add(Stage::kRequestReceived);
  EXPECT_EQ(p.omit_stages(), rr);
  EXPECT_EQ(p.rules()[0].level, Level::kRequestResponse);
  EXPECT_EQ(p.rules()[0].line, 8);
  EXPECT_EQ(p.rules()[8].level, Level::kMetadata);
  // The catch-all has its own omitStages.
  EXPECT_FALSE(p.rules()[8].omit_stages.empty());
}

TEST(PolicyLoadTest, OpenShiftNonStandardPolicyIsRefused) {
  auto p = Policy::LoadFile(CorpusDir() / "policies/openshift-clo-example_policy.nonstandard.yaml");
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("openshift-clo-example_policy.nonstandard.yaml"),
                                HasSubstr("not an audit.k8s.io/v1 Policy"))));
}

TEST(PolicyLoadTest, ShellTemplateIsRefusedAtTheTemplateLine) {
  auto p = Policy::LoadFile(CorpusDir() / "policies/gce-configure-helper-audit-policy.heredoc.txt");
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr(":117:16: rules[14].resources: expected a list")));
}

TEST(PolicyLoadTest, ErrorsNameTheLineAndField) {
  EXPECT_THAT(ParseBody("rules:\n- level: Everything\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.yaml:4:10: rules[0].level: unknown level \"Everything\"")));
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  verb: [get]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.yaml:5:3: rules[0]: unknown field \"verb\"")));
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  verbs: get\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.yaml:5:10: rules[0].verbs: expected a list of strings")));
  EXPECT_THAT(ParseBody("rules:\n- verbs: [get]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rules[0]: missing required field \"level\"")));
  EXPECT_THAT(ParseBody("rules: []\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one rule")));
  EXPECT_THAT(ParseBody("omitStages: [Done]\nrules:\n- level: None\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.yaml:3:14: omitStages[0]: unknown stage \"Done\"")));
  EXPECT_THAT(ParseBody("omitManagedFields: yes please\nrules:\n- level: None\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("omitManagedFields: expected true or false")));
}

TEST(PolicyLoadTest, ValidationFollowsUpstream) {
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  nonResourceURLs: [healthz]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("begin with '/'")));
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  nonResourceURLs: [\"/a*/b\"]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only at the end")));
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  namespaces: [x]\n  nonResourceURLs: [/x]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot apply to both")));
  EXPECT_THAT(ParseBody("rules:\n- level: None\n  resources:\n  - group: Apps_\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DNS subdomain")));
  EXPECT_THAT(
      ParseBody("rules:\n- level: None\n  resources:\n  - resourceNames: [x]\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("requires at least one resource")));
  EXPECT_THAT(Policy::Parse("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: []\n", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("removed in Kubernetes")));
  EXPECT_THAT(Policy::Parse("apiVersion: audit.k8s.io/v1\nkind: Event\nrules: []\n", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected \"Policy\"")));
  EXPECT_THAT(Policy::Parse("- just\n- a list\n", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a map (an audit.k8s.io/v1 Policy)")));
  // Accepted: "*" and "" groups, a bare "*" URL, and metadata.
  EXPECT_TRUE(ParseBody("metadata: {name: x}\nrules:\n- level: None\n  resources:\n"
                        "  - group: \"*\"\n  - group: \"\"\n  - group: apps.example.com\n"
                        "- level: None\n  nonResourceURLs: [\"*\"]\n")
                  .ok());
}

// The sharp edges listed in k8s-audit.md section 1d, each worked out from checker.go by hand.
TEST(PolicyEvaluateTest, SharpEdges) {
  ASSERT_OK_AND_ASSIGN(Policy sub, ParseBody("rules:\n- level: Request\n  resources:\n"
                                             "  - resources: [\"pods/*\"]\n"));
  EXPECT_EQ(sub.Evaluate(Resource("get", "", "pods", "", "d")).level, Level::kRequest);
  EXPECT_EQ(sub.Evaluate(Resource("get", "", "pods", "log", "d")).level, Level::kRequest);
  EXPECT_EQ(sub.Evaluate(Resource("get", "", "services", "", "d")).level, Level::kNone);

  ASSERT_OK_AND_ASSIGN(Policy plain, ParseBody("rules:\n- level: Request\n  resources:\n"
                                               "  - resources: [pods]\n"));
  EXPECT_EQ(plain.Evaluate(Resource("get", "", "pods", "status", "d")).level, Level::kNone);

  ASSERT_OK_AND_ASSIGN(Policy scale, ParseBody("rules:\n- level: Request\n  resources:\n"
                                               "  - group: apps\n    resources: [\"*/scale\"]\n"));
  EXPECT_EQ(scale.Evaluate(Resource("update", "apps", "deployments", "scale", "d")).level,
            Level::kRequest);
  EXPECT_EQ(scale.Evaluate(Resource("update", "apps", "deployments", "", "d")).level, Level::kNone);

  ASSERT_OK_AND_ASSIGN(Policy group, ParseBody("rules:\n- level: Metadata\n  resources:\n"
                                               "  - group: \"\"\n"));
  EXPECT_EQ(group.Evaluate(Resource("get", "", "pods", "exec", "d")).level, Level::kMetadata);
  EXPECT_EQ(group.Evaluate(Resource("get", "apps", "deployments", "", "d")).level, Level::kNone);

  ASSERT_OK_AND_ASSIGN(Policy names, ParseBody("rules:\n- level: None\n  resources:\n"
                                               "  - resources: [configmaps]\n"
                                               "    resourceNames: [leader]\n"));
  EXPECT_EQ(names.Evaluate(Resource("get", "", "configmaps", "", "d", "leader")).rule, 0);
  EXPECT_EQ(names.Evaluate(Resource("list", "", "configmaps", "", "d")).rule, -1);

  ASSERT_OK_AND_ASSIGN(Policy cluster, ParseBody("rules:\n- level: Metadata\n"
                                                 "  namespaces: [\"\"]\n"));
  EXPECT_EQ(cluster.Evaluate(Resource("get", "", "nodes", "", "")).level, Level::kMetadata);
  // A Namespace object carries its own name as namespace (quirk 2).
  EXPECT_EQ(cluster.Evaluate(Resource("get", "", "namespaces", "", "foo", "foo")).level,
            Level::kNone);
  EXPECT_EQ(cluster.Evaluate(NonResource("get", "/healthz")).level, Level::kNone);

  ASSERT_OK_AND_ASSIGN(Policy urls, ParseBody("rules:\n- level: None\n"
                                              "  nonResourceURLs: [\"/healthz*\", \"/api*\"]\n"
                                              "- level: Metadata\n"));
  EXPECT_EQ(urls.Evaluate(NonResource("get", "/healthzzz")).rule, 0);
  EXPECT_EQ(urls.Evaluate(NonResource("get", "/apis/apps")).rule, 0);
  EXPECT_EQ(urls.Evaluate(NonResource("get", "/version")).rule, 1);
  EXPECT_EQ(urls.Evaluate(Resource("get", "", "pods", "", "d")).rule, 1);
}

TEST(PolicyEvaluateTest, UsersGroupsAndMissingUser) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParseBody("rules:\n- level: None\n  users: [Alice]\n"
                                           "- level: Request\n  userGroups: [ops, dev]\n"
                                           "- level: Metadata\n"));
  RequestAttributes a = NonResource("get", "/x");
  a.user = "alice";  // exact, case-sensitive: does not match Alice
  a.groups = {"readers", "dev"};
  EXPECT_EQ(p.Evaluate(a).rule, 1);
  a.groups = {};
  EXPECT_EQ(p.Evaluate(a).rule, 2);
  a.has_user = false;
  a.user = "Alice";
  a.groups = {"ops"};
  EXPECT_EQ(p.Evaluate(a).rule, 2);
}

}  // namespace
}  // namespace kq::retention
