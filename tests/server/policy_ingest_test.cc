// Audit policies at ingest, per environment and per source, through the webhook of a real
// in-process kqd: two environments with different policies, a (webhook, cluster) override, and
// the counts per rule on /metrics and in AdminService.Stats checked against counts this test
// works out itself from the policies' rules (written out as plain predicates below).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "server/config.h"
#include "server/server.h"
#include "storage/store.h"
#include "tests/server/live_util.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

// prod: gets/lists dropped (rule 0), secrets at Metadata (rule 1), kube-system in full without
// managedFields (rule 2), the rest at Request (rule 3); RequestReceived stages omitted.
constexpr char kProdPolicy[] =
    "apiVersion: audit.k8s.io/v1\n"
    "kind: Policy\n"
    "omitStages: [RequestReceived]\n"
    "rules:\n"
    "  - level: None\n"
    "    verbs: [get, list, watch]\n"
    "  - level: Metadata\n"
    "    resources: [{group: \"\", resources: [secrets]}]\n"
    "  - level: RequestResponse\n"
    "    namespaces: [kube-system]\n"
    "    omitManagedFields: true\n"
    "  - level: Request\n";
// dev: the scratch namespace dropped (rule 0), everything else at Metadata (rule 1).
constexpr char kDevPolicy[] =
    "apiVersion: audit.k8s.io/v1\n"
    "kind: Policy\n"
    "rules:\n"
    "  - level: None\n"
    "    namespaces: [scratch]\n"
    "  - level: Metadata\n";
// The override for prod's webhook from cluster "edge": deletes at Metadata (rule 0), and no
// catch-all, so nothing else matches (dropped as level None, counted as unmatched).
constexpr char kEdgePolicy[] =
    "apiVersion: audit.k8s.io/v1\n"
    "kind: Policy\n"
    "rules:\n"
    "  - level: Metadata\n"
    "    verbs: [delete]\n";

struct TestEvent {
  std::string id, verb, resource, ns, stage;
  bool managed_fields = false;  // the request body carries metadata.managedFields
};

std::string EventJson(const TestEvent& e) {
  std::string ts = testing::TestTimestamp(1);
  return absl::StrCat(
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":")",
      e.id, R"(","stage":")", e.stage, R"(","requestURI":"/api/v1/namespaces/)", e.ns, "/",
      e.resource, R"(/x","verb":")", e.verb,
      R"(","user":{"username":"alice","groups":["dev"]},"sourceIPs":["10.0.0.1"],)",
      R"("objectRef":{"resource":")", e.resource, R"(","namespace":")", e.ns,
      R"(","name":"x","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},)",
      R"("requestObject":{"kind":"Thing","metadata":{"name":"x")",
      e.managed_fields ? R"(,"managedFields":[{"manager":"kubectl","operation":"Update"}])" : "",
      R"(},"spec":{"a":1}},)", R"("responseObject":{"kind":"Thing","status":{"b":2}},)",
      R"("requestReceivedTimestamp":")", ts, R"(","stageTimestamp":")", ts, R"("})");
}

// Deterministic mix of verbs, resources, namespaces and stages.
std::vector<TestEvent> MakeMix(const std::string& prefix, int n) {
  const char* verbs[] = {"get", "list", "create", "update", "delete", "patch", "watch"};
  const char* resources[] = {"pods", "secrets", "configmaps"};
  const char* namespaces[] = {"team-a", "kube-system", "scratch", "team-b"};
  std::vector<TestEvent> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({absl::StrCat(prefix, "-", i), verbs[i % 7], resources[(i / 7) % 3],
                   namespaces[(i / 3) % 4], i % 5 == 0 ? "RequestReceived" : "ResponseComplete",
                   i % 2 == 0});
  }
  return out;
}

// (rule, action) -> events; rule -1 = unmatched.
using Counts = std::map<std::pair<int, std::string>, uint64_t>;

// The three policies above, as predicates. Every event was recorded at RequestResponse with
// both bodies, so any lower level reduces it; at RequestResponse, stripping managedFields does.
void CountProd(const TestEvent& e, Counts* c) {
  bool omitted = e.stage == "RequestReceived";
  if (e.verb == "get" || e.verb == "list" || e.verb == "watch") {
    (*c)[{0, "dropped"}]++;
  } else if (e.resource == "secrets") {
    (*c)[{1, omitted ? "dropped" : "reduced"}]++;
  } else if (e.ns == "kube-system") {
    (*c)[{2, omitted ? "dropped" : e.managed_fields ? "reduced" : "kept"}]++;
  } else {
    (*c)[{3, omitted ? "dropped" : "reduced"}]++;
  }
}
void CountDev(const TestEvent& e, Counts* c) {
  if (e.ns == "scratch") {
    (*c)[{0, "dropped"}]++;
  } else {
    (*c)[{1, "reduced"}]++;
  }
}
void CountEdge(const TestEvent& e, Counts* c) {
  if (e.verb == "delete") {
    (*c)[{0, "reduced"}]++;
  } else {
    (*c)[{-1, "dropped"}]++;
  }
}
uint64_t Sum(const Counts& c, std::string_view action) {
  uint64_t n = 0;
  for (const auto& [key, v] : c) n += key.second == action ? v : 0;
  return n;
}

// kq_policy_rule_events_total series of a /metrics text: (env, source, cluster) -> counts.
using Scope = std::tuple<std::string, std::string, std::string>;
std::map<Scope, Counts> ParsePolicyMetrics(const std::string& text) {
  std::map<Scope, Counts> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    constexpr absl::string_view kName = "kq_policy_rule_events_total{";
    if (line.substr(0, kName.size()) != kName) continue;
    size_t close = line.find('}');
    std::map<std::string, std::string> labels;
    for (absl::string_view kv : absl::StrSplit(line.substr(kName.size(), close - kName.size()),
                                               "\",", absl::SkipEmpty())) {
      size_t eq = kv.find("=\"");
      std::string value(kv.substr(eq + 2));
      if (!value.empty() && value.back() == '"') value.pop_back();
      labels[std::string(kv.substr(0, eq))] = value;
    }
    uint64_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(close + 2), &n)) << line;
    int rule = -1;
    if (labels["rule"] != "none") {
      EXPECT_TRUE(absl::SimpleAtoi(labels["rule"], &rule)) << line;
    }
    if (n > 0) {
      out[{labels["env"], labels["source"], labels["cluster"]}][{rule, labels["action"]}] = n;
    }
  }
  return out;
}

class PolicyIngestTest : public ::testing::Test {
 protected:
  ServerConfig Config() {
    testing::WriteFileOrDie(dir_.Sub("prod.yaml"), kProdPolicy);
    testing::WriteFileOrDie(dir_.Sub("dev.yaml"), kDevPolicy);
    testing::WriteFileOrDie(dir_.Sub("edge.yaml"), kEdgePolicy);
    ServerConfig config = testing::TestConfig(dir_.Sub("data"));
    config.audit_policy = dir_.Sub("dev.yaml");  // the default, overridden for prod
    config.audit_policies = {
        {"prod", "", "", dir_.Sub("prod.yaml"), ""},
        {"prod", "webhook", "edge", dir_.Sub("edge.yaml"), ""},
        {"prod", "grpc", "", "", ""},  // gRPC into prod: keep everything
    };
    return config;
  }
  // Posts `events` in batches of 40 and returns the summed stored and filtered counts.
  std::pair<uint64_t, uint64_t> Post(const std::string& path,
                                     const std::vector<TestEvent>& events) {
    uint64_t stored = 0, filtered = 0;
    for (size_t i = 0; i < events.size(); i += 40) {
      std::vector<std::string> items;
      for (size_t j = i; j < std::min(events.size(), i + 40); ++j) {
        items.push_back(EventJson(events[j]));
      }
      auto r = testing::PostWebhook(http_, path, testing::MakeEventList(items));
      EXPECT_EQ(r.status, 200) << r.body << r.error;
      std::map<std::string, uint64_t> fields;
      for (absl::string_view kv :
           absl::StrSplit(r.body, absl::ByAnyChar("{},\n"), absl::SkipEmpty())) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, ':');
        uint64_t v = 0;
        EXPECT_TRUE(absl::SimpleAtoi(p.second, &v)) << r.body;
        fields[p.first] = v;
      }
      stored += fields["\"stored\""];
      filtered += fields["\"filtered\""];
    }
    return {stored, filtered};
  }

  testing::TempDir dir_;
  std::string http_;
};

TEST_F(PolicyIngestTest, PerEnvironmentAndSourcePoliciesWithCountsPerRule) {
  auto started = Server::Start(Config());
  ASSERT_OK(started.status());
  std::unique_ptr<Server> server = std::move(*started);
  http_ = server->http_address();

  std::vector<TestEvent> prod = MakeMix("prod", 420);
  std::vector<TestEvent> edge = MakeMix("edge", 210);
  std::vector<TestEvent> dev = MakeMix("dev", 300);
  Counts want_prod, want_edge, want_dev;
  for (const auto& e : prod) CountProd(e, &want_prod);
  for (const auto& e : edge) CountEdge(e, &want_edge);
  for (const auto& e : dev) CountDev(e, &want_dev);
  // The mix exercises every outcome of every rule it should.
  ASSERT_GT((want_prod[{1, "dropped"}]), 0u);
  ASSERT_GT((want_prod[{2, "kept"}]), 0u);
  ASSERT_GT((want_prod[{2, "reduced"}]), 0u);
  ASSERT_GT((want_prod[{3, "reduced"}]), 0u);
  ASSERT_GT((want_edge[{-1, "dropped"}]), 0u);

  auto [prod_stored, prod_filtered] = Post("/ingest/prod/c1", prod);
  EXPECT_EQ(prod_stored, Sum(want_prod, "kept") + Sum(want_prod, "reduced"));
  EXPECT_EQ(prod_filtered, Sum(want_prod, "dropped"));
  auto [edge_stored, edge_filtered] = Post("/ingest/prod/edge", edge);
  EXPECT_EQ(edge_stored, Sum(want_edge, "reduced"));
  EXPECT_EQ(edge_filtered, Sum(want_edge, "dropped"));
  auto [dev_stored, dev_filtered] = Post("/ingest/dev/c9", dev);
  EXPECT_EQ(dev_stored, Sum(want_dev, "reduced"));
  EXPECT_EQ(dev_filtered, Sum(want_dev, "dropped"));

  std::map<Scope, Counts> metrics = ParsePolicyMetrics(testing::Get(http_, "/metrics").body);
  EXPECT_EQ((metrics[{"prod", "", ""}]), want_prod);
  EXPECT_EQ((metrics[{"prod", "webhook", "edge"}]), want_edge);
  EXPECT_EQ((metrics[{"dev", "", ""}]), want_dev);
  EXPECT_EQ(metrics.size(), 3u);  // the keep-everything gRPC scope has no rules to count

  auto admin = kq::v1::AdminService::NewStub(testing::Connect(server->grpc_address()));
  grpc::ClientContext ctx;
  kq::v1::StatsRequest request;
  request.set_env("prod");
  kq::v1::StatsResponse response;
  ASSERT_TRUE(admin->Stats(&ctx, request, &response).ok());
  ASSERT_EQ(response.environments_size(), 1);
  Counts stats_prod, stats_edge;
  for (const auto& r : response.environments(0).policy_rules()) {
    Counts& c = r.cluster() == "edge" ? stats_edge : stats_prod;
    EXPECT_EQ(r.policy(), dir_.Sub(r.cluster() == "edge" ? "edge.yaml" : "prod.yaml"));
    if (r.dropped() > 0) c[{r.rule(), "dropped"}] = r.dropped();
    if (r.reduced() > 0) c[{r.rule(), "reduced"}] = r.reduced();
    if (r.kept() > 0) c[{r.rule(), "kept"}] = r.kept();
    // Rule lines and levels, from the policy texts above.
    if (r.cluster().empty() && r.rule() == 2) {
      EXPECT_EQ(r.line(), 9);
      EXPECT_EQ(r.level(), "RequestResponse");
    }
  }
  EXPECT_EQ(stats_prod, want_prod);
  EXPECT_EQ(stats_edge, want_edge);

  // What was stored: reduced events lost the bodies their new level does not record.
  ASSERT_OK(server->Drain());
  server.reset();
  storage::StoreOptions options;
  options.data_dir = dir_.Sub("data");
  options.memory_budget_bytes = 32ull << 20;
  ASSERT_OK_AND_ASSIGN(auto store, storage::Store::Open(options));
  // auditID -> (request body, has a response body)
  std::map<std::string, std::pair<std::string, bool>> bodies;
  for (const char* env : {"prod", "dev"}) {
    auto reader = store->Find(env)->NewReader();
    ASSERT_OK(reader->Scan(
        storage::ScanRange{},
        [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
          const storage::StringColumn& ids = batch.Strings(storage::Column::kAuditId);
          for (size_t row = 0; row < batch.num_rows(); ++row) {
            KQ_ASSIGN_OR_RETURN(std::string req, batch.RequestObject(row));
            KQ_ASSIGN_OR_RETURN(std::string resp, batch.ResponseObject(row));
            bodies[std::string(ids.dict[ids.codes[row]])] = {req, !resp.empty()};
          }
          return true;
        },
        nullptr));
  }
  EXPECT_EQ(bodies.size(), prod_stored + edge_stored + dev_stored);
  for (const auto& e : prod) {
    Counts c;
    CountProd(e, &c);
    auto found = bodies.find(e.id);
    if (c.begin()->first.second == "dropped") {
      EXPECT_EQ(found, bodies.end()) << e.id;
      continue;
    }
    ASSERT_NE(found, bodies.end()) << e.id;
    int rule = c.begin()->first.first;
    // Rule 1 Metadata: no bodies; rule 2 RequestResponse: both; rule 3 Request: request only.
    const auto& [request, has_response] = found->second;
    EXPECT_EQ(!request.empty(), rule >= 2) << e.id;
    EXPECT_EQ(has_response, rule == 2) << e.id;
    if (rule < 2) continue;
    // managedFields: stripped by rule 2 (omitManagedFields), kept by rule 3; the rest stays.
    EXPECT_EQ(request.find("managedFields") != std::string::npos, rule == 3 && e.managed_fields)
        << e.id << " " << request;
    EXPECT_THAT(request, HasSubstr("\"spec\":{\"a\":1}")) << e.id;
  }
  for (const auto& e : dev) {
    auto found = bodies.find(e.id);
    if (e.ns == "scratch") {
      EXPECT_EQ(found, bodies.end()) << e.id;
    } else {
      ASSERT_NE(found, bodies.end()) << e.id;
      EXPECT_EQ(found->second, std::make_pair(std::string(), false)) << e.id;
    }
  }
}

TEST_F(PolicyIngestTest, GrpcScopeWithoutFileKeepsEverything) {
  auto started = Server::Start(Config());
  ASSERT_OK(started.status());
  std::unique_ptr<Server> server = std::move(*started);
  std::vector<TestEvent> events = MakeMix("g", 50);
  auto stub = kq::v1::IngestService::NewStub(testing::Connect(server->grpc_address()));
  grpc::ClientContext ctx;
  kq::v1::IngestResponse response;
  auto writer = stub->Ingest(&ctx, &response);
  kq::v1::IngestRequest request;
  request.set_env("prod");
  request.set_cluster("c1");
  for (const auto& e : events) request.add_events(EventJson(e));
  ASSERT_TRUE(writer->Write(request));
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.stored(), events.size());
  EXPECT_EQ(response.filtered(), 0u);
  ASSERT_OK(server->Drain());
}

TEST_F(PolicyIngestTest, BadPolicyInAScopeRefusesToStartNamingKeyAndLine) {
  testing::WriteFileOrDie(dir_.Sub("bad.yaml"),
                          "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                          "  - level: Everything\n");
  testing::WriteFileOrDie(dir_.Sub("ok.yaml"), kDevPolicy);
  testing::WriteFileOrDie(dir_.Sub("kqd.yaml"), absl::StrCat("data: ", dir_.Sub("data"),
                                                             "\n"
                                                             "audit-policy: ",
                                                             dir_.Sub("ok.yaml"),
                                                             "\n"
                                                             "audit-policies:\n"
                                                             "  - env: dev\n"
                                                             "    source: tail\n"
                                                             "    file: ",
                                                             dir_.Sub("bad.yaml"), "\n"));
  std::string path = dir_.Sub("kqd.yaml");
  const char* argv[] = {"kqd",         "--config",      path.c_str(), "--grpc-listen",
                        "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
  ASSERT_OK_AND_ASSIGN(ParsedArgs args, ParseArgs(7, argv));
  absl::Status s = Server::Start(args.config).status();
  EXPECT_THAT(s, testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr(absl::StrCat(path, ":4:5: audit-policies (dev/tail): ",
                                                          dir_.Sub("bad.yaml"), ":4:"))));
  EXPECT_THAT(s.message(), HasSubstr("Everything"));
}

}  // namespace
}  // namespace kq::server
