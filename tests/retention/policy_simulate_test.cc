#include "retention/policy_simulate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "storage/event_json.h"
#include "storage/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CorpusDir;
using ::kq::testing::ReadFileOrDie;
using storage::Event;

constexpr std::string_view kPolicy = R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-proxy]
  verbs: [watch]
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: Request
  omitManagedFields: true
  resources: [{group: apps}]
- level: RequestResponse
  resources: [{group: "", resources: [pods]}]
)";

Event MakeEvent(std::string user, std::string verb, std::string group, std::string resource,
                std::string stage, int n) {
  Event e;
  e.kind = "Event";
  e.api_version = "audit.k8s.io/v1";
  e.level = "RequestResponse";
  e.audit_id = "id-" + std::to_string(n);
  e.stage = std::move(stage);
  e.request_uri = "/apis/x/" + resource;
  e.verb = std::move(verb);
  e.user.username = std::move(user);
  e.object_ref.emplace();
  e.object_ref->resource = std::move(resource);
  e.object_ref->api_group = std::move(group);
  e.object_ref->ns = "default";
  e.request_received_timestamp = "2024-01-01T00:00:00.000000Z";
  e.stage_timestamp = "2024-01-01T00:00:01.000000Z";
  std::string pad(static_cast<size_t>(n % 50), 'x');
  e.request_object =
      R"({"metadata":{"name":"o)" + pad + R"(","managedFields":[{"manager":"kubectl"}]}})";
  e.response_object = R"({"metadata":{"name":"o)" + pad + R"(","uid":"u"},"spec":{}})";
  return e;
}

TEST(PolicySimulationTest, GeneratedTrafficMatchesIndependentCounts) {
  absl::StatusOr<Policy> policy = Policy::Parse(kPolicy, "p.yaml");
  ASSERT_OK(policy.status());
  PolicySimulation sim(*policy);

  // Expected values, per category, worked out from the policy text by hand:
  //   proxy watch          -> rule 0, None: dropped
  //   secrets get          -> rule 1, Metadata: both bodies dropped
  //   apps deployments     -> rule 2, Request: response dropped, managedFields stripped
  //   pods get             -> rule 3, RequestResponse: unchanged
  //   configmaps get       -> unmatched: dropped
  //   pods RequestReceived -> rule 3 but the stage is omitted: dropped
  struct Expect {
    uint64_t events = 0, events_after = 0, bytes_now = 0, bytes_after = 0;
  };
  Expect want[5];  // rules 0..3, then unmatched
  std::mt19937 rng(42);
  for (int n = 0; n < 3000; ++n) {
    int category = static_cast<int>(rng() % 6);
    Event e;
    int slot = 0;
    uint64_t after = 0;
    bool kept = true;
    switch (category) {
      case 0:
        e = MakeEvent("system:kube-proxy", "watch", "", "endpoints", "ResponseComplete", n);
        slot = 0;
        kept = false;
        break;
      case 1: {
        e = MakeEvent("alice", "get", "", "secrets", "ResponseComplete", n);
        slot = 1;
        Event reduced = e;
        reduced.level = "Metadata";
        reduced.request_object.reset();
        reduced.response_object.reset();
        after = storage::EventToJson(reduced).size();
        break;
      }
      case 2: {
        e = MakeEvent("bob", "update", "apps", "deployments", "ResponseComplete", n);
        slot = 2;
        Event reduced = e;
        reduced.level = "Request";
        reduced.response_object.reset();
        std::string pad(static_cast<size_t>(n % 50), 'x');
        reduced.request_object = R"({"metadata":{"name":"o)" + pad + R"("}})";
        after = storage::EventToJson(reduced).size();
        break;
      }
      case 3:
        e = MakeEvent("carol", "get", "", "pods", "ResponseComplete", n);
        slot = 3;
        after = storage::EventToJson(e).size();
        break;
      case 4:
        e = MakeEvent("dave", "get", "", "configmaps", "ResponseComplete", n);
        slot = 4;
        kept = false;
        break;
      default:
        e = MakeEvent("carol", "get", "", "pods", "RequestReceived", n);
        slot = 3;
        kept = false;
        break;
    }
    std::string json = storage::EventToJson(e);
    sim.AddEventJson(json);
    want[slot].events++;
    want[slot].bytes_now += json.size();
    if (kept) {
      want[slot].events_after++;
      want[slot].bytes_after += after;
    }
  }
  sim.AddEventJson(R"({"kind": 0})");

  SimulationReport r = sim.Report();
  ASSERT_EQ(r.rules.size(), 4u);
  uint64_t total_now = 0;
  for (const Expect& w : want) total_now += w.bytes_now;
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const RuleCost& got = i < 4 ? r.rules[i] : r.unmatched;
    EXPECT_EQ(got.rule, i < 4 ? i : -1);
    EXPECT_EQ(got.events, want[i].events);
    EXPECT_EQ(got.events_after, want[i].events_after);
    EXPECT_EQ(got.bytes_now, want[i].bytes_now);
    EXPECT_EQ(got.bytes_after, want[i].bytes_after);
    EXPECT_DOUBLE_EQ(got.share, static_cast<double>(want[i].bytes_now) / total_now);
  }
  EXPECT_EQ(r.rules[1].level, Level::kMetadata);
  EXPECT_EQ(r.total.events, 3000u);
  EXPECT_EQ(r.total.bytes_now, total_now);
  EXPECT_EQ(r.undecodable, 1u);

  // The JSON of the issue: one object per rule, then rule null.
  std::string json = SimulationJson(r);
  EXPECT_EQ(json.substr(0, json.find('}') + 1),
            absl::StrCat(R"([{"rule":0,"level":"None","events":)", want[0].events,
                         R"(,"bytes_now":)", want[0].bytes_now, R"(,"bytes_after":0})"));
  EXPECT_NE(json.find(absl::StrCat(R"({"rule":null,"level":"None","events":)", want[4].events)),
            std::string::npos);
  EXPECT_EQ(json.back(), ']');
  std::string table = FormatSimulation(*policy, r);
  EXPECT_NE(table.find("RequestResponse"), std::string::npos);
  EXPECT_NE(table.find("1 stored events could not be decoded"), std::string::npos);
}

TEST(PolicySimulationTest, CorpusSampleUnderTheWebsitePolicy) {
  ASSERT_OK_AND_ASSIGN(Policy policy,
                       Policy::LoadFile(CorpusDir() / "policies/k8s-website-audit-policy.yaml"));
  PolicySimulation sim(policy);
  std::istringstream lines(
      ReadFileOrDie(CorpusDir() / "samples/openshift-4.12-clo-audit_in.requestresponse.jsonl"));
  uint64_t bytes = 0, events = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    bytes += line.size();
    ++events;
    sim.AddEventJson(line);
  }
  SimulationReport r = sim.Report();
  EXPECT_EQ(events, 100u);  // PROVENANCE.md: 100 events
  EXPECT_EQ(r.undecodable, 0u);
  EXPECT_EQ(r.total.events, events);
  EXPECT_EQ(r.total.bytes_now, bytes);
  // The website policy ends with a Metadata catch-all: every event matches some rule, and
  // nothing gets bigger.
  EXPECT_EQ(r.unmatched.events, 0u);
  EXPECT_LT(r.total.bytes_after, r.total.bytes_now);
}

TEST(SimulatePolicyTest, OverAStoreSinceATime) {
  kq::testing::TempDir dir;
  FakeClock clock(19723 * kMicrosPerDay);
  storage::StoreOptions options;
  options.data_dir = dir.Sub("data");
  options.durability = storage::Durability::kBuffered;
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(auto store, storage::Store::Open(options));
  storage::Environment* prod = store->Find("prod");
  ASSERT_OK_AND_ASSIGN(Policy policy, Policy::Parse(kPolicy, "p.yaml"));
  const TimeMicros t0 = 19723 * kMicrosPerDay;
  std::vector<Event> events;
  // Hour h gets h % 3 + 1 secrets reads and one proxy watch; expected counts follow by hand.
  uint64_t secrets_since = 0, watches_since = 0;
  const TimeMicros since = t0 + 10 * kMicrosPerHour;
  for (int h = 0; h < 24; ++h) {
    TimeMicros t = t0 + h * kMicrosPerHour;
    for (int i = 0; i < h % 3 + 1; ++i) {
      Event e = MakeEvent("alice", "get", "", "secrets", "ResponseComplete", h * 10 + i);
      e.object_ref->ns = "vault";
      e.request_received_time = t + i;
      e.request_received_timestamp = FormatTimestamp(t + i);
      events.push_back(e);
      if (t + i >= since) ++secrets_since;
    }
    Event w = MakeEvent("system:kube-proxy", "watch", "", "endpoints", "ResponseComplete", h);
    w.request_received_time = t;
    w.request_received_timestamp = FormatTimestamp(t);
    events.push_back(w);
    if (t >= since) ++watches_since;
  }
  ASSERT_OK(prod->Append(events, nullptr));
  ASSERT_OK(prod->Flush());
  SimulateOptions so;
  so.since = since;
  ASSERT_OK_AND_ASSIGN(SimulationReport r, SimulatePolicy(policy, prod->NewReader().get(), so));
  EXPECT_EQ(r.rules[0].events, watches_since);
  EXPECT_EQ(r.rules[0].events_after, 0u);
  EXPECT_EQ(r.rules[0].bytes_after, 0u);
  EXPECT_EQ(r.rules[1].events, secrets_since);
  EXPECT_EQ(r.rules[1].events_after, secrets_since);
  EXPECT_LT(r.rules[1].bytes_after, r.rules[1].bytes_now);
  EXPECT_EQ(r.total.events, secrets_since + watches_since);
  EXPECT_EQ(watches_since, 14u);
  EXPECT_EQ(secrets_since, 29u);  // hours 10..21: 4 * (2 + 3 + 1); hours 22, 23: 2 + 3
}

}  // namespace
}  // namespace kq::retention
