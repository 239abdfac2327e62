// server::SimulatePolicy (AdminService.SimulatePolicy, also `kq --data`) over a real store:
// counts per rule against counts worked out from the events written here, the lookback counted
// back from the options' clock, cancellation and deadline reaching the scan, errors, and the
// proto round trip.
#include "server/policy_simulation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "server/store_readers.h"
#include "storage/decoder.h"
#include "storage/store.h"
#include "tests/retention/test_store.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

constexpr int kEvents = 300;  // event i: second i % 60, verb "delete" when i % 3 == 0

constexpr char kDropDeletes[] = R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: ["delete"]
  - level: Metadata
    namespaces: ["team-a"]
)";

class PolicySimulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, retention::OpenTestStore(dir_.Sub("data"), Clock::Real()));
    storage::Decoder decoder;
    std::vector<storage::Event> events(kEvents);
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_OK(decoder.DecodeEvent(
          testing::MakeEventJson(absl::StrCat("e-", i), i % 60, i % 2 == 0 ? "team-a" : "team-b",
                                 i % 3 == 0 ? "delete" : "get"),
          &events[i]));
    }
    storage::AppendResult result;
    ASSERT_OK(store_->Find("prod")->Append(events, &result));
    readers_ = std::make_unique<StoreReaderFactory>(store_.get());
    request_.set_policy_yaml(kDropDeletes);
    request_.set_policy_name("drop.yaml");
  }

  absl::Status Simulate(const query::QueryOptions& options = query::QueryOptions()) {
    return SimulatePolicy(*readers_, request_, options, &response_);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StoreReaderFactory> readers_;
  v1::SimulatePolicyRequest request_;
  v1::SimulatePolicyResponse response_;
};

TEST_F(PolicySimulationTest, CountsEveryEventOfTheEnvironmentByRule) {
  ASSERT_OK(Simulate());
  // Deletes: i % 3 == 0 -> 100. The rest in team-a (i even, i % 3 != 0): 100. Unmatched: 100.
  ASSERT_EQ(response_.rules_size(), 2);
  EXPECT_EQ(response_.rules(0).rule(), 0);
  EXPECT_EQ(response_.rules(0).level(), "None");
  EXPECT_EQ(response_.rules(0).events(), 100u);
  EXPECT_EQ(response_.rules(0).events_after(), 0u);
  EXPECT_EQ(response_.rules(0).bytes_after(), 0u);
  EXPECT_EQ(response_.rules(1).level(), "Metadata");
  EXPECT_EQ(response_.rules(1).events(), 100u);
  EXPECT_EQ(response_.rules(1).events_after(), 100u);
  EXPECT_EQ(response_.unmatched().rule(), -1);
  EXPECT_EQ(response_.unmatched().events(), 100u);
  EXPECT_EQ(response_.total().events(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(response_.total().bytes_now(), response_.rules(0).bytes_now() +
                                               response_.rules(1).bytes_now() +
                                               response_.unmatched().bytes_now());
  EXPECT_DOUBLE_EQ(response_.total().share(), 1.0);

  // The empty dev environment: every count zero.
  request_.set_env("dev");
  ASSERT_OK(Simulate());
  EXPECT_EQ(response_.total().events(), 0u);
}

TEST_F(PolicySimulationTest, LookbackCountsBackFromTheClock) {
  // Events sit at seconds 0..59 after the previous hour began (test_events.h). At second 60,
  // a 30 s lookback keeps seconds 30..59: half of every 60 events.
  TimeMicros base = ParseTimestamp(testing::TestTimestamp(0)).value();
  FakeClock clock(base + 60 * kMicrosPerSecond);
  query::QueryOptions options;
  options.clock = &clock;
  request_.set_lookback_micros(30 * kMicrosPerSecond);
  ASSERT_OK(Simulate(options));
  EXPECT_EQ(response_.total().events(), static_cast<uint64_t>(kEvents / 2));
}

TEST_F(PolicySimulationTest, CancellationAndDeadlineStopTheScan) {
  std::atomic<bool> cancelled{true};
  query::QueryOptions options;
  options.cancelled = &cancelled;
  EXPECT_THAT(Simulate(options), testing::StatusIs(absl::StatusCode::kCancelled, ::testing::_));

  FakeClock clock(ParseTimestamp(testing::TestTimestamp(0)).value());
  query::QueryOptions late;
  late.clock = &clock;
  late.deadline = clock.Now() - 1;
  EXPECT_THAT(Simulate(late), testing::StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
}

TEST_F(PolicySimulationTest, ErrorsNameWhatIsWrong) {
  request_.set_policy_yaml("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n");
  absl::Status bad = Simulate();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("drop.yaml:4:"));
  EXPECT_THAT(bad.message(), HasSubstr("Loud"));

  request_.set_policy_yaml(kDropDeletes);
  request_.set_lookback_micros(-5);
  EXPECT_THAT(Simulate(), testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  request_.set_lookback_micros(0);
  request_.set_env("staging");
  EXPECT_THAT(Simulate(), testing::StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(PolicySimulationTest, ReportSurvivesTheProtoRoundTrip) {
  ASSERT_OK(Simulate());
  ASSERT_OK_AND_ASSIGN(retention::SimulationReport report, ReportFromProto(response_));
  ASSERT_EQ(report.rules.size(), 2u);
  EXPECT_EQ(report.rules[0].level, retention::Level::kNone);
  EXPECT_EQ(report.rules[1].level, retention::Level::kMetadata);
  EXPECT_EQ(report.rules[1].events, 100u);
  EXPECT_EQ(report.unmatched.rule, -1);
  EXPECT_EQ(report.total.bytes_now, response_.total().bytes_now());
  v1::SimulatePolicyResponse again;
  ReportToProto(report, &again);
  EXPECT_EQ(again.SerializeAsString(), response_.SerializeAsString());

  response_.mutable_rules(1)->set_level("Loud");
  EXPECT_THAT(ReportFromProto(response_).status(),
              testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

}  // namespace
}  // namespace kq::server
