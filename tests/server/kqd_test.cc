// The kqd binary: flags and config errors, readiness line, SIGTERM drain and SIGKILL during
// webhook ingest (every acknowledged batch must be in the store afterwards).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/server/live_util.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

std::string Kqd() { return (testing::BinDir() / "kqd").string(); }

// Parses "kqd ready grpc=A http=B".
bool ParseReady(const std::string& line, std::string* grpc, std::string* http) {
  size_t g = line.find("grpc="), h = line.find(" http=");
  if (g == std::string::npos || h == std::string::npos) return false;
  *grpc = line.substr(g + 5, h - g - 5);
  *http = line.substr(h + 6);
  while (!http->empty() && (http->back() == '\n' || http->back() == '\r')) http->pop_back();
  return true;
}

TEST(KqdTest, HelpAndPrintConfigComeFromTheOptionTable) {
  auto help = testing::RunProcess({Kqd(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--webhook-body-limit SIZE"));
  EXPECT_THAT(help.out, HasSubstr("--grpc-listen HOST:PORT"));
  auto printed = testing::RunProcess({Kqd(), "--print-config", "--queue-depth", "9"});
  EXPECT_EQ(printed.exit_code, 0);
  EXPECT_THAT(printed.out, HasSubstr("queue-depth: 9\n"));
  EXPECT_THAT(printed.out, HasSubstr("grpc-listen: \"127.0.0.1:9910\"\n"));
}

TEST(KqdTest, BadConfigIsRefusedWithFileKeyAndReason) {
  testing::TempDir dir;
  std::string cfg = dir.Sub("kqd.yaml");
  testing::WriteFileOrDie(cfg, "data: /tmp/x\nlog-format: fancy\n");
  auto r = testing::RunProcess({Kqd(), "--config", cfg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("kqd.yaml:2:13: log-format: must be one of text, json"));
  auto flag = testing::RunProcess({Kqd(), "--grpc-listen", "nowhere"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err, HasSubstr("--grpc-listen"));
}

TEST(KqdTest, SecondKqdOnTheSameDataDirectoryIsRefused) {
  testing::TempDir dir;
  testing::ChildProcess first({Kqd(), "--data", dir.Sub("data"), "--grpc-listen", "127.0.0.1:0",
                               "--http-listen", "127.0.0.1:0"},
                              dir.path().string());
  ASSERT_TRUE(first.WaitForStderrLine("kqd ready", std::chrono::seconds(30)));
  auto second = testing::RunProcess({Kqd(), "--data", dir.Sub("data"), "--grpc-listen",
                                     "127.0.0.1:0", "--http-listen", "127.0.0.1:0"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot start"));
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(), 0);
}

// Senders post unique batches until told to stop; the ids of every batch answered 200 are
// recorded.
struct Senders {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acked;
  std::vector<std::thread> threads;

  void Start(const std::string& http, int n) {
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([this, http, t] {
        for (int b = 0; !stop.load(); ++b) {
          std::string prefix = absl::StrCat("k", t, "-", b);
          auto r = testing::PostWebhook(http, "/ingest/prod/c1",
                                        testing::MakeEventList(testing::MakeEvents(prefix, 20)));
          if (r.status == 200) {
            std::lock_guard<std::mutex> lock(mu);
            acked.push_back(prefix);
          } else if (r.status == 0) {
            return;  // the server is gone
          }
        }
      });
    }
  }
  void Join() {
    stop.store(true);
    for (auto& th : threads) th.join();
  }
};

void ExpectAllAckedStored(const std::string& data, const std::vector<std::string>& acked) {
  ASSERT_OK_AND_ASSIGN(auto ids, testing::StoredAuditIds(data, "prod"));
  for (const auto& prefix : acked) {
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(ids.count(absl::StrCat(prefix, "-", i)), 1u) << prefix << "-" << i;
    }
  }
}

TEST(KqdTest, SigtermDrainsAndKeepsEveryAcknowledgedEvent) {
  testing::TempDir dir;
  testing::ChildProcess kqd({Kqd(), "--data", dir.Sub("data"), "--grpc-listen", "127.0.0.1:0",
                             "--http-listen", "127.0.0.1:0", "--log-format", "json"},
                            dir.path().string());
  auto line = kqd.WaitForStderrLine("kqd ready", std::chrono::seconds(30));
  ASSERT_TRUE(line.has_value()) << kqd.Stderr();
  std::string grpc, http;
  ASSERT_TRUE(ParseReady(*line, &grpc, &http)) << *line;
  Senders senders;
  senders.Start(http, 8);
  // Let some batches be acknowledged, then ask kqd to stop while senders keep posting.
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(senders.mu);
    if (senders.acked.size() >= 20) break;
  }
  kqd.Signal(SIGTERM);
  EXPECT_EQ(kqd.Wait(), 0) << kqd.Stderr();
  senders.Join();
  EXPECT_THAT(kqd.Stderr(), HasSubstr("drained"));
  ExpectAllAckedStored(dir.Sub("data"), senders.acked);
}

TEST(KqdTest, SigkillDuringWebhookIngestLosesNoAcknowledgedBatch) {
  testing::TempDir dir;
  testing::ChildProcess kqd({Kqd(), "--data", dir.Sub("data"), "--grpc-listen", "127.0.0.1:0",
                             "--http-listen", "127.0.0.1:0"},
                            dir.path().string());
  auto line = kqd.WaitForStderrLine("kqd ready", std::chrono::seconds(30));
  ASSERT_TRUE(line.has_value()) << kqd.Stderr();
  std::string grpc, http;
  ASSERT_TRUE(ParseReady(*line, &grpc, &http)) << *line;
  Senders senders;
  senders.Start(http, 8);
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(senders.mu);
    if (senders.acked.size() >= 30) break;
  }
  kqd.Signal(SIGKILL);
  kqd.Wait();
  senders.Join();
  ExpectAllAckedStored(dir.Sub("data"), senders.acked);
}

// Polls `events | count` until it reaches `want` (or 30 s pass); returns the last count.
int64_t WaitForCount(const std::string& grpc, int64_t want) {
  auto stub = kq::v1::QueryService::NewStub(testing::Connect(grpc));
  int64_t n = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext ctx;
    kq::v1::QueryRequest req;
    req.set_query("events | count");
    auto reader = stub->Query(&ctx, req);
    kq::v1::QueryResponse r;
    while (reader->Read(&r)) {
      if (r.has_rows() && r.rows().rows_size() == 1) n = r.rows().rows(0).values(0).int_value();
    }
    if (reader->Finish().ok() && n >= want) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return n;
}

TEST(KqdTest, TailFollowsRotationAcrossARestartExactlyOnce) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("log"));
  std::string log = dir.Sub("log") + "/audit.log";
  auto append = [&](int from, int to) {
    std::ofstream out(log, std::ios::app);
    for (int i = from; i < to; ++i) out << testing::MakeEventJson(absl::StrCat("t-", i)) << "\n";
  };
  std::vector<std::string> argv = {
      Kqd(),           "--data",      dir.Sub("data"),
      "--grpc-listen", "127.0.0.1:0", "--http-listen",
      "127.0.0.1:0",   "--tail",      "prod/c1=" + dir.Sub("log") + "/audit*.log"};
  append(0, 10);
  {
    testing::ChildProcess kqd(argv, dir.path().string());
    auto line = kqd.WaitForStderrLine("kqd ready", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << kqd.Stderr();
    std::string grpc, http;
    ASSERT_TRUE(ParseReady(*line, &grpc, &http));
    EXPECT_EQ(WaitForCount(grpc, 10), 10);
    kqd.Signal(SIGTERM);
    ASSERT_EQ(kqd.Wait(), 0);
  }
  // While kqd is down: more lines, a lumberjack rotation, a new file.
  append(10, 15);
  std::filesystem::rename(log, dir.Sub("log") + "/audit-2024-05-01T10-00-00.000.log");
  append(15, 20);
  {
    testing::ChildProcess kqd(argv, dir.path().string());
    auto line = kqd.WaitForStderrLine("kqd ready", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << kqd.Stderr();
    std::string grpc, http;
    ASSERT_TRUE(ParseReady(*line, &grpc, &http));
    // The rotated file (matched by the glob) is read on from the checkpoint, the new one whole.
    EXPECT_EQ(WaitForCount(grpc, 20), 20);
    append(20, 25);
    EXPECT_EQ(WaitForCount(grpc, 25), 25);
    kqd.Signal(SIGTERM);
    ASSERT_EQ(kqd.Wait(), 0);
  }
  ASSERT_OK_AND_ASSIGN(auto ids, testing::StoredAuditIds(dir.Sub("data"), "prod"));
  EXPECT_EQ(ids.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(ids.count(absl::StrCat("t-", i)), 1u) << i;
}

}  // namespace
}  // namespace kq::server
