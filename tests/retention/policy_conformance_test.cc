// The two policy conformance suites under corpus/conformance, read from the files at test time:
//   A. policy-checker-cases.json, transcribed from kubernetes/apiserver checker_test.go
//   B. gce-policy-cases.json, from kubernetes cluster/gce/gci/audit_policy_test.go, evaluated
//      against corpus/policies/gce-configure-helper-audit-policy.yaml
// Rules of suite A are spliced from the JSON into a YAML flow document, so the policy loader is
// exercised too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "retention/policy.h"
#include "tests/testing/json_value.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CorpusDir;
using ::kq::testing::JsonValue;
using ::kq::testing::ParseJson;
using ::kq::testing::ReadFileOrDie;

JsonValue LoadJson(const std::string& relative) {
  std::string text = ReadFileOrDie(CorpusDir() / relative);
  absl::StatusOr<JsonValue> json = ParseJson(text);
  EXPECT_TRUE(json.ok()) << relative << ": " << json.status();
  return json.ok() ? *json : JsonValue();
}

StageSet StagesOf(const JsonValue& names) {
  StageSet set;
  for (const std::string& n : names.Strings()) {
    std::optional<Stage> s = StageFromName(n);
    EXPECT_TRUE(s.has_value()) << "unknown stage in suite: " << n;
    if (s) set.Add(*s);
  }
  return set;
}

// Attributes of a request of suite A. The returned struct views into `req` and `groups`.
RequestAttributes AttributesOf(const JsonValue& req, std::vector<std::string>* groups) {
  RequestAttributes a;
  const JsonValue& user = req["user"];
  a.has_user = !user.IsNull();
  a.user = user["name"].str;
  *groups = user["groups"].Strings();
  a.groups.assign(groups->begin(), groups->end());
  a.verb = req["verb"].str;
  a.is_resource_request = req["resourceRequest"].boolean;
  a.api_group = req["apiGroup"].str;
  a.resource = req["resource"].str;
  a.subresource = req["subresource"].str;
  a.ns = req["namespace"].str;
  a.name = req["name"].str;
  a.path = req["path"].str;
  return a;
}

RequestAttributes AnyGet() {
  RequestAttributes a;
  a.user = "u";
  a.verb = "get";
  return a;
}

absl::StatusOr<Policy> PolicyOf(std::string_view omit_stages_raw,
                                const std::vector<std::string>& rules_raw,
                                std::string_view extra = "") {
  std::string text = absl::StrCat(R"({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", )",
                                  Sv(extra), R"("omitStages": )", Sv(omit_stages_raw),
                                  R"(, "rules": [)", absl::StrJoin(rules_raw, ", "), "]}");
  return Policy::Parse(text, "case.yaml");
}

TEST(PolicyConformanceA, AllCheckerCases) {
  JsonValue suite = LoadJson("conformance/policy-checker-cases.json");
  const JsonValue& cases = suite["cases"];
  ASSERT_EQ(cases.items.size(), 106u);
  int passed = 0;
  for (const JsonValue& c : cases.items) {
    SCOPED_TRACE(absl::StrCat("case ", c["id"].raw, " (", c["request"].str, ")"));
    std::vector<std::string> rules_raw;
    for (const std::string& name : c["rules"].Strings()) {
      const JsonValue* rule = suite["rules"].Find(name);
      ASSERT_NE(rule, nullptr) << name;
      rules_raw.push_back(rule->raw);
    }
    ASSERT_OK_AND_ASSIGN(Policy policy, PolicyOf(c["policyOmitStages"].raw, rules_raw));
    const JsonValue* req = suite["requests"].Find(c["request"].str);
    ASSERT_NE(req, nullptr);
    std::vector<std::string> groups;
    PolicyDecision d = policy.Evaluate(AttributesOf(*req, &groups));
    EXPECT_EQ(LevelName(d.level), c["expectLevel"].str);
    EXPECT_EQ(d.omit_stages, StagesOf(c["expectOmitStages"]))
        << d.omit_stages.ToString() << " vs " << c["expectOmitStages"].raw;
    if (LevelName(d.level) == c["expectLevel"].str &&
        d.omit_stages == StagesOf(c["expectOmitStages"])) {
      ++passed;
    }
  }
  EXPECT_EQ(passed, 106);
}

TEST(PolicyConformanceA, UnionOfPolicyAndRuleStages) {
  JsonValue suite = LoadJson("conformance/policy-checker-cases.json");
  ASSERT_EQ(suite["unionStages"].items.size(), 7u);
  for (const JsonValue& u : suite["unionStages"].items) {
    SCOPED_TRACE(u.raw);
    std::string rule = absl::StrCat(R"({"level": "Metadata", "omitStages": )", u["b"].raw, "}");
    ASSERT_OK_AND_ASSIGN(Policy policy, PolicyOf(u["a"].raw, {rule}));
    PolicyDecision d = policy.Evaluate(AnyGet());
    EXPECT_EQ(d.rule, 0);
    EXPECT_EQ(d.omit_stages, StagesOf(u["expect"])) << d.omit_stages.ToString();
  }
}

TEST(PolicyConformanceA, OmitManagedFieldsDefaulting) {
  JsonValue suite = LoadJson("conformance/policy-checker-cases.json");
  ASSERT_EQ(suite["omitManagedFields"].items.size(), 4u);
  for (const JsonValue& m : suite["omitManagedFields"].items) {
    SCOPED_TRACE(m.raw);
    std::string rule =
        m["rule"].IsNull()
            ? std::string(R"({"level": "Request"})")
            : absl::StrCat(R"({"level": "Request", "omitManagedFields": )", m["rule"].raw, "}");
    ASSERT_OK_AND_ASSIGN(Policy policy, PolicyOf("[]", {rule},
                                                 absl::StrCat(R"("omitManagedFields": )",
                                                              m["policyDefault"].raw, ", ")));
    PolicyDecision d = policy.Evaluate(AnyGet());
    EXPECT_EQ(d.omit_managed_fields, m["expect"].boolean);
  }
}

TEST(PolicyConformanceB, GcePolicyAllCombinations) {
  JsonValue suite = LoadJson("conformance/gce-policy-cases.json");
  ASSERT_OK_AND_ASSIGN(
      Policy policy,
      Policy::LoadFile(CorpusDir() / "policies/gce-configure-helper-audit-policy.yaml"));
  StageSet rr;
  rr.Add(Stage::kRequestReceived);
  std::vector<std::string> all_users;
  for (const auto& [name, unused] : suite["users"].members) all_users.push_back(name);
  ASSERT_EQ(all_users.size(), 14u);

  int combinations = 0;
  auto check = [&](const std::string& user_name, const std::string& verb, const JsonValue* resource,
                   const std::string& path, const std::string& expect) {
    const JsonValue* user = suite["users"].Find(user_name);
    ASSERT_NE(user, nullptr) << user_name;
    std::vector<std::string> groups = (*user)["groups"].Strings();
    RequestAttributes a;
    a.user = (*user)["name"].str;
    a.groups.assign(groups.begin(), groups.end());
    a.verb = verb;
    if (resource != nullptr) {
      a.is_resource_request = true;
      a.api_group = (*resource)["apiGroup"].str;
      a.resource = (*resource)["resource"].str;
      a.subresource = (*resource)["subresource"].str;
      a.ns = (*resource)["namespace"].str;
      a.name = (*resource)["name"].str;
    } else {
      a.path = path;
    }
    PolicyDecision d = policy.Evaluate(a);
    ++combinations;
    EXPECT_EQ(LevelName(d.level), expect)
        << user_name << " " << verb << " " << (resource ? resource->raw : path);
    if (d.level != Level::kNone) {
      EXPECT_EQ(d.omit_stages, rr) << d.omit_stages.ToString();
    }
  };
  for (const JsonValue& group : suite["resourceCases"].items) {
    for (const std::string& u : group["users"].Strings()) {
      for (const std::string& v : group["verbs"].Strings()) {
        for (const std::string& r : group["resources"].Strings()) {
          const JsonValue* resource = suite["resources"].Find(r);
          ASSERT_NE(resource, nullptr) << r;
          check(u, v, resource, "", group["expectLevel"].str);
        }
      }
    }
  }
  for (const JsonValue& group : suite["nonResourceCases"].items) {
    std::vector<std::string> users =
        group["users"].str == "ALL" ? all_users : group["users"].Strings();
    for (const std::string& u : users) {
      for (const std::string& v : group["verbs"].Strings()) {
        for (const std::string& p : group["nonResourcePaths"].Strings()) {
          check(u, v, nullptr, p, group["expectLevel"].str);
        }
      }
    }
  }
  EXPECT_EQ(combinations, 618);
}

}  // namespace
}  // namespace kq::retention
