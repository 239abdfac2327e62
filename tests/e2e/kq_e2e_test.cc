// End to end: the real kq and kqd binaries, a real store on disk, real gRPC on ephemeral ports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/time.h"
#include "tests/e2e/e2e_util.h"
#include "tests/server/live_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq {
namespace {

using testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::RunProcess;

using testing::AuditIdOf;
using testing::Bin;
using testing::Lines;

class KqEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    events_file_ = dir_.Sub("events.jsonl");
    ProcessResult gen =
        RunProcess({Bin("kq"), "gen", "--events", "1000", "--seed", "1", "--start",
                    "2026-11-01T00:00:00Z", "--cluster", "east", "--output", events_file_});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    for (const std::string& line : Lines(testing::ReadFileOrDie(events_file_))) {
      generated_ids_.insert(AuditIdOf(line));
    }
    ASSERT_GT(generated_ids_.size(), 100u);
  }

  ProcessResult Kq(std::vector<std::string> args, std::string_view input = "") {
    args.insert(args.begin(), Bin("kq"));
    return RunProcess(
        args, input,
        {{"KQ_CONFIG", dir_.Sub("kq-config.yaml")}, {"KQ_HISTORY", dir_.Sub("history")}});
  }

  // Starts kqd on ephemeral ports over data_ (with `extra` flags) and returns its gRPC address.
  std::string StartKqd(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {Bin("kqd"),    "--data",        data_,        "--grpc-listen",
                                     "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    kqd_ = std::make_unique<ChildProcess>(argv, dir_.path().string());
    std::optional<std::string> ready =
        kqd_->WaitForStderrLine("kqd ready", std::chrono::seconds(60));
    EXPECT_TRUE(ready.has_value()) << kqd_->Stderr();
    if (!ready) return "";
    size_t at = ready->find("grpc=");
    return ready->substr(at + 5, ready->find(' ', at) - at - 5);
  }

  testing::TempDir dir_;
  std::string data_, events_file_;
  std::set<std::string> generated_ids_;
  std::unique_ptr<ChildProcess> kqd_;
};

TEST_F(KqEndToEnd, GeneratorIsDeterministicBySeed) {
  std::string again = dir_.Sub("again.jsonl");
  ProcessResult gen = RunProcess({Bin("kq"), "gen", "--events", "1000", "--seed", "1", "--start",
                                  "2026-11-01T00:00:00Z", "--cluster", "east", "--output", again});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_EQ(testing::ReadFileOrDie(again), testing::ReadFileOrDie(events_file_));
}

TEST_F(KqEndToEnd, ImportThenQueryEmbeddedAndOverGrpc) {
  ProcessResult import =
      Kq({"--data", data_, "import", "--env", "prod", "--cluster", "east", events_file_});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_THAT(import.err, HasSubstr("1000 events stored"));
  // RocksDB's informational messages and expected warnings stay out of the user's terminal.
  EXPECT_THAT(import.err, Not(HasSubstr("rocksdb")));

  ProcessResult embedded = Kq({"--data", data_, "query", "--format", "jsonl", "events | take 10"});
  ASSERT_EQ(embedded.exit_code, 0) << embedded.err;
  std::vector<std::string> rows = Lines(embedded.out);
  ASSERT_EQ(rows.size(), 10u);
  for (const std::string& row : rows) {
    EXPECT_TRUE(generated_ids_.count(AuditIdOf(row))) << row;
    EXPECT_THAT(row, HasSubstr("\"requestReceivedTimestamp\""));
  }

  // The dev environment is apart: nothing was imported there.
  ProcessResult dev =
      Kq({"--data", data_, "query", "--env", "dev", "--format", "jsonl", "events | take 10"});
  ASSERT_EQ(dev.exit_code, 0) << dev.err;
  EXPECT_EQ(dev.out, "");

  std::string address = StartKqd();
  ASSERT_FALSE(address.empty());
  ProcessResult remote =
      Kq({"--server", address, "query", "--format", "jsonl", "events | take 10"});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(remote.out, embedded.out);

  // While kqd holds the store, an embedded open is refused with a clear reason.
  ProcessResult locked = Kq({"--data", data_, "query", "events | take 1"});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_THAT(locked.err, HasSubstr("locked"));
}

TEST_F(KqEndToEnd, ExitCodesSayWhatWentWrong) {
  ProcessResult import = Kq({"--data", data_, "import", events_file_});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  ProcessResult bad_query = Kq({"--data", data_, "query", "events | wher verb == 1"});
  EXPECT_EQ(bad_query.exit_code, 1);
  EXPECT_THAT(bad_query.err, HasSubstr("line 1, column 10"));
  ProcessResult usage = Kq({"--data", data_, "query", "--format", "yaml", "events"});
  EXPECT_EQ(usage.exit_code, 2);
  ProcessResult unreachable = Kq({"--server", "127.0.0.1:1", "query", "events | take 1"});
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_THAT(unreachable.err, HasSubstr("cannot connect"));
}

TEST_F(KqEndToEnd, ContextsSwitchTargets) {
  ASSERT_EQ(Kq({"--data", data_, "import", "--env", "dev", events_file_}).exit_code, 0);
  ASSERT_EQ(Kq({"config", "set-context", "laptop-dev", "--data", data_, "--env", "dev"}).exit_code,
            0);
  ASSERT_EQ(Kq({"config", "set-context", "nowhere", "--server", "127.0.0.1:1"}).exit_code, 0);
  ProcessResult list = Kq({"config", "get-contexts"});
  EXPECT_THAT(list.out, HasSubstr("laptop-dev"));
  // The first context saved became current; its env is dev, where the events are.
  ProcessResult q = Kq({"query", "--format", "csv", "events | count"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "Count\n1000\n");
  ASSERT_EQ(Kq({"config", "use-context", "nowhere"}).exit_code, 0);
  EXPECT_EQ(Kq({"query", "events | count"}).exit_code, 3);
  EXPECT_EQ(Kq({"--context", "laptop-dev", "query", "events | count"}).exit_code, 0);
}

TEST_F(KqEndToEnd, ShellRunsQueriesFromStdin) {
  ASSERT_EQ(Kq({"--data", data_, "import", events_file_}).exit_code, 0);
  ProcessResult shell = Kq({"--data", data_}, ".format csv\nevents |\n  count\n.quit\n");
  ASSERT_EQ(shell.exit_code, 0) << shell.err;
  EXPECT_THAT(shell.out, HasSubstr("Count\n1000\n"));
}

// `.timing on` prints, per query, the engine's time and the client's total; against kqd the
// shell keeps one connection, and the total can never be below the server's own time.
TEST_F(KqEndToEnd, ShellTimingShowsQueryAndTotalTime) {
  ASSERT_EQ(Kq({"--data", data_, "import", events_file_}).exit_code, 0);
  std::string address = StartKqd();
  ASSERT_FALSE(address.empty());
  ProcessResult shell = Kq({"--server", address},
                           ".format jsonl\n.timing on\nevents | take 3\nevents | count\n.quit\n");
  ASSERT_EQ(shell.exit_code, 0) << shell.err;
  // "format: jsonl", "timing: on", 3 rows, the count.
  EXPECT_EQ(Lines(shell.out).size(), 2u + 3u + 1u) << shell.out;
  int timing_lines = 0;
  for (const std::string& line : Lines(shell.err)) {
    size_t query_at = line.find(", query ");
    size_t total_at = line.find(", total ");
    if (query_at == std::string::npos || total_at == std::string::npos) continue;
    ++timing_lines;
    std::string query_time = line.substr(query_at + 8, total_at - query_at - 8);
    absl::StatusOr<TimeMicros> query = ParseDuration(query_time);
    absl::StatusOr<TimeMicros> total = ParseDuration(line.substr(total_at + 8));
    ASSERT_TRUE(query.ok() && total.ok()) << line;
    EXPECT_GE(*total, *query) << line;
    EXPECT_GT(*total, 0) << line;
  }
  EXPECT_EQ(timing_lines, 2) << shell.err;
  EXPECT_THAT(shell.err, HasSubstr("3 rows, "));
}

TEST_F(KqEndToEnd, TalksToKqdOverTls) {
  ASSERT_TRUE(testing::MakeCertificates(dir_.path().string()));
  auto cert = [&](const char* name) { return dir_.Sub(name); };
  std::string address = StartKqd({"--grpc-tls-cert", cert("server.pem"), "--grpc-tls-key",
                                  cert("server.key"), "--grpc-tls-client-ca", cert("ca.pem")});
  ASSERT_FALSE(address.empty());
  const std::string query = "events | count";
  // Trusting kqd and presenting a client certificate signed by its CA: answered.
  ProcessResult ok =
      Kq({"--server", address, "--tls-ca", cert("ca.pem"), "--tls-cert", cert("client.pem"),
          "--tls-key", cert("client.key"), "query", "--format", "csv", query});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "Count\n0\n");
  // Plain gRPC, no client certificate, or an untrusted one: refused, and said so.
  EXPECT_EQ(Kq({"--server", address, "query", query}).exit_code, 3);
  EXPECT_NE(Kq({"--server", address, "--tls-ca", cert("ca.pem"), "query", query}).exit_code, 0);
  EXPECT_NE(Kq({"--server", address, "--tls-ca", cert("ca.pem"), "--tls-cert", cert("rogue.pem"),
                "--tls-key", cert("rogue.key"), "query", query})
                .exit_code,
            0);
  ProcessResult missing = Kq({"--server", address, "--tls-ca", cert("nope.pem"), "query", query});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot read --tls-ca file"));
  // A context carries the TLS files.
  ASSERT_EQ(Kq({"config", "set-context", "secure", "--server", address, "--tls-ca", cert("ca.pem"),
                "--tls-cert", cert("client.pem"), "--tls-key", cert("client.key")})
                .exit_code,
            0);
  ProcessResult via_context = Kq({"--context", "secure", "query", "--format", "csv", query});
  EXPECT_EQ(via_context.exit_code, 0) << via_context.err;
  EXPECT_EQ(via_context.out, "Count\n0\n");
}

// The value of "key" (a string) in an event's JSON text as the generator writes it.
std::string FieldOf(const std::string& json, const std::string& key) {
  std::string quoted = absl::StrCat("\"", key, "\":\"");
  size_t at = json.find(quoted);
  if (at == std::string::npos) return "";
  size_t start = at + quoted.size();
  return json.substr(start, json.find('"', start) - start);
}

TEST_F(KqEndToEnd, ImportIntoKqdAppliesTheImportScopePolicyAndStatsCountPerRule) {
  std::string policy = dir_.Sub("import-policy.yaml");
  testing::WriteFileOrDie(policy,
                          "apiVersion: audit.k8s.io/v1\n"
                          "kind: Policy\n"
                          "rules:\n"
                          "  - level: None\n"
                          "    verbs: [get, list, watch]\n"
                          "  - level: Metadata\n");
  // What the policy does to the generated events, worked out here from the rules above: reads
  // are dropped; Request and RequestResponse events are lowered to Metadata; Metadata ones kept.
  uint64_t dropped = 0, reduced = 0, kept = 0;
  for (const std::string& line : Lines(testing::ReadFileOrDie(events_file_))) {
    std::string verb = FieldOf(line, "verb"), level = FieldOf(line, "level");
    if (verb == "get" || verb == "list" || verb == "watch") {
      ++dropped;
    } else if (level == "Metadata") {
      ++kept;
    } else {
      ++reduced;
    }
  }
  ASSERT_GT(dropped, 0u);
  ASSERT_GT(reduced, 0u);
  ASSERT_GT(kept, 0u);

  std::string address = StartKqd({"--audit-policies", "prod/import=" + policy});
  ASSERT_FALSE(address.empty());
  ProcessResult import =
      Kq({"--server", address, "import", "--env", "prod", "--cluster", "east", events_file_});
  ASSERT_EQ(import.exit_code, 0) << import.err;

  ProcessResult json = Kq({"--server", address, "stats", "--env", "prod", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr(absl::StrCat(
                            "\"source\":\"import\",\"cluster\":\"\",\"policy\":\"", policy,
                            "\",\"rule\":0,\"line\":4,\"level\":\"None\",\"dropped\":", dropped,
                            ",\"reduced\":0,\"kept\":0}")));
  EXPECT_THAT(json.out, HasSubstr(absl::StrCat("\"rule\":1,\"line\":6,\"level\":\"Metadata\","
                                               "\"dropped\":0,\"reduced\":",
                                               reduced, ",\"kept\":", kept, "}")));
  EXPECT_THAT(json.out, HasSubstr("\"rule\":null,\"line\":0,\"level\":\"None\",\"dropped\":0,"
                                  "\"reduced\":0,\"kept\":0}"));
  ProcessResult table = Kq({"--server", address, "stats", "--env", "prod"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("audit policy at ingest, prod/import: " + policy));

  ProcessResult count =
      Kq({"--server", address, "query", "--format", "csv", "events | summarize n = count()"});
  ASSERT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, absl::StrCat("n\n", reduced + kept, "\n"));
}

}  // namespace
}  // namespace kq
