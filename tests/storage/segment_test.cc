#include "storage/segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/time.h"
#include "storage/decoder.h"
#include "storage/event_json.h"
#include "tests/storage/event_generator.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::EventGenerator;
using ::kq::testing::StatusIs;

std::vector<Event> CorpusEvents() {
  namespace fs = std::filesystem;
  Decoder decoder;
  std::vector<Event> events;
  for (const auto& entry :
       fs::recursive_directory_iterator(::kq::testing::CorpusDir() / "samples")) {
    if (!entry.is_regular_file()) continue;
    std::vector<DecodeError> errors;
    decoder.DecodeBody(::kq::testing::ReadFileOrDie(entry.path()), &events, &errors);
  }
  return events;
}

// Encodes `events`, decodes every row back, and expects them equal (in time order).
void ExpectSegmentRoundTrip(std::vector<Event> events, bool load_bodies = true) {
  SegmentBuilder builder;
  for (const auto& e : events) builder.Add(e);
  EncodedSegment enc = builder.Finish();
  ASSERT_EQ(enc.rows, events.size());
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(enc.segment));
  ASSERT_OK_AND_ASSIGN(DecodedRows rows, DecodeAllColumns(view));
  if (load_bodies && !enc.request_bodies.empty()) {
    ASSERT_OK_AND_ASSIGN(rows.request_bodies, DecodeBodyBlock(enc.request_bodies, enc.rows));
  }
  if (load_bodies && !enc.response_bodies.empty()) {
    ASSERT_OK_AND_ASSIGN(rows.response_bodies, DecodeBodyBlock(enc.response_bodies, enc.rows));
  }
  // Copying the decoded rows column by column (as merges do) gives the same events.
  if (load_bodies) {
    SegmentBuilder copy;
    copy.AddRows(rows);
    EncodedSegment again = copy.Finish();
    ASSERT_OK_AND_ASSIGN(SegmentView view2, SegmentView::Parse(again.segment));
    ASSERT_OK_AND_ASSIGN(DecodedRows rows2, DecodeAllColumns(view2));
    if (!again.request_bodies.empty()) {
      ASSERT_OK_AND_ASSIGN(rows2.request_bodies, DecodeBodyBlock(again.request_bodies, enc.rows));
    }
    if (!again.response_bodies.empty()) {
      ASSERT_OK_AND_ASSIGN(rows2.response_bodies, DecodeBodyBlock(again.response_bodies, enc.rows));
    }
    ASSERT_EQ(rows2.rows, rows.rows);
    for (size_t i = 0; i < rows.rows; ++i) {
      ASSERT_OK_AND_ASSIGN(Event a, RowToEvent(rows, i, "prod"));
      ASSERT_OK_AND_ASSIGN(Event b, RowToEvent(rows2, i, "prod"));
      ASSERT_TRUE(a == b) << "copied row " << i;
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.request_received_time < b.request_received_time;
  });
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(Event got, RowToEvent(rows, i, "prod"));
    Event want = events[i];
    want.raw_size = 0;
    want.env = "prod";
    EXPECT_EQ(EventToJson(got), EventToJson(want)) << "row " << i;
    EXPECT_TRUE(got == want) << "row " << i << ": " << EventToJson(want);
  }
  // Summary facts, computed independently of the encoder.
  TimeMicros min_t = INT64_MAX, max_t = INT64_MIN;
  for (const auto& e : events) {
    min_t = std::min(min_t, e.request_received_time);
    max_t = std::max(max_t, e.request_received_time);
  }
  if (!events.empty()) {
    EXPECT_EQ(enc.summary.min_time, min_t);
    EXPECT_EQ(enc.summary.max_time, max_t);
  }
  for (const auto& e : events) {
    EXPECT_TRUE(enc.summary.Find(static_cast<uint32_t>(Column::kVerb))->MayContain(e.verb));
    EXPECT_TRUE(enc.summary.Find(static_cast<uint32_t>(Column::kAuditId))->MayContain(e.audit_id));
  }
  ASSERT_OK_AND_ASSIGN(Summary decoded, Summary::Decode(enc.summary.Encode()));
  EXPECT_EQ(decoded.rows, enc.summary.rows);
  EXPECT_EQ(decoded.Encode(), enc.summary.Encode());
}

TEST(SegmentTest, CorpusRoundTrips) {
  std::vector<Event> events = CorpusEvents();
  ASSERT_GT(events.size(), 180u);
  for (auto& e : events) e.cluster = "c1";
  ExpectSegmentRoundTrip(events);
}

TEST(SegmentTest, GeneratedEventsRoundTrip) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    EventGenerator gen(seed);
    std::vector<Event> events;
    size_t n = seed * 37 % 400 + 1;
    for (size_t i = 0; i < n; ++i) events.push_back(gen.Next());
    SCOPED_TRACE(::testing::Message() << "seed " << seed << ", " << n << " events");
    ExpectSegmentRoundTrip(events);
    if (HasFatalFailure()) return;
  }
}

TEST(SegmentTest, EmptyBuilderGivesEmptySegment) { ExpectSegmentRoundTrip({}); }

TEST(SegmentTest, CorruptBytesAreDataLoss) {
  EventGenerator gen(7);
  SegmentBuilder builder;
  for (int i = 0; i < 50; ++i) builder.Add(gen.Next());
  EncodedSegment enc = builder.Finish();
  // Truncated: the header no longer matches the data.
  EXPECT_THAT(SegmentView::Parse(enc.segment.substr(0, enc.segment.size() - 3)),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("corrupt segment")));
  // Flip bytes inside the column data: every column decode either fails with DataLoss or
  // succeeds; it never crashes.
  for (size_t pos = enc.segment.size() / 2; pos < enc.segment.size(); pos += 7) {
    std::string bad = enc.segment;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    auto view = SegmentView::Parse(bad);
    if (!view.ok()) continue;
    auto rows = DecodeAllColumns(*view);
    if (!rows.ok()) {
      EXPECT_EQ(rows.status().code(), absl::StatusCode::kDataLoss);
    }
  }
  EXPECT_THAT(Summary::Decode("\x01\x05"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("summary")));
}

TEST(SummaryTest, ExactSetsAndBloomFilters) {
  std::vector<std::string_view> few = {"b", "a"};
  ValueSet exact = MakeValueSet(8, few);
  EXPECT_FALSE(exact.bloom);
  EXPECT_EQ(exact.values, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(exact.MayContain("a"));
  EXPECT_FALSE(exact.MayContain("c"));
  std::vector<std::string> many;
  for (int i = 0; i < 1000; ++i) many.push_back("name-" + std::to_string(i));
  ValueSet bloom = MakeValueSet(13, std::vector<std::string_view>(many.begin(), many.end()));
  EXPECT_TRUE(bloom.bloom);
  for (const auto& v : many) EXPECT_TRUE(bloom.MayContain(v));
  int false_positives = 0;
  for (int i = 0; i < 10000; ++i) false_positives += bloom.MayContain("other-" + std::to_string(i));
  // 10 bits per value and 7 probes give about 1% false positives; allow 3%.
  EXPECT_LT(false_positives, 300);
}

}  // namespace
}  // namespace kq::storage
