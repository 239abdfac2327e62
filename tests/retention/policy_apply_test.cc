#include "retention/policy_apply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/status_matchers.h"

namespace kq::retention {
namespace {

using storage::Event;

TEST(StripManagedFieldsTest, RemovesTheMemberWhereverItSits) {
  std::string out;
  ASSERT_TRUE(StripManagedFields(
      R"({"kind":"Pod","metadata":{"name":"p","managedFields":[{"m":"k"}],"uid":"u"}})", &out));
  EXPECT_EQ(out, R"({"kind":"Pod","metadata":{"name":"p","uid":"u"}})");
  ASSERT_TRUE(StripManagedFields(R"({"metadata":{"managedFields":[],"name":"p"}})", &out));
  EXPECT_EQ(out, R"({"metadata":{"name":"p"}})");
  ASSERT_TRUE(
      StripManagedFields(R"({"metadata":{"name":"p","managedFields":{"a":[1,"]"]}}})", &out));
  EXPECT_EQ(out, R"({"metadata":{"name":"p"}})");
  ASSERT_TRUE(StripManagedFields(R"({ "metadata" : { "managedFields" : [ ] } , "x":1})", &out));
  EXPECT_EQ(out, R"({ "metadata" : {  } , "x":1})");
}

TEST(StripManagedFieldsTest, ListsAreStrippedItemByItem) {
  std::string out;
  ASSERT_TRUE(StripManagedFields(
      R"({"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[)"
      R"({"metadata":{"name":"a","managedFields":[1]}},{"metadata":{"name":"b"}},)"
      R"({"metadata":{"managedFields":[2],"name":"c"}}]})",
      &out));
  EXPECT_EQ(out,
            R"({"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[)"
            R"({"metadata":{"name":"a"}},{"metadata":{"name":"b"}},{"metadata":{"name":"c"}}]})");
}

TEST(StripManagedFieldsTest, LeavesOtherDocumentsAlone) {
  std::string out = "untouched";
  EXPECT_FALSE(StripManagedFields(R"({"metadata":{"name":"p"}})", &out));
  // Only the object's own metadata counts, not one nested in spec.
  EXPECT_FALSE(StripManagedFields(R"({"spec":{"metadata":{"managedFields":[]}}})", &out));
  EXPECT_FALSE(StripManagedFields(R"([{"op":"add","path":"/metadata/managedFields"}])", &out));
  EXPECT_FALSE(StripManagedFields(R"({"metadata":{"managedFields":[)", &out));
  EXPECT_FALSE(StripManagedFields("", &out));
  EXPECT_EQ(out, "untouched");
}

Policy MustParse(std::string_view text) {
  absl::StatusOr<Policy> p = Policy::Parse(text, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

constexpr std::string_view kPolicy = R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  resources: [{group: "", resources: [secrets]}]
- level: Metadata
  verbs: [get]
  resources: [{group: "", resources: [pods]}]
- level: Request
  omitManagedFields: true
  resources: [{group: "", resources: [configmaps]}]
- level: RequestResponse
  omitStages: [RequestReceived]
)";

Event PodEvent(std::string resource, std::string verb) {
  Event e;
  e.level = "RequestResponse";
  e.stage = "ResponseComplete";
  e.audit_id = "a1";
  e.verb = std::move(verb);
  e.request_uri = "/api/v1/namespaces/default/" + resource + "/x?timeout=30s";
  e.user.username = "alice";
  e.user.groups = std::vector<std::string>{"dev"};
  e.object_ref.emplace();
  e.object_ref->resource = std::move(resource);
  e.object_ref->ns = "default";
  e.object_ref->name = "x";
  e.request_object = R"({"metadata":{"name":"x","managedFields":[{"manager":"kubectl"}]}})";
  e.response_object = R"({"metadata":{"managedFields":[{"manager":"kubectl"}],"uid":"u"}})";
  return e;
}

TEST(ApplyPolicyTest, DropsReducesAndKeeps) {
  Policy policy = MustParse(kPolicy);

  Event secret = PodEvent("secrets", "get");
  Event before = secret;
  PolicyOutcome o = ApplyPolicy(policy, &secret);
  EXPECT_EQ(o.action, PolicyAction::kDrop);
  EXPECT_EQ(o.decision.rule, 0);
  EXPECT_EQ(secret, before);

  Event pod = PodEvent("pods", "get");
  o = ApplyPolicy(policy, &pod);
  EXPECT_EQ(o.action, PolicyAction::kReduce);
  EXPECT_EQ(pod.level, "Metadata");
  EXPECT_FALSE(pod.request_object.has_value());
  EXPECT_FALSE(pod.response_object.has_value());

  Event cm = PodEvent("configmaps", "update");
  o = ApplyPolicy(policy, &cm);
  EXPECT_EQ(o.action, PolicyAction::kReduce);
  EXPECT_EQ(cm.level, "Request");
  EXPECT_EQ(cm.request_object, std::optional<std::string>(R"({"metadata":{"name":"x"}})"));
  EXPECT_FALSE(cm.response_object.has_value());

  // Already at a lower level than its rule: stays as it is.
  Event low = PodEvent("deployments", "create");
  low.level = "Metadata";
  low.request_object.reset();
  low.response_object.reset();
  before = low;
  o = ApplyPolicy(policy, &low);
  EXPECT_EQ(o.action, PolicyAction::kKeep);
  EXPECT_EQ(o.decision.rule, 3);
  EXPECT_EQ(low, before);

  // Omitted stage of the catch-all.
  Event received = PodEvent("deployments", "create");
  received.stage = "RequestReceived";
  EXPECT_EQ(ApplyPolicy(policy, &received).action, PolicyAction::kDrop);
}

TEST(ApplyPolicyTest, AttributesComeFromTheEventNotTheImpersonatedUser) {
  Event e = PodEvent("pods", "list");
  e.impersonated_user.emplace();
  e.impersonated_user->username = "bob";
  RequestAttributes a = AttributesFromEvent(e);
  EXPECT_TRUE(a.has_user);
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.path, "/api/v1/namespaces/default/pods/x");
  EXPECT_TRUE(a.is_resource_request);
  EXPECT_EQ(a.ns, "default");

  Event failed;
  failed.verb = "get";
  failed.request_uri = "/healthz?verbose";
  RequestAttributes f = AttributesFromEvent(failed);
  EXPECT_FALSE(f.has_user);
  EXPECT_FALSE(f.is_resource_request);
  EXPECT_EQ(f.path, "/healthz");
}

TEST(PolicyApplierTest, CountsPerRuleAcrossThreads) {
  auto policy = std::make_shared<const Policy>(
      MustParse("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                "- level: None\n  verbs: [watch]\n- level: Metadata\n  verbs: [get]\n"));
  PolicyApplier applier(policy);
  auto work = [&] {
    for (int i = 0; i < 1000; ++i) {
      Event watch = PodEvent("pods", "watch");
      Event get = PodEvent("pods", "get");
      Event meta = PodEvent("pods", "get");
      meta.level = "Metadata";
      Event other = PodEvent("pods", "delete");
      applier.Apply(&watch);
      applier.Apply(&get);
      applier.Apply(&meta);
      applier.Apply(&other);
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  std::vector<PolicyRuleCounters> c = applier.Counters();
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].rule, 0);
  EXPECT_EQ(c[0].dropped, 2000u);
  EXPECT_EQ(c[0].events, 2000u);
  EXPECT_EQ(c[1].reduced, 2000u);
  EXPECT_EQ(c[1].kept, 2000u);
  EXPECT_EQ(c[2].rule, -1);
  EXPECT_EQ(c[2].dropped, 2000u);  // no rule matches delete: level None
}

}  // namespace
}  // namespace kq::retention
