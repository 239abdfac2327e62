// Which policy IngestPolicies picks for a batch: the most specific scope of its environment,
// then audit-policy, then none; and per-environment counters for a shared default.
#include "server/ingest_policies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

class IngestPoliciesTest : public ::testing::Test {
 protected:
  // A one-rule policy file named `name`.yaml (a catch-all at Metadata).
  std::string Policy(const std::string& name) {
    std::string path = dir_.Sub(name + ".yaml");
    testing::WriteFileOrDie(path,
                            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                            "  - level: Metadata\n");
    return path;
  }
  // The file of the policy picked for (env, source, cluster); "" when none.
  std::string Picked(const IngestPolicies& p, const char* env, const char* source,
                     const char* cluster) {
    retention::PolicyApplier* a = p.Find(env, source, cluster);
    return a == nullptr ? "" : a->policy().source();
  }

  testing::TempDir dir_;
};

TEST_F(IngestPoliciesTest, MostSpecificScopeWins) {
  ServerConfig c;
  c.environments = {{"prod", ""}, {"dev", ""}, {"lab", ""}};
  c.audit_policy = Policy("default");
  c.audit_policies = {
      {"prod", "", "", Policy("prod"), ""},
      {"prod", "webhook", "", Policy("prod-webhook"), ""},
      {"prod", "", "edge", Policy("prod-edge"), ""},
      {"prod", "webhook", "edge", Policy("prod-webhook-edge"), ""},
      {"dev", "tail", "", "", ""},  // dev's tail keeps everything
  };
  ASSERT_OK_AND_ASSIGN(auto p, IngestPolicies::Load(c));
  EXPECT_THAT(Picked(*p, "prod", "webhook", "edge"), HasSubstr("prod-webhook-edge.yaml"));
  EXPECT_THAT(Picked(*p, "prod", "webhook", "c1"), HasSubstr("prod-webhook.yaml"));
  EXPECT_THAT(Picked(*p, "prod", "tail", "edge"), HasSubstr("prod-edge.yaml"));
  EXPECT_THAT(Picked(*p, "prod", "grpc", "c1"), HasSubstr("prod.yaml"));
  EXPECT_THAT(Picked(*p, "dev", "webhook", "c1"), HasSubstr("default.yaml"));
  EXPECT_EQ(Picked(*p, "dev", "tail", "c1"), "");
  EXPECT_THAT(Picked(*p, "lab", "import", ""), HasSubstr("default.yaml"));
  EXPECT_EQ(Picked(*p, "staging", "webhook", "c1"), "");
}

TEST_F(IngestPoliciesTest, TheDefaultCountsPerEnvironment) {
  ServerConfig c;
  c.environments = {{"prod", ""}, {"dev", ""}};
  c.audit_policy = Policy("default");
  ASSERT_OK_AND_ASSIGN(auto p, IngestPolicies::Load(c));
  // One applier per environment, so their counters never mix.
  EXPECT_NE(p->Find("prod", "webhook", "c1"), p->Find("dev", "webhook", "c1"));
  EXPECT_EQ(p->Find("prod", "webhook", "c1"), p->Find("prod", "tail", "c2"));
  // Each environment reports its rule and the unmatched entry.
  EXPECT_EQ(p->Stats("prod").size(), 2u);
  EXPECT_EQ(p->Stats("").size(), 4u);
}

TEST_F(IngestPoliciesTest, NoPolicyConfiguredIsEmpty) {
  ServerConfig c;
  ASSERT_OK_AND_ASSIGN(auto p, IngestPolicies::Load(c));
  EXPECT_TRUE(p->empty());
  EXPECT_EQ(p->Find("prod", "webhook", "c1"), nullptr);
}

TEST_F(IngestPoliciesTest, AMissingFileNamesTheKey) {
  ServerConfig c;
  c.config_file = "/etc/kq/kqd.yaml";
  c.audit_policy = dir_.Sub("missing.yaml");
  EXPECT_THAT(IngestPolicies::Load(c).status(),
              testing::StatusIs(absl::StatusCode::kNotFound,
                                HasSubstr("/etc/kq/kqd.yaml: audit-policy: ")));
}

}  // namespace
}  // namespace kq::server
