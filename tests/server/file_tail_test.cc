// The file-tail source against real files and a real store: appends, partial lines, lumberjack
// rename rotation, copytruncate, rotated .gz, and restarts from the checkpoint.
#include "server/file_tail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "server/metrics.h"
#include "server/tail_hub.h"
#include "storage/store.h"
#include "tests/server/stored_ids.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

namespace fs = std::filesystem;

class FileTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    options.memory_budget_bytes = 32ull << 20;
    options.durability = storage::Durability::kBuffered;
    ASSERT_OK_AND_ASSIGN(store_, storage::Store::Open(options));
    pipeline_ = std::make_unique<IngestPipeline>(store_.get(), &metrics_, &hub_, 4);
    fs::create_directories(dir_.Sub("log"));
  }

  std::unique_ptr<FileTailer> NewTailer(const std::string& glob) {
    FileTailOptions o;
    o.sources = {{"prod", "c1", dir_.Sub("log") + "/" + glob}};
    o.checkpoint_path = dir_.Sub("checkpoint");
    o.chunk_bytes = 2000;  // several chunks per file
    auto t = std::make_unique<FileTailer>(o, pipeline_.get());
    EXPECT_OK(t->Load());
    return t;
  }

  std::string Log(const std::string& name) { return dir_.Sub("log") + "/" + name; }

  // Appends events "<prefix>-<from>".."<prefix>-<to-1>", one per line.
  void Append(const std::string& name, const std::string& prefix, int from, int to) {
    std::ofstream out(Log(name), std::ios::app);
    for (int i = from; i < to; ++i) {
      out << testing::MakeEventJson(absl::StrCat(prefix, "-", i), i % 60) << "\n";
    }
  }

  // auditID -> times stored in prod.
  std::map<std::string, int> Stored() { return testing::StoredIdCounts(store_->Find("prod")); }

  void ExpectExactlyOnce(const std::string& prefix, int n) {
    std::map<std::string, int> ids = Stored();
    int found = 0;
    for (int i = 0; i < n; ++i) {
      auto it = ids.find(absl::StrCat(prefix, "-", i));
      if (it != ids.end()) {
        EXPECT_EQ(it->second, 1) << it->first;
        found++;
      }
    }
    EXPECT_EQ(found, n) << prefix;
  }

  testing::TempDir dir_;
  Metrics metrics_;
  TailHub hub_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<IngestPipeline> pipeline_;
};

TEST_F(FileTailTest, AppendsAndAPartialLastLineWaitsForItsNewline) {
  auto tailer = NewTailer("audit.log");
  Append("audit.log", "a", 0, 3);
  std::string partial = testing::MakeEventJson("a-3", 3);
  {
    std::ofstream out(Log("audit.log"), std::ios::app);
    out << partial.substr(0, 100);
  }
  ASSERT_OK(tailer->PollOnce());
  EXPECT_EQ(tailer->lines_read(), 3u);
  EXPECT_EQ(Stored().size(), 3u);
  {
    std::ofstream out(Log("audit.log"), std::ios::app);
    out << partial.substr(100) << "\n";
  }
  Append("audit.log", "a", 4, 30);
  ASSERT_OK(tailer->PollOnce());
  EXPECT_EQ(tailer->lines_read(), 30u);
  ExpectExactlyOnce("a", 30);
  // Nothing was quarantined: the half line was never sent on its own.
  auto q = store_->Find("prod")->ListQuarantine(10);
  ASSERT_OK(q.status());
  EXPECT_TRUE(q->empty());
}

TEST_F(FileTailTest, LumberjackRenameRotationLosesNothing) {
  auto tailer = NewTailer("audit.log");  // the rotated name is not matched by the glob
  Append("audit.log", "r", 0, 10);
  ASSERT_OK(tailer->PollOnce());
  Append("audit.log", "r", 10, 15);  // written before rotation, not yet read
  fs::rename(Log("audit.log"), Log("audit-2024-05-01T10-00-00.000.log"));
  Append("audit.log", "r", 15, 20);
  ASSERT_OK(tailer->PollOnce());
  ASSERT_OK(tailer->PollOnce());
  EXPECT_EQ(tailer->lines_read(), 20u);
  ExpectExactlyOnce("r", 20);
}

TEST_F(FileTailTest, CopyTruncateRotation) {
  auto tailer = NewTailer("audit.log*");
  Append("audit.log", "c", 0, 10);
  ASSERT_OK(tailer->PollOnce());
  Append("audit.log", "c", 10, 14);
  fs::copy_file(Log("audit.log"), Log("audit.log.1"));
  fs::resize_file(Log("audit.log"), 0);
  Append("audit.log", "c", 14, 20);
  ASSERT_OK(tailer->PollOnce());
  ASSERT_OK(tailer->PollOnce());
  EXPECT_EQ(tailer->lines_read(), 20u);
  ExpectExactlyOnce("c", 20);
}

TEST_F(FileTailTest, RestartResumesFromTheCheckpointThroughARotatedGzip) {
  {
    auto tailer = NewTailer("audit*");
    Append("audit.log", "g", 0, 10);
    ASSERT_OK(tailer->PollOnce());
    EXPECT_EQ(tailer->lines_read(), 10u);
  }
  // While kqd is down: more lines, rotation, compression of the backup, a new file.
  Append("audit.log", "g", 10, 16);
  fs::rename(Log("audit.log"), Log("audit-2024-05-01T10-00-00.000.log"));
  auto r = testing::RunProcess(
      {"/bin/sh", "-c", "gzip -q '" + Log("audit-2024-05-01T10-00-00.000.log") + "'"});
  ASSERT_EQ(r.exit_code, 0);
  Append("audit.log", "g", 16, 20);
  auto tailer = NewTailer("audit*");
  ASSERT_OK(tailer->PollOnce());
  ASSERT_OK(tailer->PollOnce());
  // Only what was not read before the restart is read again.
  EXPECT_EQ(tailer->lines_read(), 10u);
  ExpectExactlyOnce("g", 20);
}

TEST_F(FileTailTest, RestartWithoutRotationRereadsNothing) {
  {
    auto tailer = NewTailer("audit.log");
    Append("audit.log", "s", 0, 7);
    ASSERT_OK(tailer->PollOnce());
  }
  Append("audit.log", "s", 7, 9);
  auto tailer = NewTailer("audit.log");
  ASSERT_OK(tailer->PollOnce());
  EXPECT_EQ(tailer->lines_read(), 2u);
  ExpectExactlyOnce("s", 9);
}

TEST_F(FileTailTest, BadLinesAreQuarantinedWithFileAndLine) {
  auto tailer = NewTailer("audit.log");
  Append("audit.log", "q", 0, 2);
  {
    std::ofstream out(Log("audit.log"), std::ios::app);
    out << "{\"truncated\":\n";
  }
  Append("audit.log", "q", 2, 4);
  ASSERT_OK(tailer->PollOnce());
  ExpectExactlyOnce("q", 4);
  auto q = store_->Find("prod")->ListQuarantine(10);
  ASSERT_OK(q.status());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].source, "file:" + Log("audit.log") + " line 3");
}

TEST_F(FileTailTest, LargeAppendIsStoredInParallelPartsWithTheirOwnLineNumbers) {
  FileTailOptions o;
  o.sources = {{"prod", "c1", Log("audit.log")}};
  o.checkpoint_path = dir_.Sub("checkpoint");
  o.chunk_bytes = 1u << 20;
  o.parallel = 4;
  FileTailer tailer(o, pipeline_.get());
  ASSERT_OK(tailer.Load());
  // About 2.4 MB: four parts of at least 256 KiB. A bad line at line 3001 is in a later part.
  Append("audit.log", "p", 0, 3000);
  {
    std::ofstream out(Log("audit.log"), std::ios::app);
    out << "{\"truncated\":\n";
  }
  Append("audit.log", "p", 3000, 6000);
  ASSERT_GT(std::filesystem::file_size(Log("audit.log")), 4u * (256u << 10));
  // Every pipeline slot taken: nothing is read. One slot taken: three parts at a time.
  std::vector<IngestPipeline::Ticket> held;
  for (int i = 0; i < 4; ++i) held.push_back(pipeline_->TryAdmit());
  ASSERT_OK(tailer.PollOnce());
  EXPECT_EQ(tailer.lines_read(), 0u);
  held.resize(1);
  ASSERT_OK(tailer.PollOnce());
  EXPECT_EQ(tailer.lines_read(), 6001u);
  ExpectExactlyOnce("p", 6000);
  auto q = store_->Find("prod")->ListQuarantine(10);
  ASSERT_OK(q.status());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].source, "file:" + Log("audit.log") + " line 3001");
}

TEST_F(FileTailTest, CorruptCheckpointIsRefused) {
  testing::WriteFileOrDie(dir_.Sub("checkpoint"), "something else\n");
  FileTailOptions o;
  o.sources = {{"prod", "c1", Log("audit.log")}};
  o.checkpoint_path = dir_.Sub("checkpoint");
  FileTailer t(o, pipeline_.get());
  EXPECT_THAT(t.Load(),
              testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("checkpoint")));
}

}  // namespace
}  // namespace kq::server
