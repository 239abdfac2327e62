// The ingest pipeline against a real store: a large JSON lines text (an import chunk) is
// decoded and stored a part at a time through one AppendStream, and must come out as the same
// text in small pieces does through the AppendCombiner: same events, duplicates skipped,
// bad lines quarantined with their file line numbers, tail streams fed once stored.
#include "server/ingest_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "absl/strings/str_cat.h"
#include "server/metrics.h"
#include "server/tail_hub.h"
#include "storage/store.h"
#include "tests/server/test_events.h"
#include "tests/storage/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::testing::HasSubstr;

// 3,000 events over three namespaces and a minute each, one line each, with a duplicate of
// line 10 at line 2,001, a malformed line at line 700, a blank line, and a last line without
// its newline. About 1.5 MB: more than the pipeline stores in one stream part (64 events)
// and above its streaming threshold (1 MiB).
std::vector<std::string> TextLines() {
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) {
    lines.push_back(testing::MakeEventJson(absl::StrCat("s-", i), i % 60,
                                           absl::StrCat("team-", i % 3), i % 2 ? "get" : "list"));
  }
  lines.insert(lines.begin() + 2000, lines[9]);
  lines[699] = R"({"level":"Metadata","auditID":)";
  lines.insert(lines.begin() + 1500, "");
  return lines;
}

std::string Join(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string text;
  for (size_t i = from; i < to; ++i) text += lines[i] + "\n";
  return text;
}

// The stored events' JSON, as a multiset.
std::multiset<std::string> StoredJsons(storage::Environment* env) {
  std::multiset<std::string> out;
  for (const auto& row : testing::ScanAll(env->NewReader().get(), storage::ScanRange())) {
    out.insert(row.json);
  }
  return out;
}

TEST(IngestPipelineTest, ALargeLinesTextIsStoredAsItsSmallPiecesAre) {
  testing::TempDir dir;
  storage::StoreOptions options;
  options.data_dir = dir.Sub("data");
  options.memory_budget_bytes = 32ull << 20;
  options.durability = storage::Durability::kBuffered;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::Store> store, storage::Store::Open(options));
  Metrics metrics;
  TailHub hub;
  std::atomic<uint64_t> published{0};
  hub.Subscribe([&](std::string_view env, std::span<const storage::Event> events) {
    for (const storage::Event& e : events) {
      EXPECT_EQ(e.env, env);
      EXPECT_EQ(e.cluster, "c9");
      EXPECT_THAT(e.audit_id, ::testing::StartsWith("s-"));
    }
    if (env == "prod") published += events.size();
  });
  IngestPipeline pipeline(store.get(), &metrics, &hub, 4);

  const std::vector<std::string> lines = TextLines();
  std::string text = Join(lines, 0, lines.size());
  text.pop_back();  // the last line without its newline
  ASSERT_GT(text.size(), 1u << 20);
  IngestStats stats;
  ASSERT_OK(pipeline.IngestText("prod", "c9", "import:a.log", "import", text, TextKind::kLines, 11,
                                &stats));
  EXPECT_EQ(stats.decoded, 3000u);
  EXPECT_EQ(stats.stored, 2999u);  // 3,000 distinct events, one line malformed
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.quarantined, 1u);
  EXPECT_EQ(published.load(), 3000u);
  ASSERT_OK_AND_ASSIGN(std::vector<storage::QuarantineRecord> quarantined,
                       store->Find("prod")->ListQuarantine(10));
  ASSERT_EQ(quarantined.size(), 1u);
  EXPECT_EQ(quarantined[0].source, "import:a.log line 710");  // line 700 of a text from line 11
  EXPECT_EQ(quarantined[0].payload, lines[699]);
  EXPECT_THAT(quarantined[0].reason, HasSubstr("line 700"));

  // The same lines in pieces below the threshold, into dev.
  IngestStats small;
  for (size_t from = 0; from < lines.size(); from += 500) {
    std::string piece = Join(lines, from, std::min(lines.size(), from + 500));
    ASSERT_LT(piece.size(), 1u << 20);
    ASSERT_OK(pipeline.IngestText("dev", "c9", "import:a.log", "import", piece, TextKind::kLines,
                                  11 + from, &small));
  }
  EXPECT_EQ(small.stored, stats.stored);
  EXPECT_EQ(small.duplicates, stats.duplicates);
  const std::multiset<std::string> prod = StoredJsons(store->Find("prod"));
  EXPECT_EQ(prod.size(), 2999u);
  EXPECT_TRUE(prod == StoredJsons(store->Find("dev")));
}

}  // namespace
}  // namespace kq::server
