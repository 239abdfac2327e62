// The gRPC API of a real in-process kqd (Server) through generated stubs over a real socket.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
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

class GrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Server::Start(testing::TestConfig(dir_.Sub("data")));
    ASSERT_OK(s.status());
    server_ = std::move(*s);
    channel_ = testing::Connect(server_->grpc_address());
    ingest_ = kq::v1::IngestService::NewStub(channel_);
    query_ = kq::v1::QueryService::NewStub(channel_);
    admin_ = kq::v1::AdminService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_OK(server_->Drain());
    }
  }

  // Ingests `n` events "<prefix>-i" into env through one Ingest stream of `batches` messages.
  kq::v1::IngestResponse Ingest(const std::string& env, const std::string& prefix, int n,
                                int batches = 1) {
    grpc::ClientContext ctx;
    kq::v1::IngestResponse response;
    auto writer = ingest_->Ingest(&ctx, &response);
    std::vector<std::string> events = testing::MakeEvents(prefix, n);
    for (int b = 0; b < batches; ++b) {
      kq::v1::IngestRequest req;
      if (b == 0) {
        req.set_env(env);
        req.set_cluster("c9");
      }
      for (int i = b; i < n; i += batches) req.add_events(events[i]);
      EXPECT_TRUE(writer->Write(req));
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  struct QueryResult {
    std::vector<kq::v1::ColumnInfo> columns;
    std::vector<kq::v1::Row> rows;
    kq::v1::QueryStats stats;
    bool has_stats = false;
    grpc::Status status;
  };
  QueryResult RunQuery(const std::string& text) {
    grpc::ClientContext ctx;
    kq::v1::QueryRequest req;
    req.set_query(text);
    auto reader = query_->Query(&ctx, req);
    QueryResult out;
    kq::v1::QueryResponse r;
    while (reader->Read(&r)) {
      if (r.has_schema())
        out.columns.assign(r.schema().columns().begin(), r.schema().columns().end());
      if (r.has_rows()) {
        for (const auto& row : r.rows().rows()) out.rows.push_back(row);
      }
      if (r.has_stats()) {
        out.stats = r.stats();
        out.has_stats = true;
      }
    }
    out.status = reader->Finish();
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<kq::v1::IngestService::Stub> ingest_;
  std::unique_ptr<kq::v1::QueryService::Stub> query_;
  std::unique_ptr<kq::v1::AdminService::Stub> admin_;
};

TEST_F(GrpcTest, IngestStreamStoresAndDedupes) {
  kq::v1::IngestResponse first = Ingest("prod", "g", 30, 3);
  EXPECT_EQ(first.stored(), 30u);
  EXPECT_EQ(first.duplicates(), 0u);
  kq::v1::IngestResponse again = Ingest("prod", "g", 30, 2);
  EXPECT_EQ(again.stored(), 0u);
  EXPECT_EQ(again.duplicates(), 30u);
}

TEST_F(GrpcTest, IngestRawLinesQuarantinesBadLinesWithFileLineNumbers) {
  grpc::ClientContext ctx;
  kq::v1::IngestResponse response;
  auto writer = ingest_->Ingest(&ctx, &response);
  kq::v1::IngestRequest req;
  req.set_env("dev");
  req.set_source("import:/tmp/a.log");
  req.set_first_line(101);
  req.set_raw(testing::MakeEventJson("r1") + "\n{not json\n" + testing::MakeEventJson("r2") + "\n");
  ASSERT_TRUE(writer->Write(req));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.stored(), 2u);
  EXPECT_EQ(response.quarantined(), 1u);
  ASSERT_EQ(response.quarantine_ids_size(), 1);
  grpc::ClientContext ctx2;
  kq::v1::GetQuarantineRequest get;
  get.set_env("dev");
  get.set_id(response.quarantine_ids(0));
  kq::v1::QuarantineRecord rec;
  ASSERT_TRUE(admin_->GetQuarantine(&ctx2, get, &rec).ok());
  EXPECT_EQ(rec.source(), "import:/tmp/a.log line 102");
  EXPECT_EQ(rec.payload(), "{not json");
}

TEST_F(GrpcTest, IngestErrors) {
  {
    grpc::ClientContext ctx;
    kq::v1::IngestResponse response;
    auto writer = ingest_->Ingest(&ctx, &response);
    kq::v1::IngestRequest req;
    req.add_events(testing::MakeEventJson("x"));
    writer->Write(req);
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("env is required"));
  }
  {
    grpc::ClientContext ctx;
    kq::v1::IngestResponse response;
    auto writer = ingest_->Ingest(&ctx, &response);
    kq::v1::IngestRequest req;
    req.set_env("staging");
    req.add_events(testing::MakeEventJson("x"));
    writer->Write(req);
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("prod"));
  }
}

TEST_F(GrpcTest, QueryStreamsSchemaRowsAndStats) {
  Ingest("prod", "q", 25);
  QueryResult r = RunQuery("events | take 7");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_FALSE(r.columns.empty());
  EXPECT_EQ(r.columns.back().name(), "_event");
  EXPECT_EQ(r.columns.back().type(), kq::v1::VALUE_TYPE_EVENT);
  EXPECT_EQ(r.rows.size(), 7u);
  for (const auto& row : r.rows) {
    ASSERT_EQ(row.values_size(), static_cast<int>(r.columns.size()));
    EXPECT_THAT(row.values(row.values_size() - 1).json(), HasSubstr("\"auditID\":\"q-"));
  }
  ASSERT_TRUE(r.has_stats);
  EXPECT_EQ(r.stats.rows_returned(), 7u);

  QueryResult count = RunQuery("events | count");
  ASSERT_TRUE(count.status.ok()) << count.status.error_message();
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_EQ(count.rows[0].values(0).int_value(), 25);
}

TEST_F(GrpcTest, QueryErrorsSayWhatToDo) {
  QueryResult bad = RunQuery("events | wher verb == 1");
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.status.error_message(), HasSubstr("wher")) << bad.status.error_message();
  QueryResult env = RunQuery("events(\"staging\")");
  EXPECT_EQ(env.status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTest, ExplainReturnsAPlan) {
  grpc::ClientContext ctx;
  kq::v1::ExplainRequest req;
  req.set_query("events | where verb == \"get\" | take 3");
  kq::v1::ExplainResponse resp;
  grpc::Status s = query_->Explain(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(resp.plan().empty());
}

TEST_F(GrpcTest, CancellingALongQueryStopsIt) {
  Ingest("prod", "big", 3000, 3);
  grpc::ClientContext ctx;
  kq::v1::QueryRequest req;
  req.set_query("events");
  req.set_batch_rows(1);  // 3000 responses: the server must wait for this slow reader
  auto reader = query_->Query(&ctx, req);
  kq::v1::QueryResponse r;
  int read = 0;
  while (read < 5 && reader->Read(&r)) read++;
  ASSERT_EQ(read, 5);
  ctx.TryCancel();
  while (reader->Read(&r)) read++;
  EXPECT_LT(read, 3000);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server is still serving.
  EXPECT_TRUE(RunQuery("events | take 1").status.ok());
}

TEST_F(GrpcTest, DeadlineExceeded) {
  Ingest("prod", "dl", 3000, 3);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  kq::v1::QueryRequest req;
  req.set_query("events");
  req.set_batch_rows(1);
  auto reader = query_->Query(&ctx, req);
  kq::v1::QueryResponse r;
  // Read slowly so the query cannot finish in time.
  while (reader->Read(&r)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(GrpcTest, TailReceivesEventsIngestedAfterItStarted) {
  Ingest("prod", "before", 3);
  grpc::ClientContext ctx;
  kq::v1::TailRequest req;
  req.set_query("events | where verb == \"delete\"");
  auto reader = query_->Tail(&ctx, req);
  kq::v1::QueryResponse r;
  ASSERT_TRUE(reader->Read(&r));
  ASSERT_TRUE(r.has_schema());  // subscribed from here on
  // One matching and one non-matching event, after the tail started.
  std::vector<std::string> events = {testing::MakeEventJson("t-del", 1, "team-a", "delete"),
                                     testing::MakeEventJson("t-get", 2, "team-a", "get")};
  auto http = server_->http_address();
  ASSERT_EQ(testing::PostWebhook(http, "/ingest/prod/c1", testing::MakeEventList(events)).status,
            200);
  ASSERT_TRUE(reader->Read(&r));
  ASSERT_TRUE(r.has_rows());
  ASSERT_EQ(r.rows().rows_size(), 1);
  const auto& row = r.rows().rows(0);
  EXPECT_THAT(row.values(row.values_size() - 1).json(), HasSubstr("\"auditID\":\"t-del\""));
  ctx.TryCancel();
  while (reader->Read(&r)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcTest, ConcurrentQueriesWhileIngesting) {
  std::atomic<bool> stop{false};
  std::atomic<int> query_errors{0}, queries{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        QueryResult r = RunQuery("events | summarize n = count() by verb");
        if (!r.status.ok()) query_errors++;
        queries++;
      }
    });
  }
  auto http = server_->http_address();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int b = 0; b < 10; ++b) {
        auto body = testing::MakeEventList(testing::MakeEvents(absl::StrCat("w", t, "-", b), 40));
        EXPECT_EQ(testing::PostWebhook(http, "/ingest/prod/c1", body).status, 200);
      }
    });
  }
  for (auto& w : writers) w.join();
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(query_errors.load(), 0);
  EXPECT_GT(queries.load(), 0);
  QueryResult count = RunQuery("events | count");
  ASSERT_TRUE(count.status.ok());
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_EQ(count.rows[0].values(0).int_value(), 4 * 10 * 40);
}

TEST(GrpcBackpressureTest, IngestWaitsForRoomInsteadOfFailing) {
  testing::TempDir dir;
  ServerConfig config = testing::TestConfig(dir.Sub("data"));
  config.queue_depth = 1;
  ASSERT_OK_AND_ASSIGN(auto server, Server::Start(config));
  IngestPipeline::Ticket held = server->pipeline()->TryAdmit();
  ASSERT_TRUE(held);
  auto stub = kq::v1::IngestService::NewStub(testing::Connect(server->grpc_address()));
  grpc::ClientContext ctx;
  kq::v1::IngestResponse response;
  auto writer = stub->Ingest(&ctx, &response);
  kq::v1::IngestRequest req;
  req.set_env("prod");
  for (const auto& e : testing::MakeEvents("bp", 5)) req.add_events(e);
  ASSERT_TRUE(writer->Write(req));
  writer->WritesDone();
  // The batch cannot be admitted while the one slot is held; releasing it lets it through.
  std::thread release([&] { held = IngestPipeline::Ticket(); });
  grpc::Status s = writer->Finish();
  release.join();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.stored(), 5u);
  EXPECT_OK(server->Drain());
}

TEST(GrpcTlsTest, ClientCertificatesAreRequiredWhenConfigured) {
  testing::TempDir dir;
  std::string certs = dir.Sub("certs");
  std::filesystem::create_directories(certs);
  ASSERT_TRUE(testing::MakeCertificates(certs));
  ServerConfig config = testing::TestConfig(dir.Sub("data"));
  config.grpc_tls_cert = certs + "/server.pem";
  config.grpc_tls_key = certs + "/server.key";
  config.grpc_tls_client_ca = certs + "/ca.pem";
  ASSERT_OK_AND_ASSIGN(auto server, Server::Start(config));
  // The server certificate names 127.0.0.1 and localhost.
  std::string address =
      "localhost:" + server->grpc_address().substr(server->grpc_address().rfind(':') + 1);
  auto health = [&](std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto stub = kq::v1::AdminService::NewStub(grpc::CreateChannel(address, creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    kq::v1::HealthResponse resp;
    return stub->Health(&ctx, {}, &resp);
  };
  grpc::SslCredentialsOptions good;
  good.pem_root_certs = testing::ReadFileOrDie(certs + "/ca.pem");
  good.pem_cert_chain = testing::ReadFileOrDie(certs + "/client.pem");
  good.pem_private_key = testing::ReadFileOrDie(certs + "/client.key");
  grpc::Status ok = health(grpc::SslCredentials(good));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = good.pem_root_certs;
  EXPECT_FALSE(health(grpc::SslCredentials(no_cert)).ok());
  grpc::SslCredentialsOptions rogue = good;
  rogue.pem_cert_chain = testing::ReadFileOrDie(certs + "/rogue.pem");
  rogue.pem_private_key = testing::ReadFileOrDie(certs + "/rogue.key");
  EXPECT_FALSE(health(grpc::SslCredentials(rogue)).ok());
  EXPECT_FALSE(health(grpc::InsecureChannelCredentials()).ok());
  EXPECT_OK(server->Drain());
}

TEST_F(GrpcTest, TailRefusesNonFilterStages) {
  grpc::ClientContext ctx;
  kq::v1::TailRequest req;
  req.set_query("events | summarize count() by user");
  auto reader = query_->Tail(&ctx, req);
  kq::v1::QueryResponse r;
  EXPECT_FALSE(reader->Read(&r));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("where"));
}

TEST_F(GrpcTest, AdminStatsHealthVersion) {
  Ingest("dev", "st", 4);
  {
    grpc::ClientContext ctx;
    kq::v1::StatsRequest req;
    kq::v1::StatsResponse resp;
    ASSERT_TRUE(admin_->Stats(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.environments_size(), 2);
    uint64_t dev_events = 0;
    for (const auto& e : resp.environments()) {
      if (e.env() == "dev") {
        dev_events = e.events();
        EXPECT_EQ(e.dir(), dir_.Sub("data") + "/dev");
      }
    }
    EXPECT_EQ(dev_events, 4u);
  }
  {
    grpc::ClientContext ctx;
    kq::v1::StatsRequest req;
    req.set_env("nope");
    kq::v1::StatsResponse resp;
    EXPECT_EQ(admin_->Stats(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    kq::v1::HealthResponse resp;
    ASSERT_TRUE(admin_->Health(&ctx, {}, &resp).ok());
    EXPECT_TRUE(resp.live());
    EXPECT_TRUE(resp.ready());
    EXPECT_EQ(resp.status(), "ok");
  }
  {
    grpc::ClientContext ctx;
    kq::v1::VersionResponse resp;
    ASSERT_TRUE(admin_->Version(&ctx, {}, &resp).ok());
    EXPECT_EQ(resp.api(), "kq.v1");
    EXPECT_FALSE(resp.version().empty());
  }
}

}  // namespace
}  // namespace kq::server
