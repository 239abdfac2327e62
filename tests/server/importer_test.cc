#include "server/importer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::kq::testing::StatusIs;

struct Captured {
  std::string text;
  TextKind kind;
  uint64_t first_line;
  std::string source;
};

// Records the chunks the importer hands out (the store is exercised by the live tests).
ImportSink Capture(std::vector<Captured>* out) {
  return [out](const ImportChunk& c, IngestStats* stats) {
    out->push_back({std::string(c.text), c.kind, c.first_line, c.source});
    stats->decoded += static_cast<uint64_t>(std::count(c.text.begin(), c.text.end(), '\n'));
    return absl::OkStatus();
  };
}

TEST(ImporterTest, JsonLinesAreCutAtLineBoundariesWithFileLineNumbers) {
  testing::TempDir dir;
  std::vector<std::string> lines = testing::MakeEvents("imp", 500);
  std::string text = absl::StrJoin(lines, "\n") + "\n";
  testing::WriteFileOrDie(dir.Sub("a.jsonl"), text);
  std::vector<Captured> chunks;
  std::vector<ImportProgress> progress;
  ImportOptions options;
  options.chunk_bytes = 10000;  // each event is ~450 bytes: many chunks
  ASSERT_OK_AND_ASSIGN(IngestStats stats,
                       ImportFile(
                           dir.Sub("a.jsonl"), Capture(&chunks),
                           [&](const ImportProgress& p) { progress.push_back(p); }, options));
  EXPECT_EQ(stats.decoded, 500u);
  ASSERT_GT(chunks.size(), 5u);
  std::string joined;
  uint64_t expected_line = 1;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.kind, TextKind::kLines);
    EXPECT_EQ(c.first_line, expected_line);
    EXPECT_EQ(c.text.back(), '\n');
    EXPECT_EQ(c.source, "import:" + dir.Sub("a.jsonl"));
    // The first line of each chunk is line `first_line` of the file.
    EXPECT_EQ(c.text.substr(0, c.text.find('\n')), lines[c.first_line - 1]);
    expected_line += std::count(c.text.begin(), c.text.end(), '\n');
    joined += c.text;
  }
  EXPECT_EQ(joined, text);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().bytes_done, text.size());
  EXPECT_EQ(progress.back().bytes_total, text.size());
  EXPECT_EQ(progress.back().events, 500u);
}

// Lines longer than a chunk among short ones, with chunk buffers reused from chunk to chunk:
// every chunk is whole lines, and together they are the file.
TEST(ImporterTest, LinesLongerThanAChunkAndReusedBuffers) {
  testing::TempDir dir;
  std::vector<std::string> lines = testing::MakeEvents("long", 60);
  for (size_t i = 3; i < lines.size(); i += 7) {  // not the first: it tells lines from a document
    lines[i].insert(lines[i].size() - 1, absl::StrCat(",\"pad\":\"", std::string(9000, 'x'), "\""));
  }
  const std::string text = absl::StrJoin(lines, "\n") + "\n";
  testing::WriteFileOrDie(dir.Sub("a.jsonl"), text);
  std::vector<Captured> chunks;
  std::mutex mu;
  ImportSink sink = [&](const ImportChunk& c, IngestStats* stats) {
    std::lock_guard<std::mutex> l(mu);
    return Capture(&chunks)(c, stats);
  };
  ImportOptions options;
  options.chunk_bytes = 4096;  // smaller than the long lines
  options.chunks_in_flight = 2;
  ASSERT_OK_AND_ASSIGN(IngestStats stats, ImportFile(dir.Sub("a.jsonl"), sink, nullptr, options));
  EXPECT_EQ(stats.decoded, lines.size());
  ASSERT_GT(chunks.size(), 10u);
  std::sort(chunks.begin(), chunks.end(),
            [](const Captured& a, const Captured& b) { return a.first_line < b.first_line; });
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.text.back(), '\n');
    EXPECT_EQ(c.text.substr(0, c.text.find('\n')), lines[c.first_line - 1]);
    joined += c.text;
  }
  EXPECT_TRUE(joined == text);
}

TEST(ImporterTest, GzipFileAndLastLineWithoutNewline) {
  testing::TempDir dir;
  std::string text = testing::MakeEventJson("g1") + "\n" + testing::MakeEventJson("g2");
  testing::WriteFileOrDie(dir.Sub("b.log"), text);
  auto r = testing::RunProcess({"/bin/sh", "-c", "gzip -q '" + dir.Sub("b.log") + "'"});
  ASSERT_EQ(r.exit_code, 0);
  std::vector<Captured> chunks;
  ASSERT_OK(ImportFile(dir.Sub("b.log.gz"), Capture(&chunks), nullptr).status());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, text);
  EXPECT_EQ(chunks[0].kind, TextKind::kLines);
}

TEST(ImporterTest, EventListDocumentIsOneBody) {
  testing::TempDir dir;
  // Pretty-printed over several lines, as a saved webhook body or `kubectl get -o json` is.
  std::string body = testing::MakeEventList(testing::MakeEvents("el", 3));
  std::string pretty = "{\n  " + body.substr(1);
  testing::WriteFileOrDie(dir.Sub("list.json"), pretty);
  std::vector<Captured> chunks;
  ASSERT_OK(ImportFile(dir.Sub("list.json"), Capture(&chunks), nullptr).status());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].kind, TextKind::kBody);
  EXPECT_EQ(chunks[0].text, pretty);
}

TEST(ImporterTest, OversizedDocumentAndMissingFile) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("big.json"),
                          testing::MakeEventList(testing::MakeEvents("big", 100)));
  std::vector<Captured> chunks;
  ImportOptions options;
  options.max_document_bytes = 1000;
  EXPECT_THAT(ImportFile(dir.Sub("big.json"), Capture(&chunks), nullptr, options),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("JSON lines")));
  EXPECT_THAT(ImportFile(dir.Sub("nope.jsonl"), Capture(&chunks), nullptr),
              StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("nope.jsonl")));
  EXPECT_TRUE(chunks.empty());
}

TEST(ImporterTest, SinkErrorStopsTheImport) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("a.jsonl"), testing::MakeEventJson("x") + "\n");
  ImportSink failing = [](const ImportChunk&, IngestStats*) {
    return absl::UnavailableError("down");
  };
  EXPECT_THAT(ImportFile(dir.Sub("a.jsonl"), failing, nullptr),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("down")));
}

TEST(ImporterTest, ChunksInFlightAreStoredConcurrentlyEachOnceWithTheirLineNumbers) {
  testing::TempDir dir;
  std::vector<std::string> lines = testing::MakeEvents("par", 400);
  testing::WriteFileOrDie(dir.Sub("a.jsonl"), absl::StrJoin(lines, "\n") + "\n");
  std::mutex mu;
  std::map<uint64_t, std::string> by_first_line;
  std::atomic<int> running{0}, most_at_once{0};
  ImportSink sink = [&](const ImportChunk& c, IngestStats* stats) {
    int now = ++running;
    int seen = most_at_once.load();
    while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
    }
    // The first chunk waits (up to 5 s) for another to start: it can only if they overlap.
    for (int i = 0; c.first_line == 1 && running.load() < 2 && i < 500; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    {
      std::lock_guard<std::mutex> l(mu);
      EXPECT_TRUE(by_first_line.emplace(c.first_line, std::string(c.text)).second);
    }
    stats->decoded += static_cast<uint64_t>(std::count(c.text.begin(), c.text.end(), '\n'));
    stats->stored += 1;  // chunks, so the merged total can be checked
    --running;
    return absl::OkStatus();
  };
  ImportOptions options;
  options.chunk_bytes = 8000;
  options.chunks_in_flight = 3;
  ASSERT_OK_AND_ASSIGN(IngestStats stats, ImportFile(dir.Sub("a.jsonl"), sink, nullptr, options));
  EXPECT_GE(most_at_once.load(), 2);
  EXPECT_LE(most_at_once.load(), 3);
  EXPECT_EQ(stats.decoded, 400u);
  EXPECT_EQ(stats.stored, by_first_line.size());
  // In line order the chunks are the file, and each starts at its own line.
  uint64_t expected_line = 1;
  for (const auto& [first_line, text] : by_first_line) {
    EXPECT_EQ(first_line, expected_line);
    EXPECT_EQ(text.substr(0, text.find('\n')), lines[first_line - 1]);
    expected_line += std::count(text.begin(), text.end(), '\n');
  }
  EXPECT_EQ(expected_line, 401u);
}

TEST(ImporterTest, AnErrorWithChunksInFlightIsReturnedAfterTheyFinish) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("a.jsonl"),
                          absl::StrJoin(testing::MakeEvents("err", 300), "\n") + "\n");
  std::atomic<int> calls{0}, running{0};
  ImportSink sink = [&](const ImportChunk& c, IngestStats*) {
    ++running;
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    // Every chunk after the first fails: the second one stops the import.
    if (c.first_line > 1) return absl::DataLossError("disk gone");
    return absl::OkStatus();
  };
  ImportOptions options;
  options.chunk_bytes = 8000;
  options.chunks_in_flight = 2;
  EXPECT_THAT(ImportFile(dir.Sub("a.jsonl"), sink, nullptr, options),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("disk gone")));
  EXPECT_EQ(running.load(), 0);  // nothing still running after the import returned
  EXPECT_LT(calls.load(), 10);   // the import stopped early (the file has about 20 chunks)
}

// The sink runs on at most chunks_in_flight threads for the whole file, not on a new thread per
// chunk, so per-thread state (the store's segment builder, the decoder) is reused.
TEST(ImporterTest, ChunksOfAFileAreStoredOnAtMostChunksInFlightThreads) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("a.jsonl"),
                          absl::StrJoin(testing::MakeEvents("thr", 400), "\n") + "\n");
  std::atomic<int> calls{0}, threads{0};
  ImportSink sink = [&](const ImportChunk&, IngestStats*) {
    thread_local bool counted = false;  // fresh on every new thread, whatever its id
    if (!counted) {
      counted = true;
      ++threads;
    }
    ++calls;
    return absl::OkStatus();
  };
  ImportOptions options;
  options.chunk_bytes = 8000;
  options.chunks_in_flight = 2;
  ASSERT_OK(ImportFile(dir.Sub("a.jsonl"), sink, nullptr, options).status());
  EXPECT_GT(calls.load(), 10);  // the file has about 20 chunks
  EXPECT_GE(threads.load(), 1);
  EXPECT_LE(threads.load(), 2);
}

}  // namespace
}  // namespace kq::server
