// The webhook listener of a real in-process kqd (Server), driven over real HTTP the way
// kube-apiserver drives it; what was stored is read back with the storage library.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "server/ingest_pipeline.h"
#include "server/server.h"
#include "tests/server/live_util.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

class WebhookTest : public ::testing::Test {
 protected:
  void Start(ServerConfig config) {
    auto s = Server::Start(config);
    ASSERT_OK(s.status());
    server_ = std::move(*s);
    http_ = server_->http_address();
  }
  void Start() { Start(testing::TestConfig(dir_.Sub("data"))); }
  // Drains the server and returns the auditIDs stored in `env`.
  std::multiset<std::string> StopAndRead(const std::string& env = "prod") {
    EXPECT_OK(server_->Drain());
    server_.reset();
    auto ids = testing::StoredAuditIds(dir_.Sub("data"), env);
    EXPECT_OK(ids.status());
    return ids.ok() ? *ids : std::multiset<std::string>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Server> server_;
  std::string http_;
};

TEST_F(WebhookTest, ConcurrentBatchesAreAllStoredOnce) {
  Start();
  constexpr int kSenders = 15, kBatches = 4, kPerBatch = 50;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kSenders; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::string body =
            testing::MakeEventList(testing::MakeEvents(absl::StrCat("s", t, "b", b), kPerBatch));
        auto r = testing::PostWebhook(http_, "/ingest/prod/c1", body);
        EXPECT_EQ(r.status, 200) << r.body << r.error;
        EXPECT_EQ(r.body, absl::StrCat("{\"stored\":", kPerBatch,
                                       ",\"duplicates\":0,\"quarantined\":0,\"filtered\":0}\n"));
        if (r.status == 200) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kSenders * kBatches);
  std::multiset<std::string> ids = StopAndRead();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kSenders * kBatches * kPerBatch));
  EXPECT_EQ(ids.count("s7b3-49"), 1u);
  EXPECT_EQ(ids.count("s0b0-0"), 1u);
}

TEST_F(WebhookTest, RetriedBatchIsStoredOnce) {
  Start();
  std::string body = testing::MakeEventList(testing::MakeEvents("retry", 10));
  auto first = testing::PostWebhook(http_, "/ingest/prod/c1", body);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "{\"stored\":10,\"duplicates\":0,\"quarantined\":0,\"filtered\":0}\n");
  for (int i = 0; i < 2; ++i) {
    auto again = testing::PostWebhook(http_, "/ingest/prod/c1", body);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, "{\"stored\":0,\"duplicates\":10,\"quarantined\":0,\"filtered\":0}\n");
  }
  EXPECT_EQ(StopAndRead().size(), 10u);
}

TEST_F(WebhookTest, FullQueueAnswers429WithRetryAfterThenSucceeds) {
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.queue_depth = 2;
  Start(config);
  // Occupy the whole queue, as two slow batches would.
  IngestPipeline::Ticket a = server_->pipeline()->TryAdmit();
  IngestPipeline::Ticket b = server_->pipeline()->TryAdmit();
  ASSERT_TRUE(a && b);
  std::string body = testing::MakeEventList(testing::MakeEvents("busy", 3));
  auto busy = testing::PostWebhook(http_, "/ingest/prod/c1", body);
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.retry_after, "1");
  a = IngestPipeline::Ticket();
  auto ok = testing::PostWebhook(http_, "/ingest/prod/c1", body);
  EXPECT_EQ(ok.status, 200);
  b = IngestPipeline::Ticket();
  auto metrics = testing::Get(http_, "/metrics");
  EXPECT_THAT(metrics.body,
              HasSubstr("kq_ingest_rejected_total{source=\"webhook\",code=\"429\"} 1"));
  EXPECT_THAT(metrics.body,
              HasSubstr("kq_ingest_events_stored_total{env=\"prod\",source=\"webhook\"} 3"));
  EXPECT_EQ(StopAndRead().size(), 3u);
}

TEST_F(WebhookTest, MalformedBodyIs400AndKeptInQuarantine) {
  Start();
  std::string body = "{\"kind\":\"EventList\",\"items\":[{\"level\":";
  auto r = testing::PostWebhook(http_, "/ingest/dev/c2", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("kept in quarantine"));
  auto channel = testing::Connect(server_->grpc_address());
  auto admin = kq::v1::AdminService::NewStub(channel);
  grpc::ClientContext ctx;
  kq::v1::ListQuarantineRequest req;
  req.set_env("dev");
  kq::v1::ListQuarantineResponse list;
  ASSERT_TRUE(admin->ListQuarantine(&ctx, req, &list).ok());
  ASSERT_EQ(list.records_size(), 1);
  EXPECT_THAT(list.records(0).source(), HasSubstr("webhook:dev/c2 batch"));
  grpc::ClientContext ctx2;
  kq::v1::GetQuarantineRequest get;
  get.set_env("dev");
  get.set_id(list.records(0).id());
  kq::v1::QuarantineRecord rec;
  ASSERT_TRUE(admin->GetQuarantine(&ctx2, get, &rec).ok());
  EXPECT_EQ(rec.payload(), body);
  EXPECT_TRUE(StopAndRead("dev").empty());
}

TEST_F(WebhookTest, BadItemsAreQuarantinedAndTheRestStored) {
  Start();
  std::vector<std::string> items = testing::MakeEvents("mix", 2);
  items.push_back(R"({"level":"Metadata","auditID":"no-stage"})");
  auto r = testing::PostWebhook(http_, "/ingest/prod/c1", testing::MakeEventList(items));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"stored\":2,\"duplicates\":0,\"quarantined\":1,\"filtered\":0}\n");
  EXPECT_EQ(StopAndRead().size(), 2u);
}

TEST_F(WebhookTest, OversizedBodyIs413AndUnknownEnvironmentIs404) {
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.webhook_body_limit = 4096;
  Start(config);
  std::string big = testing::MakeEventList(testing::MakeEvents("big", 20));
  ASSERT_GT(big.size(), 4096u);
  EXPECT_EQ(testing::PostWebhook(http_, "/ingest/prod/c1", big).status, 413);
  std::string small = testing::MakeEventList(testing::MakeEvents("small", 2));
  auto unknown = testing::PostWebhook(http_, "/ingest/staging/c1", small);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("staging"));
  EXPECT_TRUE(StopAndRead().empty());
}

TEST_F(WebhookTest, HealthReadyAndMetrics) {
  Start();
  EXPECT_EQ(testing::Get(http_, "/healthz").status, 200);
  EXPECT_EQ(testing::Get(http_, "/readyz").status, 200);
  auto m = testing::Get(http_, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("# TYPE kq_ingest_queue_depth gauge"));
  EXPECT_THAT(m.body, HasSubstr("kq_events{env=\"prod\"} 0"));
}

TEST_F(WebhookTest, TlsAndClientCertificates) {
  std::string certs = dir_.Sub("certs");
  std::filesystem::create_directories(certs);
  ASSERT_TRUE(testing::MakeCertificates(certs));
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.tls_cert = certs + "/server.pem";
  config.tls_key = certs + "/server.key";
  config.tls_client_ca = certs + "/ca.pem";
  Start(config);
  std::string body = testing::MakeEventList(testing::MakeEvents("tls", 3));
  testing::PostOptions good{certs + "/ca.pem", certs + "/client.pem", certs + "/client.key"};
  auto ok = testing::PostWebhook(http_, "/ingest/prod/c1", body, good);
  EXPECT_EQ(ok.status, 200) << ok.error;
  testing::PostOptions none{certs + "/ca.pem", "", ""};
  EXPECT_EQ(testing::PostWebhook(http_, "/ingest/prod/c1", body, none).status, 0);
  testing::PostOptions rogue{certs + "/ca.pem", certs + "/rogue.pem", certs + "/rogue.key"};
  EXPECT_EQ(testing::PostWebhook(http_, "/ingest/prod/c1", body, rogue).status, 0);
  // Plain HTTP to the HTTPS port does not get an answer either.
  EXPECT_NE(testing::PostWebhook(http_, "/ingest/prod/c1", body).status, 200);
  EXPECT_EQ(StopAndRead().size(), 3u);
}

TEST_F(WebhookTest, TlsWithoutClientCertificates) {
  std::string certs = dir_.Sub("certs");
  std::filesystem::create_directories(certs);
  ASSERT_TRUE(testing::MakeCertificates(certs));
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.tls_cert = certs + "/server.pem";
  config.tls_key = certs + "/server.key";
  Start(config);
  std::string body = testing::MakeEventList(testing::MakeEvents("tls", 3));
  auto ok = testing::PostWebhook(http_, "/ingest/prod/c1", body, {certs + "/ca.pem", "", ""});
  EXPECT_EQ(ok.status, 200) << ok.error;
  // A client that trusts another CA refuses the server.
  auto untrusted =
      testing::PostWebhook(http_, "/ingest/prod/c1", body, {certs + "/rogue.pem", "", ""});
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_EQ(StopAndRead().size(), 3u);
}

TEST_F(WebhookTest, AuditPolicyDropsAndReducesAtIngest) {
  // gets are not recorded at all; everything else at Metadata (bodies dropped).
  testing::WriteFileOrDie(dir_.Sub("policy.yaml"),
                          "apiVersion: audit.k8s.io/v1\n"
                          "kind: Policy\n"
                          "rules:\n"
                          "  - level: None\n"
                          "    verbs: [get]\n"
                          "  - level: Metadata\n");
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.audit_policy = dir_.Sub("policy.yaml");
  Start(config);
  std::string del = testing::MakeEventJson("p-del", 1, "team-a", "delete");
  // A Request-level delete with a body: stored without it.
  del.replace(del.find("\"level\":\"Metadata\""), 18, "\"level\":\"Request\"");
  del.insert(del.size() - 1, ",\"requestObject\":{\"kind\":\"DeleteOptions\"}");
  std::vector<std::string> items = {testing::MakeEventJson("p-get", 2, "team-a", "get"), del};
  auto r = testing::PostWebhook(http_, "/ingest/prod/c1", testing::MakeEventList(items));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"stored\":1,\"duplicates\":0,\"quarantined\":0,\"filtered\":1}\n");
  std::multiset<std::string> ids = StopAndRead();
  EXPECT_EQ(ids, (std::multiset<std::string>{"p-del"}));
}

TEST_F(WebhookTest, BadPolicyFileRefusesToStart) {
  testing::WriteFileOrDie(dir_.Sub("policy.yaml"), "kind: Policy\nrules:\n  - levl: None\n");
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.audit_policy = dir_.Sub("policy.yaml");
  EXPECT_THAT(Server::Start(config).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.yaml")));
}

TEST_F(WebhookTest, BadTlsFilesRefuseToStart) {
  ServerConfig config = testing::TestConfig(dir_.Sub("data"));
  config.tls_cert = dir_.Sub("missing.pem");
  config.tls_key = dir_.Sub("missing.key");
  EXPECT_THAT(Server::Start(config).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing.pem")));
}

}  // namespace
}  // namespace kq::server
