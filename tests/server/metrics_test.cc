// /metrics of a real in-process kqd over real HTTP: the store's write-stall figures per
// environment, and the retention runner's counters after a retention run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kq/v1/retention.grpc.pb.h"
#include "server/server.h"
#include "tests/server/live_util.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

// The value of the series `series` (name and labels exactly), or nullopt when it is absent.
std::optional<double> Value(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return std::nullopt;
}

TEST(MetricsTest, WriteStallFiguresPerEnvironment) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto server, Server::Start(testing::TestConfig(dir.Sub("data"))));
  std::string http = server->http_address();
  auto r = testing::PostWebhook(http, "/ingest/prod/c1",
                                testing::MakeEventList(testing::MakeEvents("m", 20)));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string text = testing::Get(http, "/metrics").body;
  for (const char* env : {"prod", "dev"}) {
    std::string labels = absl::StrCat("{env=\"", env, "\"}");
    // Nothing stalls 20 events: not stopped, no throttled rate, no stall time, no transitions.
    EXPECT_EQ(Value(text, "kq_write_stopped" + labels), 0.0) << env;
    EXPECT_EQ(Value(text, "kq_write_delayed_rate_bytes" + labels), 0.0) << env;
    EXPECT_EQ(Value(text, "kq_write_stall_seconds_total" + labels), 0.0) << env;
    EXPECT_EQ(Value(text, "kq_write_slowdowns_total" + labels), 0.0) << env;
    EXPECT_EQ(Value(text, "kq_write_stops_total" + labels), 0.0) << env;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE kq_write_stall_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE kq_write_stopped gauge\n"));
  // The same figures in AdminService.Stats.
  auto admin = kq::v1::AdminService::NewStub(testing::Connect(server->grpc_address()));
  grpc::ClientContext ctx;
  kq::v1::StatsResponse stats;
  ASSERT_TRUE(admin->Stats(&ctx, {}, &stats).ok());
  ASSERT_EQ(stats.environments_size(), 2);
  EXPECT_FALSE(stats.environments(0).write_stopped());
  EXPECT_EQ(stats.environments(0).write_stall_micros(), 0u);
  ASSERT_OK(server->Drain());
}

TEST(MetricsTest, RetentionCountersAfterARun) {
  testing::TempDir dir;
  // Events an hour old (TestTimestamp); the clock 15 days on: dev (deleted at 14d) deletes them.
  FakeClock clock(Clock::Real()->Now() + 15 * kMicrosPerDay);
  ASSERT_OK_AND_ASSIGN(auto server, Server::Start(testing::TestConfig(dir.Sub("data")), &clock));
  std::string http = server->http_address();
  auto r = testing::PostWebhook(http, "/ingest/dev/c1",
                                testing::MakeEventList(testing::MakeEvents("old", 30)));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string before = testing::Get(http, "/metrics").body;
  EXPECT_THAT(before, HasSubstr("# TYPE kq_retention_runs_total counter\n"));
  EXPECT_EQ(Value(before, "kq_retention_runs_total{env=\"dev\",outcome=\"ok\"}"), std::nullopt);

  auto retention = kq::v1::RetentionService::NewStub(testing::Connect(server->grpc_address()));
  grpc::ClientContext ctx;
  kq::v1::RetentionRunRequest request;
  request.set_env("dev");
  kq::v1::RetentionRunResponse response;
  grpc::Status s = retention->Run(&ctx, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();

  std::string after = testing::Get(http, "/metrics").body;
  EXPECT_EQ(Value(after, "kq_retention_runs_total{env=\"dev\",outcome=\"ok\"}"), 1.0);
  EXPECT_EQ(Value(after, "kq_retention_runs_total{env=\"dev\",outcome=\"error\"}"), 0.0);
  std::optional<double> deleted =
      Value(after, "kq_retention_steps_total{env=\"dev\",action=\"delete\"}");
  ASSERT_TRUE(deleted.has_value()) << after;
  EXPECT_GE(*deleted, 1.0);
  EXPECT_EQ(Value(after, "kq_retention_last_run_seconds{env=\"dev\"}"),
            static_cast<double>(clock.Now() / kMicrosPerSecond));
  ASSERT_OK(server->Drain());
}

}  // namespace
}  // namespace kq::server
