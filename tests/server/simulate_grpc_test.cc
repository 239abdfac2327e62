// AdminService.SimulatePolicy on a real in-process kqd over a real socket: the report of the
// events ingested here, and the call's deadline reaching the scan on the server. kqd runs on
// a clock one day ahead, so a deadline a minute away in real time has already passed for the
// server's engine, which must answer DEADLINE_EXCEEDED itself (the client would still wait).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "server/server.h"
#include "tests/server/live_util.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

constexpr char kDropDeletes[] = R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: ["delete"]
)";

class SimulateGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, Server::Start(testing::TestConfig(dir_.Sub("data")), &clock_));
    std::vector<std::string> events;
    for (int i = 0; i < 30; ++i) {
      events.push_back(testing::MakeEventJson(absl::StrCat("s-", i), i, "team-a",
                                              i % 3 == 0 ? "delete" : "get"));
    }
    ASSERT_EQ(testing::PostWebhook(server_->http_address(), "/ingest/prod/c1",
                                   testing::MakeEventList(events))
                  .status,
              200);
    admin_ = v1::AdminService::NewStub(testing::Connect(server_->grpc_address()));
    request_.set_policy_yaml(kDropDeletes);
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_OK(server_->Drain());
    }
  }

  FakeClock clock_{Clock::Real()->Now() + kMicrosPerDay};
  testing::TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  v1::SimulatePolicyRequest request_;
  v1::SimulatePolicyResponse response_;
};

TEST_F(SimulateGrpcTest, ReportsTheStoredEvents) {
  grpc::ClientContext context;
  grpc::Status s = admin_->SimulatePolicy(&context, request_, &response_);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response_.rules_size(), 1);
  EXPECT_EQ(response_.rules(0).events(), 10u);  // i % 3 == 0 of 30
  EXPECT_EQ(response_.unmatched().events(), 20u);
  EXPECT_EQ(response_.total().events(), 30u);
}

TEST_F(SimulateGrpcTest, TheDeadlineReachesTheServersScan) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(1));
  grpc::Status s = admin_->SimulatePolicy(&context, request_, &response_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(s.error_message(), HasSubstr("past its deadline"));
}

}  // namespace
}  // namespace kq::server
