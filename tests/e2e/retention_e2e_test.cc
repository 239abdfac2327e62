// End to end: retention tiers, legal holds and archives through the real kq and kqd binaries,
// embedded (kq --data) and over gRPC (kq --server), on events generated months in the past.
//
// Expected counts come from the query engine over the store before retention runs (not from
// the retention code): a (day, namespace) is archived when the whole UTC day is older than the
// warm age (prod default 90d), so exactly the events before floor_day(now) - 90d leave the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/time.h"
#include "tests/e2e/e2e_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::RunProcess;

using testing::AuditIdOf;
using testing::Bin;
using testing::Lines;

class RetentionEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    events_file_ = dir_.Sub("events.jsonl");
    // About 150 days of traffic ending about 10 days ago: every tier boundary is crossed.
    ProcessResult gen =
        RunProcess({Bin("kq"), "gen", "--events", "3000", "--seed", "7", "--start", "now-150d",
                    "--rate", "0.00025", "--cluster", "east", "--output", events_file_});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    TimeMicros now = Clock::Real()->Now();
    archive_before_ = now - now % kMicrosPerDay - 90 * kMicrosPerDay;
  }

  ProcessResult Kq(std::vector<std::string> args) {
    args.insert(args.begin(), target_.begin(), target_.end());
    args.insert(args.begin(), Bin("kq"));
    return RunProcess(args, "", {{"KQ_CONFIG", dir_.Sub("kq-config.yaml")}});
  }

  // The single number a `summarize n = count()` query returns.
  int64_t Count(const std::string& where, const std::string& env = "prod") {
    ProcessResult r = Kq({"query", "--env", env, "--format", "csv",
                          absl::StrCat("events ", where, " | summarize n = count()")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = Lines(r.out);
    int64_t n = -1;
    if (lines.size() != 2 || !absl::SimpleAtoi(lines[1], &n)) {
      ADD_FAILURE() << "unexpected count output: " << r.out;
    }
    return n;
  }

  std::string Before() const {
    return absl::StrCat("| where time < datetime(", FormatTimestamp(archive_before_), ")");
  }

  // Every archived part of prod (decompressed with the zstd CLI when compressed).
  std::vector<std::string> ArchivedLines(std::vector<std::string>* files) {
    std::vector<std::string> lines;
    fs::path root = fs::path(data_) / "archive" / "prod";
    if (!fs::exists(root)) return lines;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      std::string name = entry.path().filename().string();
      if (!entry.is_regular_file() || name.rfind("part-", 0) != 0) continue;
      files->push_back(entry.path().string());
      std::string text;
      if (entry.path().extension() == ".zst") {
        ProcessResult z = RunProcess({"/usr/bin/zstd", "-dc", entry.path().string()});
        EXPECT_EQ(z.exit_code, 0) << z.err;
        text = z.out;
      } else {
        text = testing::ReadFileOrDie(entry.path().string());
      }
      for (auto& line : Lines(text)) lines.push_back(std::move(line));
    }
    return lines;
  }

  // Waits for kqd to be ready and points target_ at its gRPC address.
  bool Serve(ChildProcess& kqd) {
    std::optional<std::string> ready = kqd.WaitForStderrLine("kqd ready", std::chrono::seconds(60));
    EXPECT_TRUE(ready.has_value()) << kqd.Stderr();
    if (!ready) return false;
    size_t at = ready->find("grpc=");
    target_ = {"--server", ready->substr(at + 5, ready->find(' ', at) - at - 5)};
    return true;
  }

  // The whole story, against whichever target_ names (--data or --server).
  void Scenario() {
    ProcessResult imported = Kq({"import", "--env", "prod", "--cluster", "east", events_file_});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    const int64_t total = Count("");
    ASSERT_GT(total, 1000);

    // Hold the second busiest namespace for all time.
    ProcessResult top = Kq({"query", "--format", "csv",
                            "events | where ns != \"\" | summarize n = count() by ns | sort by n "
                            "desc | take 2"});
    ASSERT_EQ(top.exit_code, 0) << top.err;
    std::vector<std::string> rows = Lines(top.out);
    ASSERT_EQ(rows.size(), 3u) << top.out;
    const std::string held = rows[2].substr(0, rows[2].find(','));
    const std::string held_where = absl::StrCat("| where ns == \"", held, "\"");
    const int64_t held_count = Count(held_where);
    const int64_t to_archive = Count(absl::StrCat(Before(), " and ns != \"", held, "\""));
    ASSERT_GT(held_count, 0);
    ASSERT_GT(to_archive, 100);

    ProcessResult hold = Kq({"hold", "add", "--env", "prod", "--ns", held, "--from", "2000-01-01",
                             "--to", "2100-01-01", "--reason", "case 4711"});
    ASSERT_EQ(hold.exit_code, 0) << hold.err;
    EXPECT_THAT(hold.out, HasSubstr("hold 1 added on prod"));
    ProcessResult holds = Kq({"hold", "list"});
    EXPECT_THAT(holds.out, HasSubstr("case 4711"));
    EXPECT_THAT(holds.out, HasSubstr(held));

    ProcessResult plan = Kq({"retention", "plan", "--env", "prod"});
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    EXPECT_THAT(plan.out, HasSubstr("archive"));
    EXPECT_THAT(plan.out, HasSubstr("drop-bodies"));
    EXPECT_THAT(plan.out, HasSubstr(absl::StrCat(" ", held, " (archive kept back)")));
    ProcessResult plan_json = Kq({"retention", "plan", "--env", "prod", "--format", "json"});
    ASSERT_EQ(plan_json.exit_code, 0) << plan_json.err;
    EXPECT_THAT(plan_json.out, HasSubstr("\"action\": \"archive\""));
    EXPECT_EQ(Count(""), total) << "a plan changes nothing";

    ProcessResult run = Kq({"retention", "run", "--env", "prod"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_THAT(run.out, HasSubstr("steps done"));

    // Older than warm: gone from the store, except the held namespace.
    EXPECT_EQ(Count(absl::StrCat(Before(), " and ns != \"", held, "\"")), 0);
    EXPECT_EQ(Count(held_where), held_count);
    EXPECT_EQ(Count(""), total - to_archive);

    // The archive holds exactly what left, readable without kq.
    std::vector<std::string> files;
    std::vector<std::string> archived = ArchivedLines(&files);
    ASSERT_FALSE(files.empty());
    EXPECT_EQ(static_cast<int64_t>(archived.size()), to_archive);
    for (const std::string& line : archived) {
      ASSERT_FALSE(AuditIdOf(line).empty()) << line;
      ASSERT_THAT(line, Not(HasSubstr(absl::StrCat("\"namespace\":\"", held, "\""))));
    }
    // zstdcat | jq, as docs/retention.md shows (plain parts go through cat).
    std::string reader = fs::path(files[0]).extension() == ".zst" ? "zstdcat" : "cat";
    ProcessResult jq =
        RunProcess({"/bin/sh", "-c", absl::StrCat(reader, " '", files[0], "' | jq -r .auditID")});
    EXPECT_EQ(jq.exit_code, 0) << jq.err;
    ASSERT_FALSE(Lines(jq.out).empty()) << jq.err;
    for (const std::string& id : Lines(jq.out)) EXPECT_EQ(id.size(), 36u) << id;

    ProcessResult log = Kq({"retention", "log", "--env", "prod"});
    ASSERT_EQ(log.exit_code, 0) << log.err;
    EXPECT_THAT(log.out, HasSubstr("hold-add"));
    EXPECT_THAT(log.out, HasSubstr("archive"));
    EXPECT_THAT(log.out, HasSubstr("drop-bodies"));
    EXPECT_THAT(log.out, HasSubstr("sha256:"));

    // The cost report, as configured and under a proposed policy.
    std::string policy = dir_.Sub("longer.yaml");
    std::ofstream(policy) << "prod: {hot: 14d, warm: 180d, archive: 730d}\n";
    ProcessResult report = Kq({"retention", "report", "--env", "prod", "--policy", policy});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    EXPECT_THAT(report.out, HasSubstr(absl::StrCat("with ", policy, ":")));
    EXPECT_THAT(report.out, HasSubstr(held));
    ProcessResult report_json =
        Kq({"retention", "report", "--env", "prod", "--policy", policy, "--format", "json"});
    ASSERT_EQ(report_json.exit_code, 0) << report_json.err;
    EXPECT_THAT(report_json.out, HasSubstr("\"proposed\""));
    EXPECT_THAT(report_json.out, HasSubstr("hot 14d, warm 180d, archive until 730d"));
    std::ofstream(policy) << "prod: {hot: 14d, warm: 7d}\n";
    report = Kq({"retention", "report", "--env", "prod", "--policy", policy});
    EXPECT_EQ(report.exit_code, 1);
    EXPECT_THAT(report.err, HasSubstr("shorter than hot"));

    ProcessResult list = Kq({"archive", "list", "--env", "prod"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_THAT(list.out, HasSubstr("date"));

    // Restore brings the archived events back, into the restored area.
    ProcessResult restore =
        Kq({"archive", "restore", "--env", "prod", "--from", "2000-01-01", "--to", "2100-01-01"});
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_THAT(restore.out, HasSubstr(absl::StrCat(to_archive,
                                                    " events restored into "
                                                    "prod-restored")));
    EXPECT_EQ(Count("", "prod-restored"), to_archive);

    // Archived ranges answer queries without a restore, embedded and through kqd alike.
    ProcessResult archived_count =
        Kq({"query", "--format", "csv", "archive(\"prod\") | summarize n = count()"});
    ASSERT_EQ(archived_count.exit_code, 0) << archived_count.err;
    EXPECT_EQ(archived_count.out, absl::StrCat("n\n", to_archive, "\n"));

    ProcessResult verify = Kq({"archive", "verify", "--env", "prod"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr(": ok"));
    {
      std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(10);
      char c = 0;
      f.get(c);
      f.seekp(10);
      f.put(static_cast<char>(c ^ 0x01));
    }
    verify = Kq({"archive", "verify", "--env", "prod"});
    EXPECT_EQ(verify.exit_code, 1) << verify.out;
    EXPECT_THAT(verify.out, HasSubstr("sha256 mismatch"));
    EXPECT_THAT(verify.out, HasSubstr(fs::path(files[0]).filename().string()));

    ProcessResult release = Kq({"hold", "release", "--env", "prod", "1"});
    ASSERT_EQ(release.exit_code, 0) << release.err;
    holds = Kq({"hold", "list"});
    EXPECT_THAT(holds.out, Not(HasSubstr("case 4711")));
    log = Kq({"retention", "log", "--env", "prod"});
    EXPECT_THAT(log.out, HasSubstr("hold-release"));
    ProcessResult again = Kq({"hold", "release", "--env", "prod", "1"});
    EXPECT_EQ(again.exit_code, 1);
  }

  testing::TempDir dir_;
  std::string data_, events_file_;
  TimeMicros archive_before_ = 0;
  std::vector<std::string> target_;
};

TEST_F(RetentionEndToEnd, EmbeddedPlanRunHoldArchiveRestore) {
  target_ = {"--data", data_};
  Scenario();
}

TEST_F(RetentionEndToEnd, OverGrpcAgainstKqd) {
  ChildProcess kqd({Bin("kqd"), "--data", data_, "--grpc-listen", "127.0.0.1:0", "--http-listen",
                    "127.0.0.1:0", "--environment", "prod", "--environment", "dev", "--environment",
                    "prod-restored", "--retention-interval", "30d"},
                   dir_.path().string());
  ASSERT_TRUE(Serve(kqd));
  Scenario();
  // Restoring needs a configured restored area in kqd.
  ProcessResult dev =
      Kq({"archive", "restore", "--env", "dev", "--from", "2000-01-01", "--to", "2100-01-01"});
  EXPECT_EQ(dev.exit_code, 1);
  EXPECT_THAT(dev.err, HasSubstr("dev-restored"));
}

// kqd killed (SIGKILL) in the middle of a retention run, at its most delicate point: the third
// archive step has committed its part but not deleted the range from the store (kqd's
// KQ_TEST_RETENTION_PAUSE hook blocks there). Restarted, the next run finishes the job: every
// event is in exactly one place, the trail records each archived (day, namespace) once, and the
// archive verifies.
TEST_F(RetentionEndToEnd, KqdKilledMidRunIsFinishedByTheNextRun) {
  target_ = {"--data", data_};
  ProcessResult imported = Kq({"import", "--env", "prod", "--cluster", "east", events_file_});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const int64_t total = Count("");
  const int64_t to_archive = Count(Before());
  ASSERT_GT(to_archive, 100);
  const std::vector<std::string> kqd_args = {
      Bin("kqd"),    "--data",        data_,         "--grpc-listen",
      "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--retention-interval",
      "30d"};

  {
    fs::create_directories(dir_.Sub("kqd-killed"));
    fs::create_directories(dir_.Sub("run-killed"));
    ChildProcess kqd(kqd_args, dir_.Sub("kqd-killed"), {{"KQ_TEST_RETENTION_PAUSE", "3"}});
    ASSERT_TRUE(Serve(kqd));
    std::vector<std::string> run_args = {Bin("kq"), target_[0], target_[1], "retention",
                                         "run",     "--env",    "prod"};
    ChildProcess run(run_args, dir_.Sub("run-killed"), {{"KQ_CONFIG", dir_.Sub("kq-config.yaml")}});
    ASSERT_TRUE(kqd.WaitForStderrLine("retention paused", std::chrono::seconds(120)).has_value())
        << kqd.Stderr();
    kqd.Signal(SIGKILL);
    EXPECT_EQ(kqd.Wait(), 128 + SIGKILL);
    EXPECT_NE(run.Wait(), 0) << "the client saw its server die";
  }
  // Killed between the part's commit and the deletion: that day is in both places for now.
  target_ = {"--data", data_};
  EXPECT_TRUE(fs::exists(data_ + "/prod/retention/intent.json"));
  std::vector<std::string> files;
  const int64_t archived_at_kill = static_cast<int64_t>(ArchivedLines(&files).size());
  EXPECT_GT(archived_at_kill, 0);
  EXPECT_LT(archived_at_kill, to_archive);
  EXPECT_GT(Count("") + archived_at_kill, total);

  fs::create_directories(dir_.Sub("kqd-restarted"));
  ChildProcess kqd(kqd_args, dir_.Sub("kqd-restarted"));
  ASSERT_TRUE(Serve(kqd));
  ProcessResult run = Kq({"retention", "run", "--env", "prod"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("resumed from an interrupted run"));
  EXPECT_THAT(run.out, Not(HasSubstr(" 0 resumed")));

  // Every event in exactly one place: the store keeps what is younger than warm, the archive
  // holds each older event once.
  EXPECT_EQ(Count(Before()), 0);
  EXPECT_EQ(Count(""), total - to_archive);
  files.clear();
  std::vector<std::string> archived = ArchivedLines(&files);
  EXPECT_EQ(static_cast<int64_t>(archived.size()), to_archive);
  EXPECT_EQ(std::set<std::string>(archived.begin(), archived.end()).size(), archived.size());
  EXPECT_FALSE(fs::exists(data_ + "/prod/retention/intent.json"));

  // The trail: one archive record per archived (day, namespace), the interrupted one included.
  std::set<std::string> partitions;
  for (const std::string& f : files) partitions.insert(fs::path(f).parent_path().string());
  ProcessResult log = Kq({"retention", "log", "--env", "prod"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::set<std::pair<std::string, std::string>> archive_records;
  size_t archive_lines = 0;
  for (const std::string& line : Lines(log.out)) {
    std::vector<std::string> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cells.size() < 7 || cells[2] != "archive") continue;
    ++archive_lines;
    archive_records.insert({cells[4], cells[6]});
  }
  EXPECT_EQ(archive_lines, partitions.size()) << log.out;
  EXPECT_EQ(archive_records.size(), partitions.size());

  ProcessResult verify = Kq({"archive", "verify", "--env", "prod"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr(": ok"));
}

TEST_F(RetentionEndToEnd, EmbeddedTakesTheKqdConfigsRetention) {
  target_ = {"--data", data_};
  std::string config = dir_.Sub("kqd.yaml");
  std::ofstream(config) << "retention:\n  prod: {hot: 1d, warm: 2d, archive: 3d}\n";
  ProcessResult plan = Kq({"retention", "plan", "--env", "prod", "--kqd-config", config});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("prod: hot 1d, warm 2d, archive until 3d"));
  plan = Kq({"retention", "plan", "--env", "prod"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("prod: hot 7d, warm 90d, archive until 400d"));
  std::ofstream(config) << "retention:\n  prod: {hot: 7d, warm: 5d}\n";
  plan = Kq({"retention", "plan", "--env", "prod", "--kqd-config", config});
  EXPECT_EQ(plan.exit_code, 1);
  EXPECT_THAT(plan.err, HasSubstr("kqd.yaml:2:"));
}

TEST_F(RetentionEndToEnd, BadArgumentsAreUsageErrors) {
  target_ = {"--data", data_};
  ProcessResult r = Kq({"hold", "add", "--env", "prod", "--from", "yesterday", "--to", "2026-01-01",
                        "--reason", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from"));
  r = Kq({"retention", "plan", "--env", "nosuch"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nosuch"));
  r = Kq({"hold", "add", "--env", "prod", "--from", "2026-02-01", "--to", "2026-01-01", "--reason",
          "x"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

}  // namespace
}  // namespace kq
