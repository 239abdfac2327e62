// server::RetentionRunner's scheduler on a FakeClock (a real store and real ledgers), and the
// retention keys of kqd's config.
#include "server/retention_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "server/config.h"
#include "tests/retention/test_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

constexpr TimeMicros kT0 = 1'780'000'000'000'000;  // 2026-05-28

class RetentionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, retention::OpenTestStore(dir_.Sub("data"), &clock_));
    RetentionRunnerOptions r;
    r.data_dir = dir_.Sub("data");
    r.clock = &clock_;
    r.sync = false;
    r.interval = kMicrosPerHour;
    ASSERT_OK_AND_ASSIGN(runner_, RetentionRunner::Create(store_.get(), r));
  }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<RetentionRunner> runner_;
};

TEST_F(RetentionRunnerTest, RunsEveryEnvironmentOncePerInterval) {
  EXPECT_EQ(runner_->RunDue(), 0);  // not at startup
  clock_.Advance(59 * kMicrosPerMinute);
  EXPECT_EQ(runner_->RunDue(), 0);
  clock_.Advance(kMicrosPerMinute);
  EXPECT_EQ(runner_->RunDue(), 2);  // prod and dev
  EXPECT_EQ(runner_->RunDue(), 0);
  clock_.Advance(kMicrosPerHour);
  EXPECT_EQ(runner_->RunDue(), 2);
  // Missed runs are not made up: one run, then the next an interval later.
  clock_.Advance(5 * kMicrosPerHour);
  EXPECT_EQ(runner_->RunDue(), 2);
  clock_.Advance(59 * kMicrosPerMinute);
  EXPECT_EQ(runner_->RunDue(), 0);
  clock_.Advance(kMicrosPerMinute);
  EXPECT_EQ(runner_->RunDue(), 2);
  EXPECT_EQ(runner_->runs_finished(), 8u);
  EXPECT_THAT(runner_->MetricsText(),
              HasSubstr("kq_retention_runs_total{env=\"prod\",outcome=\"ok\"} 4\n"));
  EXPECT_THAT(runner_->MetricsText(),
              HasSubstr("kq_retention_runs_total{env=\"dev\",outcome=\"ok\"} 4\n"));
}

TEST_F(RetentionRunnerTest, SchedulerThreadFollowsTheClock) {
  runner_->StartScheduler(std::chrono::milliseconds(2));
  auto wait_for = [&](uint64_t runs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (runner_->runs_finished() < runs && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return runner_->runs_finished();
  };
  clock_.Advance(kMicrosPerHour);
  EXPECT_EQ(wait_for(2), 2u);
  clock_.Advance(kMicrosPerHour);
  EXPECT_EQ(wait_for(4), 4u);
  runner_->StopScheduler();
  runner_->StopScheduler();  // idempotent
  clock_.Advance(kMicrosPerHour);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runner_->runs_finished(), 4u) << "no run after StopScheduler";
}

TEST_F(RetentionRunnerTest, UnknownEnvironmentAndBadRequests) {
  v1::RetentionPlanResponse plan;
  v1::RetentionPlanRequest request;
  request.set_env("staging");
  EXPECT_THAT(runner_->Plan(request, &plan), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  v1::RestoreArchiveRequest restore;
  restore.set_env("prod");
  restore.set_from_micros(kT0);
  restore.set_to_micros(kT0 + kMicrosPerDay);
  v1::RestoreArchiveResponse restored;
  // The runner was made without open_restore_targets, as in kqd.
  EXPECT_THAT(runner_->RestoreArchive(restore, &restored),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  v1::ReleaseHoldRequest release;
  release.set_id(1);
  EXPECT_THAT(runner_->ReleaseHold(release),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(RetentionConfigTest, KeysParseAndPrintBack) {
  testing::TempDir dir;
  std::string file = dir.Sub("kqd.yaml");
  std::ofstream(file) << "archive-root: /srv/archive\n"
                         "retention-interval: 6h\n"
                         "retention:\n"
                         "  prod:\n"
                         "    hot: 3d\n"
                         "    namespaces:\n"
                         "      vault: {warm: 180d}\n";
  const char* argv[] = {"kqd", "--config", file.c_str()};
  ASSERT_OK_AND_ASSIGN(ParsedArgs parsed, ParseArgs(3, argv));
  const ServerConfig& c = parsed.config;
  EXPECT_EQ(c.archive_root, "/srv/archive");
  EXPECT_EQ(c.retention_interval, 6 * kMicrosPerHour);
  const retention::EnvironmentRetention* prod = c.retention.Find("prod");
  ASSERT_NE(prod, nullptr);
  EXPECT_EQ(prod->ages.hot, 3 * kMicrosPerDay);
  EXPECT_EQ(prod->ages.warm, 90 * kMicrosPerDay);
  EXPECT_EQ(prod->ForNamespace("vault").warm, 180 * kMicrosPerDay);
  ASSERT_NE(c.retention.Find("dev"), nullptr);  // defaults kept

  ServerConfig again;
  ASSERT_OK(ApplyYaml(PrintConfig(c), "printed", &again));
  ASSERT_EQ(again.retention.environments.size(), c.retention.environments.size());
  for (const auto& env : c.retention.environments) {
    const retention::EnvironmentRetention* e = again.retention.Find(env.env);
    ASSERT_NE(e, nullptr) << env.env;
    EXPECT_EQ(e->ages, env.ages) << env.env;
    EXPECT_EQ(e->ForNamespace("vault"), env.ForNamespace("vault")) << env.env;
  }
  EXPECT_EQ(again.retention_interval, c.retention_interval);
}

TEST(RetentionConfigTest, NonsenseIsRefusedWithTheLine) {
  ServerConfig c;
  absl::Status s = ApplyYaml("retention:\n  prod: {hot: 7d, warm: 5d}\n", "kqd.yaml", &c);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(std::string(s.message()), HasSubstr("kqd.yaml:2:"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("shorter than hot"));
  s = ApplyYaml("retention-interval: 5s\n", "kqd.yaml", &c);
  EXPECT_THAT(std::string(s.message()), HasSubstr("between 1m and 30d"));
}

}  // namespace
}  // namespace kq::server
