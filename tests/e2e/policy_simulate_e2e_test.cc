// End to end: `kq policy simulate` against a real kqd (gRPC AdminService.SimulatePolicy, run
// inside kqd) gives what the embedded simulation gives on the same events, also when kqd's
// --max-rows is far below the number of stored events; a malformed policy is refused with its
// own error line, by kq (exit code 1) and by the rpc (INVALID_ARGUMENT).
//
// Expected counts for the hand-written policy come from the generated files, read with the
// tests' own JSON parser: rule 0 drops get/list/watch, rule 1 keeps the rest at Metadata.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "kq/v1/admin.grpc.pb.h"
#include "tests/e2e/e2e_util.h"
#include "tests/testing/json_value.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq {
namespace {

using testing::Bin;
using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::JsonValue;
using testing::Lines;
using testing::ProcessResult;
using testing::RunProcess;

constexpr char kDropReads[] = R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: ["get", "list", "watch"]
  - level: Metadata
)";

// Line 6 names a level that does not exist.
constexpr char kBadPolicy[] = R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    verbs: ["get"]
  - level: Everything
)";

constexpr int kOldEvents = 1500;  // 20 days ago
constexpr int kNewEvents = 500;   // 2 days ago

class PolicySimulateEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    old_file_ = dir_.Sub("old.jsonl");
    new_file_ = dir_.Sub("new.jsonl");
    // Two dense bursts (100 events/s) far from the --since 5d boundary used below.
    for (auto [file, events, seed, start] : {std::tuple{old_file_, kOldEvents, "11", "now-20d"},
                                             std::tuple{new_file_, kNewEvents, "12", "now-2d"}}) {
      ProcessResult gen = RunProcess({Bin("kq"), "gen", "--events", absl::StrCat(events), "--seed",
                                      seed, "--start", start, "--rate", "100", "--output", file});
      ASSERT_EQ(gen.exit_code, 0) << gen.err;
    }
    drop_reads_ = dir_.Sub("drop-reads.yaml");
    bad_ = dir_.Sub("bad.yaml");
    std::ofstream(drop_reads_) << kDropReads;
    std::ofstream(bad_) << kBadPolicy;
  }

  ProcessResult Kq(const std::vector<std::string>& target, std::vector<std::string> args) {
    args.insert(args.begin(), target.begin(), target.end());
    args.insert(args.begin(), Bin("kq"));
    return RunProcess(args, "", {{"KQ_CONFIG", dir_.Sub("kq-config.yaml")}});
  }

  void Import(const std::vector<std::string>& target) {
    ProcessResult r = Kq(target, {"import", "--env", "prod", old_file_, new_file_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // `kq policy simulate --format json` parsed; a null value (and a test failure) on error.
  JsonValue Simulate(const std::vector<std::string>& target, const std::string& policy,
                     const std::string& since = "") {
    std::vector<std::string> args = {"policy", "simulate", policy, "--format", "json"};
    if (!since.empty()) args.insert(args.end(), {"--since", since});
    ProcessResult r = Kq(target, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    absl::StatusOr<JsonValue> json = testing::ParseJson(r.out);
    EXPECT_TRUE(json.ok()) << json.status() << "\n" << r.out;
    return json.ok() ? *json : JsonValue();
  }

  // Starts kqd on ephemeral ports over its own data directory; returns its gRPC address.
  std::string StartKqd(std::unique_ptr<ChildProcess>* kqd, const std::string& max_rows) {
    *kqd = std::make_unique<ChildProcess>(
        std::vector<std::string>{Bin("kqd"), "--data", dir_.Sub("kqd-data"), "--grpc-listen",
                                 "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--max-rows",
                                 max_rows},
        dir_.path().string());
    std::optional<std::string> ready =
        (*kqd)->WaitForStderrLine("kqd ready", std::chrono::seconds(60));
    EXPECT_TRUE(ready.has_value()) << (*kqd)->Stderr();
    if (!ready) return "";
    size_t at = ready->find("grpc=") + 5;
    return ready->substr(at, ready->find(' ', at) - at);
  }

  // Events of `file` whose verb rule 0 of kDropReads drops.
  static int64_t Reads(const std::string& file) {
    const std::set<std::string> reads = {"get", "list", "watch"};
    int64_t n = 0;
    for (const std::string& line : Lines(testing::ReadFileOrDie(file))) {
      absl::StatusOr<JsonValue> event = testing::ParseJson(line);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok() && reads.count(std::string(event->Str("verb")))) ++n;
    }
    return n;
  }

  static int64_t Field(const JsonValue& row, std::string_view key) {
    return static_cast<int64_t>(row[key].number);
  }

  testing::TempDir dir_;
  std::string old_file_, new_file_, drop_reads_, bad_;
};

TEST_F(PolicySimulateEndToEnd, ServerEqualsEmbeddedAboveTheRowCap) {
  const std::vector<std::string> embedded = {"--data", dir_.Sub("embedded-data")};
  Import(embedded);
  std::unique_ptr<ChildProcess> kqd;
  const std::string address = StartKqd(&kqd, "10");
  ASSERT_FALSE(address.empty());
  const std::vector<std::string> server = {"--server", address};
  Import(server);

  // The cap is in force for queries: reading every event through Query fails.
  ProcessResult all = Kq(server, {"query", "events"});
  EXPECT_EQ(all.exit_code, 1);
  EXPECT_THAT(all.err, HasSubstr("more than 10 rows"));

  const std::string gce =
      (testing::CorpusDir() / "policies" / "gce-configure-helper-audit-policy.yaml").string();
  for (const std::string& policy : {drop_reads_, gce}) {
    for (const std::string& since : {std::string(), std::string("5d")}) {
      SCOPED_TRACE(absl::StrCat(policy, " since ", since));
      JsonValue local = Simulate(embedded, policy, since);
      JsonValue remote = Simulate(server, policy, since);
      EXPECT_EQ(remote, local);
      int64_t events = 0;
      for (const JsonValue& row : remote.items) events += Field(row, "events");
      EXPECT_EQ(events, since.empty() ? kOldEvents + kNewEvents : kNewEvents);
    }
  }

  // The hand-written policy's rows, worked out from the generated files.
  JsonValue rows = Simulate(server, drop_reads_);
  ASSERT_EQ(rows.items.size(), 3u) << rows.DebugString();
  const int64_t reads = Reads(old_file_) + Reads(new_file_);
  ASSERT_GT(reads, 0);
  EXPECT_EQ(Field(rows.items[0], "rule"), 0);
  EXPECT_EQ(rows.items[0].Str("level"), "None");
  EXPECT_EQ(Field(rows.items[0], "events"), reads);
  EXPECT_EQ(Field(rows.items[0], "bytes_after"), 0);
  EXPECT_GT(Field(rows.items[0], "bytes_now"), 0);
  EXPECT_EQ(Field(rows.items[1], "rule"), 1);
  EXPECT_EQ(rows.items[1].Str("level"), "Metadata");
  EXPECT_EQ(Field(rows.items[1], "events"), kOldEvents + kNewEvents - reads);
  EXPECT_TRUE(rows.items[2]["rule"].IsNull());
  EXPECT_EQ(Field(rows.items[2], "events"), 0);
  JsonValue recent = Simulate(server, drop_reads_, "5d");
  ASSERT_EQ(recent.items.size(), 3u);
  EXPECT_EQ(Field(recent.items[0], "events"), Reads(new_file_));

  // The table for people comes from the same report: its total line counts every event.
  ProcessResult table = Kq(server, {"policy", "simulate", drop_reads_});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out,
              HasSubstr(absl::StrCat("total", std::string(34, ' '), kOldEvents + kNewEvents)));
}

TEST_F(PolicySimulateEndToEnd, MalformedPolicyIsRefusedWithItsLine) {
  std::unique_ptr<ChildProcess> kqd;
  const std::string address = StartKqd(&kqd, "10");
  ASSERT_FALSE(address.empty());
  for (const std::vector<std::string>& target :
       {std::vector<std::string>{"--server", address},
        std::vector<std::string>{"--data", dir_.Sub("embedded-data")}}) {
    ProcessResult r = Kq(target, {"policy", "simulate", bad_});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat(bad_, ":6:")));
    EXPECT_THAT(r.err, HasSubstr("Everything"));
    EXPECT_EQ(r.out, "");
  }

  // The rpc itself checks the policy (kq checks it too before calling).
  auto stub =
      v1::AdminService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::SimulatePolicyRequest request;
  request.set_policy_yaml(kBadPolicy);
  request.set_policy_name("bad.yaml");
  v1::SimulatePolicyResponse response;
  {
    grpc::ClientContext context;
    grpc::Status s = stub->SimulatePolicy(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("bad.yaml:6:"));
    EXPECT_THAT(s.error_message(), HasSubstr("level"));
  }
  request.set_policy_yaml(kDropReads);
  request.set_lookback_micros(-1);
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub->SimulatePolicy(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  request.set_lookback_micros(0);
  request.set_env("staging");
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub->SimulatePolicy(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  request.set_env("");
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->SimulatePolicy(&context, request, &response).ok());
    EXPECT_EQ(response.rules_size(), 2);
    EXPECT_EQ(response.total().events(), 0u);
  }
}

}  // namespace
}  // namespace kq
