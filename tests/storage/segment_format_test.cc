// Compression codes of segment columns (storage/segment_format.h): the UUID-packed code for
// Dict columns round-trips any bytes exactly, is chosen for a column of UUIDs, and corrupt
// input is DataLoss.
#include "storage/segment_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "storage/segment.h"
#include "tests/storage/event_generator.h"
#include "tests/testing/status_matchers.h"

namespace kq::storage::segment_format {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

auto IsDataLoss() { return StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt segment")); }

std::string RandomUuid(std::mt19937_64& rng) {
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

// Dict raw bytes (docs/format.md, "Segment"): the dictionary, then one code+1 per row.
std::string DictBytes(const std::vector<std::string>& dict, const std::vector<uint64_t>& codes) {
  std::string out;
  PutVarint64(&out, dict.size());
  for (const std::string& s : dict) PutLengthPrefixed(&out, s);
  for (uint64_t c : codes) PutVarint64(&out, c);
  return out;
}

// Compress then Decompress; the stored bytes in *stored_out when given.
std::string RoundTrip(std::string_view raw, uint8_t* compression,
                      std::string* stored_out = nullptr) {
  std::string own;
  std::string& stored = stored_out != nullptr ? *stored_out : own;
  Compress(raw, 1, &stored, compression);
  absl::StatusOr<std::string> back = Decompress(stored, *compression, raw.size());
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *back : std::string();
}

// The Dict of `dict` and `codes` round-trips exactly and is stored with code `want`.
void ExpectDictRoundTrip(const std::vector<std::string>& dict, const std::vector<uint64_t>& codes,
                         uint8_t want) {
  std::string raw = DictBytes(dict, codes);
  uint8_t compression;
  EXPECT_EQ(RoundTrip(raw, &compression), raw);
  EXPECT_EQ(compression, want);
}

TEST(SegmentFormatTest, MixedUuidDictRoundTripsPacked) {
  std::mt19937_64 rng(7);
  std::vector<std::string> dict;
  for (int i = 0; i < 300; ++i) dict.push_back(RandomUuid(rng));
  std::string upper = RandomUuid(rng);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  std::string shifted = RandomUuid(rng);
  std::swap(shifted[8], shifted[9]);  // hyphen in the wrong place
  dict.insert(dict.begin() + 5, upper);
  dict.insert(dict.begin() + 17, shifted);
  dict.insert(dict.begin() + 40, "");
  dict.insert(dict.begin() + 41, "system:serviceaccount:kube-system:default");
  dict.push_back(RandomUuid(rng) + "x");
  dict.push_back(RandomUuid(rng).substr(1));
  std::vector<uint64_t> codes;
  for (size_t i = 0; i < dict.size(); ++i) {
    codes.push_back(i % 7 == 0 ? 0 : i + 1);  // some rows absent
    codes.push_back(rng() % (dict.size() + 1));
  }
  ExpectDictRoundTrip(dict, codes, kCompUuidZstd);
}

TEST(SegmentFormatTest, PackedUuidsCostAboutSixteenBytes) {
  // 10,000 random UUIDs, each row its own: 16 random bytes per value cannot compress, and
  // the codes 1, 2, 3, ... delta-code to one repeated byte, so about 16 bytes per value.
  std::mt19937_64 rng(11);
  std::vector<std::string> dict;
  std::vector<uint64_t> codes;
  for (int i = 0; i < 10000; ++i) {
    dict.push_back(RandomUuid(rng));
    codes.push_back(i + 1);
  }
  std::string raw = DictBytes(dict, codes);
  std::string stored;
  uint8_t compression;
  EXPECT_EQ(RoundTrip(raw, &compression, &stored), raw);
  EXPECT_EQ(compression, kCompUuidZstd);
  EXPECT_LT(stored.size(), 10000u * 17);
  EXPECT_GE(stored.size(), 10000u * 16);
}

TEST(SegmentFormatTest, NotMostlyUuidsIsPlainZstd) {
  std::mt19937_64 rng(3);
  std::vector<std::string> dict;
  for (int i = 0; i < 100; ++i) {
    dict.push_back(i % 3 == 0 ? RandomUuid(rng) : "user-" + std::to_string(i));
  }
  ExpectDictRoundTrip(dict, std::vector<uint64_t>(1000, 1), kCompZstd);
}

TEST(SegmentFormatTest, NonCanonicalVarintsRoundTrip) {
  std::mt19937_64 rng(5);
  std::vector<std::string> dict;
  for (int i = 0; i < 50; ++i) dict.push_back(RandomUuid(rng));
  std::string raw = DictBytes(dict, {1, 2, 3});
  raw.append("\x81\x00", 2);  // 1, written in two bytes
  raw.append("\xff", 1);      // truncated varint
  uint8_t compression;
  EXPECT_EQ(RoundTrip(raw, &compression), raw);
  // Ten-byte codes: the tenth byte is canonical only as 0x01 (bit 63); bits past 64 are not.
  std::string ten = DictBytes(dict, {1, 2, 3});
  PutVarint64(&ten, ~0ull);
  EXPECT_EQ(RoundTrip(ten, &compression), ten);
  ten.append("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
  EXPECT_EQ(RoundTrip(ten, &compression), ten);
  // A dictionary length written in two bytes: the whole column stays plain zstd.
  std::string odd;
  PutVarint64(&odd, dict.size());
  odd.append("\xa4\x00", 2);  // 36
  odd.append(dict[0]);
  for (size_t i = 1; i < dict.size(); ++i) PutLengthPrefixed(&odd, dict[i]);
  EXPECT_EQ(RoundTrip(odd, &compression), odd);
  EXPECT_EQ(compression, kCompZstd);
}

// A string near a UUID: canonical, or one change away from it.
std::string NearUuid(std::mt19937_64& rng) {
  std::string s = RandomUuid(rng);
  switch (rng() % 8) {
    case 0:
      s[rng() % s.size()] = static_cast<char>("G-A0f\0"[rng() % 6]);
      break;
    case 1:
      s.resize(rng() % s.size());
      break;
    case 2:
      s.push_back('0');
      break;
    case 3: {
      std::string r(rng() % 40, '\0');
      for (char& c : r) c = static_cast<char>(rng());
      return r;
    }
    default:
      break;
  }
  return s;
}

TEST(SegmentFormatTest, PropertyAnyBytesRoundTrip) {
  std::mt19937_64 rng(1234);
  int packed = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string raw;
    if (iter % 10 == 9) {
      raw.resize(rng() % 200);
      for (char& c : raw) c = static_cast<char>(rng());
    } else {
      std::vector<std::string> dict(1 + rng() % 60);
      for (std::string& s : dict) s = NearUuid(rng);
      std::vector<uint64_t> codes(rng() % 200);
      for (uint64_t& c : codes) c = rng() % 4 == 0 ? rng() : rng() % (dict.size() + 1);
      raw = DictBytes(dict, codes);
      if (rng() % 4 == 0) raw.resize(rng() % (raw.size() + 1));
    }
    uint8_t compression;
    ASSERT_EQ(RoundTrip(raw, &compression), raw) << "iteration " << iter;
    packed += compression == kCompUuidZstd;
  }
  EXPECT_GT(packed, 500);  // the packed code was exercised, not only plain zstd
}

TEST(SegmentFormatTest, CorruptPackedIsDataLoss) {
  std::mt19937_64 rng(9);
  std::vector<std::string> dict;
  std::vector<uint64_t> codes;
  for (int i = 0; i < 200; ++i) {
    dict.push_back(i % 10 == 0 ? "other" + std::to_string(i) : RandomUuid(rng));
    codes.push_back(i + 1);
  }
  std::string raw = DictBytes(dict, codes);
  std::string stored;
  uint8_t compression;
  Compress(raw, 1, &stored, &compression);
  ASSERT_EQ(compression, kCompUuidZstd);

  EXPECT_THAT(Decompress(stored, 9, raw.size()), IsDataLoss());
  EXPECT_THAT(Decompress(stored, compression, raw.size() - 1), IsDataLoss());
  EXPECT_THAT(Decompress(stored, compression, raw.size() + 1), IsDataLoss());
  for (size_t len = 0; len < stored.size(); ++len) {
    EXPECT_THAT(Decompress(stored.substr(0, len), compression, raw.size()), IsDataLoss())
        << "truncated to " << len;
  }
  // Flipped bytes: zstd frames carry no checksum, so a flip may decode to other bytes of the
  // right length; it must never crash or return a wrong length.
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string bad = stored;
    bad[i] = static_cast<char>(bad[i] ^ (1 << (i % 8)));
    absl::StatusOr<std::string> got = Decompress(bad, compression, raw.size());
    if (got.ok()) {
      EXPECT_EQ(got->size(), raw.size());
    } else {
      EXPECT_THAT(got, IsDataLoss());
    }
  }
}

// Packed forms made by hand (zstd-framed with Compress of bytes that do not parse as a Dict,
// so they stay plain zstd frames) that break each rule of the packed layout.
TEST(SegmentFormatTest, MalformedPackedLayoutsAreDataLoss) {
  auto frame = [](std::string packed) {
    packed.append(64, 'z');  // compressible, so Compress emits a zstd frame
    std::string stored;
    uint8_t compression;
    Compress(packed, 1, &stored, &compression);
    EXPECT_EQ(compression, kCompZstd);
    return stored;
  };
  const std::string uuid(16, '\x11');
  // n = 0.
  EXPECT_THAT(Decompress(frame(std::string("\x00\x00", 2)), kCompUuidZstd, 1000), IsDataLoss());
  // Bitmap says 8 UUIDs, only one present.
  EXPECT_THAT(Decompress(frame("\x08\xff" + uuid), kCompUuidZstd, 1000), IsDataLoss());
  // Bad tail kind.
  std::string bad_tail = "\x01\x01" + uuid + "\x07";
  EXPECT_THAT(Decompress(frame(bad_tail), kCompUuidZstd, 1000), IsDataLoss());
  // A non-UUID string longer than what is left.
  EXPECT_THAT(Decompress(frame(std::string("\x01\x00\x7f", 3)), kCompUuidZstd, 1000), IsDataLoss());
  // Huge dictionary count.
  EXPECT_THAT(Decompress(frame("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), kCompUuidZstd, 1000),
              IsDataLoss());
}

TEST(SegmentFormatTest, BuilderStoresUuidAuditIdsPackedAndReadsThemBack) {
  ::kq::testing::EventGenerator gen(21);
  std::mt19937_64 rng(21);
  SegmentBuilder builder;
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    Event e = gen.Next();
    e.audit_id = i % 50 == 0 ? "not-a-uuid-" + std::to_string(i) : RandomUuid(rng);
    ids.push_back(e.audit_id);
    builder.Add(e);
  }
  EncodedSegment enc = builder.Finish();
  // Segment header (docs/format.md, "Segment"): find the auditID column's compression code.
  std::string_view in(enc.segment);
  in.remove_prefix(1);
  uint64_t rows, ncolumns, id, stored_len, raw_len;
  ASSERT_TRUE(GetVarint64(&in, &rows) && GetVarint64(&in, &ncolumns));
  int audit_compression = -1;
  for (uint64_t i = 0; i < ncolumns; ++i) {
    ASSERT_TRUE(GetVarint64(&in, &id) && in.size() >= 2);
    uint8_t compression = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    ASSERT_TRUE(GetVarint64(&in, &stored_len) && GetVarint64(&in, &raw_len));
    if (id == static_cast<uint32_t>(Column::kAuditId)) audit_compression = compression;
  }
  EXPECT_EQ(audit_compression, kCompUuidZstd);
  ASSERT_OK_AND_ASSIGN(SegmentView view, SegmentView::Parse(enc.segment));
  ASSERT_OK_AND_ASSIGN(StringColumn col, view.Strings(static_cast<uint32_t>(Column::kAuditId)));
  std::vector<std::string> got;
  for (uint32_t c : col.codes) got.emplace_back(col.dict[c]);
  std::sort(got.begin(), got.end());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(got, ids);
}

}  // namespace
}  // namespace kq::storage::segment_format
