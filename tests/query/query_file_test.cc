// Data-driven query tests, in the spirit of DuckDB's sqllogictest. Each tests/query/*.test file
// holds directives separated by blank lines:
//
//   # a comment
//   now 2026-11-01T00:00:00Z         the clock of now() and ago()
//   cluster c2                       attribution of the events that follow (default "c1")
//   events [ENV]                     JSON lines until a blank line, appended to ENV ("prod")
//   load FILE [ENV]                  JSON lines from a file under the shared corpus
//   load-dir DIR ENV ERRORS          every *.json file of a corpus folder; ERRORS items are
//                                    expected not to decode (deliberately malformed samples)
//   query [sorted]                   query text, a line "----", then expected rows (cells
//   <query lines>                    separated by " | "; null is "null", "" is '""'; an
//   ----                             optional first line "columns: a, b" checks the names)
//   <rows>
//   error                            query text, "----", then text the error must contain
//
// Every file runs twice against a real storage::Store in a TempDir: once with the events only
// in the recent (unsealed) part, once after Flush() sealed them into segments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/time.h"
#include "query/engine.h"
#include "query/store_readers.h"
#include "query/value.h"
#include "storage/decoder.h"
#include "storage/store.h"
#include "tests/testing/collecting_sink.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::query {
namespace {

using ::kq::testing::CollectingSink;

std::string Cell(const Value& v) {
  if (IsNull(v)) return "null";
  if (const auto* s = std::get_if<std::string>(&v)) return s->empty() ? "\"\"" : *s;
  return ToText(v);
}

// Rows as text; kEvent columns are left out (their JSON is checked by storage's tests).
std::vector<std::string> FormatRows(const CollectingSink& sink) {
  std::vector<std::string> out;
  for (const Row& row : sink.rows_) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < row.size(); ++i) {
      if (sink.columns_[i].type == ValueType::kEvent) continue;
      cells.push_back(Cell(row[i]));
    }
    out.push_back(absl::StrJoin(cells, " | "));
  }
  return out;
}

struct Block {
  int line = 0;
  std::vector<std::string> lines;
};

std::vector<Block> SplitBlocks(const std::string& text) {
  std::vector<Block> blocks;
  Block current;
  int n = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++n;
    std::string line(raw);
    if (line.empty()) {
      if (!current.lines.empty()) blocks.push_back(std::move(current));
      current = Block();
      continue;
    }
    if (current.lines.empty() && line[0] == '#') continue;
    if (current.lines.empty()) current.line = n;
    current.lines.push_back(line);
  }
  if (!current.lines.empty()) blocks.push_back(std::move(current));
  return blocks;
}

class QueryFileTest : public ::testing::TestWithParam<std::string> {
 protected:
  void RunFile(bool flush) {
    std::filesystem::path path = testing::SourceDir() / "tests/query" / GetParam();
    std::string text = testing::ReadFileOrDie(path);
    testing::TempDir dir;
    FakeClock clock(0);
    storage::StoreOptions options;
    options.data_dir = dir.path().string();
    options.durability = storage::Durability::kBuffered;
    options.clock = &clock;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::Store> store, storage::Store::Open(options));
    StoreReaders readers(store.get());
    std::string cluster = "c1";
    storage::Decoder decoder;
    for (const Block& b : SplitBlocks(text)) {
      SCOPED_TRACE(absl::StrCat(GetParam(), ":", b.line, flush ? " (sealed)" : " (recent)"));
      std::vector<std::string> head = absl::StrSplit(b.lines[0], ' ', absl::SkipEmpty());
      const std::string& verb = head[0];
      if (verb == "now") {
        ASSERT_OK_AND_ASSIGN(TimeMicros t, ParseTimestamp(head.at(1)));
        clock.Set(t);
      } else if (verb == "cluster") {
        cluster = head.at(1);
      } else if (verb == "events" || verb == "load" || verb == "load-dir") {
        std::string env = "prod", body;
        size_t expected_errors = 0;
        if (verb == "load-dir") {
          env = head.at(2);
          expected_errors = std::stoul(head.at(3));
          std::vector<std::filesystem::path> files;
          for (const auto& entry :
               std::filesystem::directory_iterator(testing::CorpusDir() / head.at(1))) {
            if (entry.path().extension() == ".json") files.push_back(entry.path());
          }
          std::sort(files.begin(), files.end());
          for (const auto& f : files) body += testing::ReadFileOrDie(f) + "\n";
        } else if (verb == "events") {
          if (head.size() > 1) env = head[1];
          for (size_t i = 1; i < b.lines.size(); ++i) body += b.lines[i] + "\n";
        } else {
          if (head.size() > 2) env = head[2];
          body = testing::ReadFileOrDie(testing::CorpusDir() / head.at(1));
        }
        std::vector<storage::Event> events;
        std::vector<storage::DecodeError> errors;
        decoder.DecodeLines(body, &events, &errors);
        if (errors.size() != expected_errors) {
          for (const auto& e : errors) ADD_FAILURE() << "event does not decode: " << e.reason;
        }
        for (auto& e : events) e.cluster = cluster;
        storage::Environment* environment = store->Find(env);
        ASSERT_NE(environment, nullptr) << env;
        storage::AppendResult result;
        ASSERT_OK(environment->Append(events, &result));
        if (flush) {
          ASSERT_OK(environment->Flush());
        }
      } else if (verb == "query" || verb == "error") {
        bool sorted = head.size() > 1 && head[1] == "sorted";
        auto sep = std::find(b.lines.begin(), b.lines.end(), "----");
        ASSERT_NE(sep, b.lines.end()) << "missing ----";
        std::string query = absl::StrJoin(b.lines.begin() + 1, sep, "\n");
        std::vector<std::string> expected(sep + 1, b.lines.end());
        CollectingSink sink;
        QueryOptions qo;
        qo.clock = &clock;
        QueryStats stats;
        absl::Status s = RunQuery(readers, query, qo, sink, &stats);
        if (verb == "error") {
          EXPECT_FALSE(s.ok()) << query;
          std::string message(s.message());
          EXPECT_THAT(message, ::testing::HasSubstr(absl::StrJoin(expected, "\n"))) << query;
          continue;
        }
        ASSERT_OK(s) << query;
        if (!expected.empty() && expected[0].rfind("columns: ", 0) == 0) {
          std::vector<std::string> names;
          for (const ColumnInfo& c : sink.columns_) names.push_back(c.name);
          EXPECT_EQ(absl::StrCat("columns: ", absl::StrJoin(names, ", ")), expected[0]) << query;
          expected.erase(expected.begin());
        }
        std::vector<std::string> actual = FormatRows(sink);
        if (sorted) {
          std::sort(actual.begin(), actual.end());
          std::sort(expected.begin(), expected.end());
        }
        EXPECT_EQ(absl::StrJoin(actual, "\n"), absl::StrJoin(expected, "\n")) << query;
      } else {
        ADD_FAILURE() << "unknown directive " << verb;
      }
    }
  }
};

TEST_P(QueryFileTest, RecentEvents) { RunFile(false); }
TEST_P(QueryFileTest, SealedSegments) { RunFile(true); }

std::vector<std::string> TestFiles() {
  std::vector<std::string> out;
  std::filesystem::path dir = testing::SourceDir() / "tests/query";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, QueryFileTest, ::testing::ValuesIn(TestFiles()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace kq::query
