// Read-path tests of segments: chunked blob columns (format version 2), single-row reads
// (SegmentView::ReadRows, FindRows) against the full decode, and version 1 segments and body
// blocks still read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "storage/event_json.h"
#include "storage/segment.h"
#include "storage/segment_codec.h"
#include "tests/storage/event_generator.h"
#include "tests/testing/status_matchers.h"

namespace kq::storage {
namespace {

using ::kq::testing::EventGenerator;
using ::kq::testing::StatusIs;

struct Encoded {
  std::vector<Event> events;  // in segment (time) order, env "prod", raw_size 0
  EncodedSegment enc;
};

// Random events (EventGenerator) whose bodies and unknown members (kept in the rest column)
// are absent, empty or of random size; about 1 in 70 of up to `big` bytes (a chunk closes at
// 1 MiB).
Encoded MakeSegment(size_t rows, uint64_t seed, size_t big = 1536 << 10) {
  EventGenerator gen(seed);
  std::mt19937_64 rng(seed);
  auto blob = [&](size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), 'x');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  Encoded out;
  SegmentBuilder builder;
  for (size_t i = 0; i < rows; ++i) {
    Event e = gen.Next();
    const uint64_t k = rng() % 200;
    if (k < 2) {
      e.request_object = "\"" + blob(big) + "\"";
    } else if (k < 3) {
      e.unknown_fields = "\"big\":\"" + blob(big) + "\"";
    } else if (k < 30) {
      e.request_object.reset();
    } else if (k < 50) {
      e.request_object = "";
    } else {
      e.request_object = "{\"k\":\"" + blob(200) + "\"}";
    }
    if (rng() % 5 == 0) e.response_object.reset();
    builder.Add(e);
    e.raw_size = 0;
    e.env = "prod";
    out.events.push_back(std::move(e));
  }
  out.enc = builder.Finish();
  std::stable_sort(out.events.begin(), out.events.end(), [](const Event& a, const Event& b) {
    return a.request_received_time < b.request_received_time;
  });
  return out;
}

absl::StatusOr<DecodedRows> DecodeAll(const EncodedSegment& enc, const SegmentView& view) {
  absl::StatusOr<DecodedRows> rows = DecodeAllColumns(view);
  if (!rows.ok()) return rows;
  if (!enc.request_bodies.empty()) {
    absl::StatusOr<BlobColumn> b = DecodeBodyBlock(enc.request_bodies, enc.rows);
    if (!b.ok()) return b.status();
    rows->request_bodies = *std::move(b);
  }
  if (!enc.response_bodies.empty()) {
    absl::StatusOr<BlobColumn> b = DecodeBodyBlock(enc.response_bodies, enc.rows);
    if (!b.ok()) return b.status();
    rows->response_bodies = *std::move(b);
  }
  return rows;
}

// Every row (or, unless `every_row_alone`, 1 in 50 and the last) read alone, all rows at once
// and a random subset equal the full decode and the events that went in.
void ExpectRowReadsMatch(const Encoded& s, uint64_t seed, bool every_row_alone = true) {
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));
  ASSERT_OK_AND_ASSIGN(DecodedRows all, DecodeAll(s.enc, view));
  ASSERT_EQ(view.rows(), s.events.size());
  for (size_t r = 0; r < view.rows(); ++r) {
    ASSERT_OK_AND_ASSIGN(Event full, RowToEvent(all, r, "prod"));
    ASSERT_TRUE(full == s.events[r]) << "full decode, row " << r;
    if (!every_row_alone && r % 50 != 0 && r + 1 != view.rows()) continue;
    const size_t one[] = {r};
    ASSERT_OK_AND_ASSIGN(std::vector<Event> got,
                         view.ReadRows(one, "prod", s.enc.request_bodies, s.enc.response_bodies));
    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0] == s.events[r]) << "row " << r << ": " << EventToJson(got[0]);
  }
  std::vector<size_t> every(view.rows());
  for (size_t r = 0; r < every.size(); ++r) every[r] = r;
  ASSERT_OK_AND_ASSIGN(std::vector<Event> got,
                       view.ReadRows(every, "prod", s.enc.request_bodies, s.enc.response_bodies));
  ASSERT_EQ(got.size(), s.events.size());
  for (size_t r = 0; r < got.size(); ++r) ASSERT_TRUE(got[r] == s.events[r]) << "row " << r;

  std::mt19937_64 rng(seed);
  std::vector<size_t> some;
  for (size_t r = 0; r < view.rows(); ++r) {
    if (rng() % 7 == 0) some.push_back(r);
  }
  ASSERT_OK_AND_ASSIGN(got,
                       view.ReadRows(some, "prod", s.enc.request_bodies, s.enc.response_bodies));
  ASSERT_EQ(got.size(), some.size());
  for (size_t i = 0; i < some.size(); ++i) {
    ASSERT_TRUE(got[i] == s.events[some[i]]) << "row " << some[i];
  }
  // Without body blocks (dropped by the warm tier) the rows come back without bodies.
  ASSERT_OK_AND_ASSIGN(got, view.ReadRows(some, "prod", "", ""));
  for (size_t i = 0; i < some.size(); ++i) {
    Event want = s.events[some[i]];
    want.request_object.reset();
    want.response_object.reset();
    ASSERT_TRUE(got[i] == want) << "row " << some[i];
  }
}

// The number of chunks of a ChunkedBlob (its first varint).
uint64_t ChunkCount(std::string_view chunked) {
  uint64_t n = 0;
  EXPECT_TRUE(GetVarint64(&chunked, &n));
  return n;
}

TEST(SegmentReadTest, ChunkedBlobRowsEqualFullDecode) {
  // Rows and bodies over a chunk's 1 MiB (each a chunk alone) between runs of small ones.
  Encoded s = MakeSegment(2000, 7);
  ASSERT_FALSE(s.enc.request_bodies.empty());
  EXPECT_EQ(s.enc.request_bodies[0], '\x02');  // BodyBlock version 2
  // About 20 request bodies of up to 1.5 MiB: each closes a chunk.
  EXPECT_GT(ChunkCount(std::string_view(s.enc.request_bodies).substr(1)), 5u);
  ExpectRowReadsMatch(s, 1, /*every_row_alone=*/true);
}

// The units kq_segment_units writes out hold the layouts of docs/format.md: a Dict column
// whole, a body block chunk by chunk.
TEST(SegmentReadTest, CompressionUnitsHoldTheDocumentedRawBytes) {
  const Encoded s = MakeSegment(3000, 11);
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));

  // Request bodies: per row in time order varint(len + 1) and the bytes, or varint(0).
  std::string bodies;
  for (const Event& e : s.events) {
    if (e.request_object.has_value()) {
      PutVarint64(&bodies, e.request_object->size() + 1);
      bodies += *e.request_object;
    } else {
      PutVarint64(&bodies, 0);
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> chunks,
                       BodyBlockCompressionUnits(s.enc.request_bodies, s.enc.rows));
  EXPECT_GT(chunks.size(), 1u);  // rows of up to 1.5 MiB close chunks
  std::string joined;
  for (const std::string& c : chunks) joined += c;
  EXPECT_EQ(joined, bodies);

  // The verb column, one unit: varint(ndict) lpstring(value)*, then varint(code + 1) per row.
  const uint32_t verb_id = static_cast<uint32_t>(Column::kVerb);
  EXPECT_THAT(view.ColumnIds(), ::testing::Contains(verb_id));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> verb, view.CompressionUnits(verb_id));
  ASSERT_EQ(verb.size(), 1u);
  std::string_view in = verb[0];
  uint64_t ndict;
  ASSERT_TRUE(GetVarint64(&in, &ndict));
  std::vector<std::string_view> dict(ndict);
  for (auto& v : dict) ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  for (const Event& e : s.events) {
    uint64_t code;
    ASSERT_TRUE(GetVarint64(&in, &code));
    ASSERT_TRUE(code >= 1 && code <= ndict);
    EXPECT_EQ(dict[code - 1], e.verb);
  }
  EXPECT_TRUE(in.empty());

  // A column the segment does not hold (the environment is never stored): no unit.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> none,
                       view.CompressionUnits(static_cast<uint32_t>(Column::kEnv)));
  EXPECT_TRUE(none.empty());
}

TEST(SegmentReadTest, ChunksCloseAtTheRowLimit) {
  // More rows than one chunk holds (16,384), all small.
  Encoded s = MakeSegment(17000, 9, /*big=*/300);
  EXPECT_EQ(ChunkCount(std::string_view(s.enc.request_bodies).substr(1)), 2u);
  ExpectRowReadsMatch(s, 3, /*every_row_alone=*/false);
}

TEST(SegmentReadTest, SmallSegmentsOfRandomSizes) {
  for (size_t rows : {1, 2, 3, 17, 100}) {
    SCOPED_TRACE(rows);
    ExpectRowReadsMatch(MakeSegment(rows, rows * 31), rows);
  }
}

TEST(SegmentReadTest, EmptySegment) {
  SegmentBuilder builder;
  EncodedSegment enc = builder.Finish();
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(enc.segment));
  EXPECT_EQ(view.rows(), 0u);
  ASSERT_OK_AND_ASSIGN(DecodedRows rows, DecodeAllColumns(view));
  EXPECT_EQ(rows.rows, 0u);
  ASSERT_OK_AND_ASSIGN(std::vector<Event> got, view.ReadRows({}, "prod", "", ""));
  EXPECT_TRUE(got.empty());
}

TEST(SegmentReadTest, FindRowsMatchesTheColumn) {
  Encoded s = MakeSegment(500, 3);
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));
  // Every distinct auditID (and a few verbs) finds exactly the rows that carry it.
  std::vector<std::string> needles;
  for (size_t r = 0; r < s.events.size(); r += 37) needles.push_back(s.events[r].audit_id);
  for (const char* verb : {"get", "list", "delete"}) needles.emplace_back(verb);
  for (const std::string& needle : needles) {
    std::vector<size_t> want_id, want_verb;
    for (size_t r = 0; r < s.events.size(); ++r) {
      if (s.events[r].audit_id == needle) want_id.push_back(r);
      if (s.events[r].verb == needle) want_verb.push_back(r);
    }
    ASSERT_OK_AND_ASSIGN(std::vector<size_t> got,
                         view.FindRows(static_cast<uint32_t>(Column::kAuditId), needle));
    EXPECT_EQ(got, want_id) << needle;
    // ReadRows after FindRows (which keeps the searched column) reads the same events.
    ASSERT_OK_AND_ASSIGN(std::vector<Event> found,
                         view.ReadRows(got, "prod", s.enc.request_bodies, s.enc.response_bodies));
    ASSERT_EQ(found.size(), got.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(found[i] == s.events[got[i]]) << needle;
    ASSERT_OK_AND_ASSIGN(got, view.FindRows(static_cast<uint32_t>(Column::kVerb), needle));
    EXPECT_EQ(got, want_verb) << needle;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<size_t> none,
                       view.FindRows(static_cast<uint32_t>(Column::kAuditId), "no such id"));
  EXPECT_TRUE(none.empty());
}

TEST(SegmentReadTest, ReadRowsRejectsBadRowLists) {
  Encoded s = MakeSegment(10, 5);
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));
  const size_t unsorted[] = {3, 1};
  EXPECT_THAT(view.ReadRows(unsorted, "prod", "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  const size_t repeated[] = {2, 2};
  EXPECT_THAT(view.ReadRows(repeated, "prod", "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  const size_t past_end[] = {10};
  EXPECT_THAT(view.ReadRows(past_end, "prod", "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

// Version 1, written here from docs/format.md: the rest column one zstd Blob frame, body
// blocks `0x01 compression varint(raw_len) data`. Built from a version 2 encoding by
// re-encoding its chunked parts.
std::string ChunksToBlob(std::string_view in) {
  uint64_t n;
  EXPECT_TRUE(GetVarint64(&in, &n));
  std::vector<std::pair<uint64_t, uint64_t>> sizes;  // stored, raw
  std::vector<uint8_t> compression;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t rows, stored, raw;
    EXPECT_TRUE(GetVarint64(&in, &rows));
    compression.push_back(static_cast<uint8_t>(in[0]));
    in.remove_prefix(1);
    EXPECT_TRUE(GetVarint64(&in, &stored));
    EXPECT_TRUE(GetVarint64(&in, &raw));
    sizes.emplace_back(stored, raw);
  }
  std::string blob;
  for (uint64_t i = 0; i < n; ++i) {
    std::string raw(sizes[i].second, '\0');
    if (compression[i] == 0) {
      raw.assign(in.substr(0, sizes[i].first));
    } else {
      size_t got = ZSTD_decompress(raw.data(), raw.size(), in.data(), sizes[i].first);
      EXPECT_EQ(got, raw.size());
    }
    in.remove_prefix(sizes[i].first);
    blob += raw;
  }
  return blob;
}

std::string CompressV1(const std::string& raw, uint8_t* compression) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3));
  *compression = 1;
  return out;
}

// A version 3 segment (written now) re-encoded as version `version` (1 or 2): one value
// without the wide column count; for version 1 the ChunkedBlob rest column becomes a Blob.
std::string ToOldSegment(std::string_view v2, char version) {
  EXPECT_EQ(v2[0], '\x03');
  v2.remove_prefix(1);
  uint64_t rows, ncols;
  EXPECT_TRUE(GetVarint64(&v2, &rows));
  EXPECT_TRUE(GetVarint64(&v2, &ncols));
  struct Col {
    uint64_t id;
    uint8_t enc, comp;
    uint64_t stored, raw;
    std::string data;
  };
  std::vector<Col> cols(ncols);
  for (Col& c : cols) {
    EXPECT_TRUE(GetVarint64(&v2, &c.id));
    c.enc = static_cast<uint8_t>(v2[0]);
    c.comp = static_cast<uint8_t>(v2[1]);
    v2.remove_prefix(2);
    EXPECT_TRUE(GetVarint64(&v2, &c.stored));
    EXPECT_TRUE(GetVarint64(&v2, &c.raw));
  }
  uint64_t wide_count;
  EXPECT_TRUE(GetVarint64(&v2, &wide_count));
  for (Col& c : cols) {
    c.data.assign(v2.substr(0, c.stored));
    v2.remove_prefix(c.stored);
    if (c.enc == 4 && version == '\x01') {  // ChunkedBlob -> Blob, one zstd frame
      std::string blob = ChunksToBlob(c.data);
      c.enc = 3;
      c.raw = blob.size();
      c.data = CompressV1(blob, &c.comp);
      c.stored = c.data.size();
    }
  }
  std::string out(1, version);
  PutVarint64(&out, rows);
  PutVarint64(&out, ncols);
  for (const Col& c : cols) {
    PutVarint64(&out, c.id);
    out.push_back(static_cast<char>(c.enc));
    out.push_back(static_cast<char>(c.comp));
    PutVarint64(&out, c.stored);
    PutVarint64(&out, c.raw);
  }
  for (const Col& c : cols) out += c.data;
  return out;
}

std::string ToV1BodyBlock(std::string_view v2) {
  if (v2.empty()) return "";
  EXPECT_EQ(v2[0], '\x02');
  std::string blob = ChunksToBlob(v2.substr(1));
  uint8_t compression;
  std::string stored = CompressV1(blob, &compression);
  std::string out(1, '\x01');
  out.push_back(static_cast<char>(compression));
  PutVarint64(&out, blob.size());
  return out + stored;
}

TEST(SegmentReadTest, Version1SegmentsAndBodyBlocksStillRead) {
  Encoded s = MakeSegment(800, 11, /*big=*/300 << 10);
  Encoded old = s;
  old.enc.segment = ToOldSegment(s.enc.segment, '\x01');
  old.enc.request_bodies = ToV1BodyBlock(s.enc.request_bodies);
  old.enc.response_bodies = ToV1BodyBlock(s.enc.response_bodies);
  ASSERT_EQ(old.enc.segment[0], '\x01');
  ExpectRowReadsMatch(old, 2);
}

TEST(SegmentReadTest, Version2SegmentsStillRead) {
  Encoded s = MakeSegment(700, 19);
  Encoded old = s;
  old.enc.segment = ToOldSegment(s.enc.segment, '\x02');
  ASSERT_EQ(old.enc.segment[0], '\x02');
  ASSERT_EQ(old.enc.segment.size() + 1, s.enc.segment.size());  // no wide column count
  ExpectRowReadsMatch(old, 3);
}

// Version 3 stores the narrow prefix and the wide rest as two values: the narrow part alone
// decodes its columns; wide columns wait for AttachWide, which checks the length.
TEST(SegmentReadTest, NarrowPartAloneReadsNarrowColumnsAndWaitsForTheWidePart) {
  Encoded s = MakeSegment(500, 23);
  ASSERT_EQ(s.enc.segment[0], '\x03');
  ASSERT_GT(s.enc.narrow_bytes, 0u);
  ASSERT_LT(s.enc.narrow_bytes, s.enc.segment.size());
  const std::string narrow = s.enc.segment.substr(0, s.enc.narrow_bytes);
  const std::string wide = s.enc.segment.substr(s.enc.narrow_bytes);
  ASSERT_OK_AND_ASSIGN(SegmentView full, SegmentView::Parse(s.enc.segment));
  ASSERT_OK_AND_ASSIGN(SegmentView part, SegmentView::Parse(narrow));
  EXPECT_TRUE(full.wide_loaded());
  EXPECT_FALSE(part.wide_loaded());

  // Narrow columns: the events' own values, in time order.
  ASSERT_OK_AND_ASSIGN(StringColumn verbs, part.Strings(static_cast<uint32_t>(Column::kVerb)));
  ASSERT_OK_AND_ASSIGN(IntColumn times, part.Ints(static_cast<uint32_t>(Column::kTime)));
  ASSERT_EQ(verbs.codes.size(), s.events.size());
  for (size_t r = 0; r < s.events.size(); ++r) {
    EXPECT_EQ(verbs.dict[verbs.codes[r]], s.events[r].verb);
    EXPECT_EQ(times.values[r], s.events[r].request_received_time);
  }
  EXPECT_FALSE(part.IsWide(static_cast<uint32_t>(Column::kVerb)));
  for (Column c : {Column::kAuditId, Column::kRequestUri, Column::kStageTime}) {
    EXPECT_TRUE(part.IsWide(static_cast<uint32_t>(c)));
  }
  EXPECT_THAT(part.Strings(static_cast<uint32_t>(Column::kAuditId)),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(part.Ints(static_cast<uint32_t>(Column::kStageTime)),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(part.Blobs(static_cast<uint32_t>(InternalColumn::kRest)),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  const size_t first[] = {0};
  EXPECT_THAT(part.ReadRows(first, "prod", "", ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(DecodeAllColumns(part),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));

  // A wide part of the wrong length is refused; the right one completes the segment.
  EXPECT_THAT(part.AttachWide(std::string_view(wide).substr(1), nullptr),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  auto owner = std::make_shared<const std::string>(wide);
  ASSERT_OK(part.AttachWide(*owner, owner));
  EXPECT_TRUE(part.wide_loaded());
  ASSERT_OK_AND_ASSIGN(StringColumn ids, part.Strings(static_cast<uint32_t>(Column::kAuditId)));
  for (size_t r = 0; r < s.events.size(); ++r) {
    EXPECT_EQ(ids.dict[ids.codes[r]], s.events[r].audit_id);
  }
  ASSERT_OK_AND_ASSIGN(DecodedRows rows, DecodeAll(s.enc, part));
  for (size_t r = 0; r < s.events.size(); ++r) {
    ASSERT_OK_AND_ASSIGN(Event e, RowToEvent(rows, r, "prod"));
    EXPECT_TRUE(e == s.events[r]) << r;
  }
  EXPECT_THAT(part.AttachWide(*owner, owner),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  // A narrow part cut short is not mistaken for a narrow part.
  EXPECT_THAT(SegmentView::Parse(narrow.substr(0, narrow.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

// The inline varint decoders agree with GetVarint64 on every length (1 to 10 bytes), near
// the end of the input and with a truncated last varint.
TEST(SegmentReadTest, InlineVarintsMatchGetVarint64) {
  std::mt19937_64 rng(31);
  std::vector<uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const int bits = static_cast<int>(rng() % 65);
    values.push_back(bits == 0 ? 0 : rng() >> (64 - bits));
  }
  values.push_back(UINT64_MAX);
  std::string bytes;
  for (uint64_t v : values) PutVarint64(&bytes, v);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  std::string_view in(bytes);
  for (uint64_t want : values) {
    uint64_t a = 0, b = 0;
    ASSERT_NE(p = segment_codec::DecodeVarint(p, end, &a), nullptr);
    ASSERT_TRUE(segment_codec::NextVarint(&in, &b));
    ASSERT_EQ(a, want);
    ASSERT_EQ(b, want);
  }
  EXPECT_EQ(p, end);
  EXPECT_TRUE(in.empty());
  std::string cut;
  PutVarint64(&cut, uint64_t{1} << 40);
  cut.pop_back();
  uint64_t v;
  const auto* c = reinterpret_cast<const uint8_t*>(cut.data());
  EXPECT_EQ(segment_codec::DecodeVarint(c, c + cut.size(), &v), nullptr);
}

// BodyReader hands out single rows of version 2 (chunked) and version 1 body blocks, equal to
// the bodies that went in, in any order.
TEST(SegmentReadTest, BodyReaderReadsSingleRowsOfBothBlockVersions) {
  Encoded s = MakeSegment(900, 29, /*big=*/1200 << 10);
  for (bool v1 : {false, true}) {
    std::string block = v1 ? ToV1BodyBlock(s.enc.request_bodies) : s.enc.request_bodies;
    ASSERT_FALSE(block.empty());
    ASSERT_OK_AND_ASSIGN(BodyReader reader, BodyReader::Open(block, s.events.size()));
    std::vector<size_t> order(s.events.size());
    for (size_t r = 0; r < order.size(); ++r) order[r] = (r * 7919) % order.size();
    for (size_t r : order) {
      ASSERT_OK_AND_ASSIGN(std::optional<std::string_view> got, reader.Get(r));
      const std::optional<std::string>& want = s.events[r].request_object;
      ASSERT_EQ(got.has_value(), want.has_value()) << r;
      if (want.has_value()) {
        EXPECT_EQ(*got, *want) << r;
      }
    }
    EXPECT_THAT(reader.Get(s.events.size()), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  }
  EXPECT_THAT(BodyReader::Open(std::string("\x07", 1), 3),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST(SegmentReadTest, CorruptChunksAreErrorsNotCrashes) {
  Encoded s = MakeSegment(300, 13, /*big=*/300 << 10);
  std::string future = s.enc.segment;
  future[0] = '\x04';
  EXPECT_THAT(SegmentView::Parse(future),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("version 4")));

  std::vector<size_t> every(300);
  for (size_t r = 0; r < every.size(); ++r) every[r] = r;
  std::mt19937_64 rng(17);
  // Truncated or flipped body blocks: an error (or, for a flip inside stored data that zstd
  // does not notice, some event), never a crash.
  std::string body = s.enc.request_bodies;
  for (size_t cut : {size_t{1}, size_t{2}, size_t{5}, body.size() / 2, body.size() - 1}) {
    std::string truncated = body.substr(0, cut);
    EXPECT_THAT(DecodeBodyBlock(truncated, 300),
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
        << cut;
    ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));
    EXPECT_THAT(view.ReadRows(every, "prod", truncated, ""),
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
        << cut;
  }
  for (int i = 0; i < 200; ++i) {
    std::string flipped = body;
    flipped[rng() % std::min<size_t>(flipped.size(), 64)] ^= static_cast<char>(1 + rng() % 255);
    ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(s.enc.segment));
    (void)DecodeBodyBlock(flipped, 300);
    (void)view.ReadRows(every, "prod", flipped, "");
  }
  EXPECT_THAT(DecodeBodyBlock(std::string("\x03", 1), 1),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

}  // namespace
}  // namespace kq::storage
