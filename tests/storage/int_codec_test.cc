// The int column encodings (storage/int_codec.h): every encoding round-trips any values and
// nulls in any row order, LowerBound agrees with std::lower_bound, and malformed bytes are
// DataLoss, never a crash.
#include "storage/int_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "storage/segment_format.h"
#include "tests/testing/status_matchers.h"

namespace kq::storage::int_codec {
namespace {

using ::kq::testing::StatusIs;
using segment_format::kEncIntBlocks;
using segment_format::kEncIntDelta;
using segment_format::kEncIntDict;
using ::testing::HasSubstr;

auto IsDataLoss() { return StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt segment")); }

constexpr uint8_t kEncodings[] = {kEncIntDelta, kEncIntBlocks, kEncIntDict};

struct Column {
  std::vector<int64_t> values;
  std::vector<bool> present;
};

// `rows` values of one of several shapes, `distinct` of them at most when `distinct` > 0;
// about `null_percent` of rows null.
Column RandomColumn(std::mt19937_64& rng, size_t rows, int shape, int null_percent) {
  Column c;
  int64_t t = static_cast<int64_t>(rng() % (1ull << 52));
  for (size_t i = 0; i < rows; ++i) {
    int64_t v = 0;
    switch (shape) {
      case 0:  // ascending times with gaps of every width
        t += static_cast<int64_t>(rng() % (1ull << (rng() % 40)));
        v = t;
        break;
      case 1:  // status codes
        v = std::vector<int64_t>{200, 201, 404, 409, 500, 503}[rng() % 6];
        break;
      case 2:  // extremes: deltas that overflow 64 bits
        v = std::vector<int64_t>{std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), 0, -1}[rng() % 4];
        break;
      default:  // anything
        v = static_cast<int64_t>(rng());
    }
    c.values.push_back(v);
    c.present.push_back(static_cast<int>(rng() % 100) >= null_percent);
  }
  return c;
}

IntColumn Expected(const Column& c, const std::vector<uint32_t>& perm) {
  IntColumn out;
  for (uint32_t r : perm) {
    out.values.push_back(c.present[r] ? c.values[r] : 0);
    out.present.push_back(c.present[r]);
  }
  return out;
}

TEST(IntCodecTest, PropertyEveryEncodingRoundTripsInAnyRowOrder) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 600; ++iter) {
    const size_t rows = std::vector<size_t>{0, 1, 7, 8, 127, 128, 129, 256, 1000}[iter % 9] +
                        (iter % 4 == 0 ? rng() % 300 : 0);
    const int shape = iter % 4;
    const int nulls = std::vector<int>{0, 0, 10, 100}[rng() % 4];
    Column c = RandomColumn(rng, rows, shape, nulls);
    std::vector<uint32_t> perm(rows);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const IntColumn want = Expected(c, perm);
    for (uint8_t encoding : kEncodings) {
      if (encoding == kEncIntDict && !DistinctAtMost(c.values, c.present, kMaxDictValues)) {
        continue;
      }
      std::string raw;
      Encode(encoding, c.values, c.present, perm, &raw);
      ASSERT_OK_AND_ASSIGN(IntColumn got, Decode(encoding, raw, rows));
      ASSERT_EQ(got.present, want.present) << "encoding " << int{encoding} << " iter " << iter;
      ASSERT_EQ(got.values, want.values) << "encoding " << int{encoding} << " iter " << iter;
    }
  }
}

TEST(IntCodecTest, DistinctAtMostCountsPresentValuesOnly) {
  std::vector<int64_t> values = {1, 2, 3, 3, 99};
  std::vector<bool> present = {true, true, true, true, false};
  EXPECT_TRUE(DistinctAtMost(values, present, 3));
  EXPECT_FALSE(DistinctAtMost(values, present, 2));
}

TEST(IntCodecTest, BlockLowerBoundAgreesWithStdLowerBound) {
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < 200; ++iter) {
    const size_t rows = 1 + rng() % 700;
    Column c = RandomColumn(rng, rows, 0, 0);
    if (iter % 3 == 0) {
      // Runs of equal times, also across block edges.
      for (size_t i = 1; i < rows; ++i) {
        if (rng() % 2) c.values[i] = c.values[i - 1];
      }
    }
    std::vector<uint32_t> perm(rows);
    std::iota(perm.begin(), perm.end(), 0);
    std::vector<int64_t> probes = {std::numeric_limits<int64_t>::min(),
                                   c.values.front() - 1,
                                   c.values.front(),
                                   c.values.back(),
                                   c.values.back() + 1,
                                   std::numeric_limits<int64_t>::max()};
    for (int k = 0; k < 40; ++k) {
      int64_t v = c.values[rng() % rows];
      probes.push_back(v);
      probes.push_back(v + 1);
      probes.push_back(v - 1);
    }
    std::string raw;
    Encode(kEncIntBlocks, c.values, c.present, perm, &raw);
    for (int64_t probe : probes) {
      size_t want = static_cast<size_t>(std::lower_bound(c.values.begin(), c.values.end(), probe) -
                                        c.values.begin());
      ASSERT_OK_AND_ASSIGN(size_t got, BlocksLowerBound(raw, rows, probe));
      ASSERT_EQ(got, want) << "probe " << probe << " rows " << rows;
    }
  }
}

TEST(IntCodecTest, LowerBoundOfAnEmptyColumnIsZero) {
  std::string raw;
  Encode(kEncIntBlocks, {}, {}, {}, &raw);
  ASSERT_OK_AND_ASSIGN(size_t got, BlocksLowerBound(raw, 0, 5));
  EXPECT_EQ(got, 0u);
}

TEST(IntCodecTest, BlockSearchNeedsAValueInEveryRowAndWellFormedBlocks) {
  std::string raw;
  Encode(kEncIntBlocks, {1, 2, 3}, {true, false, true}, {0, 1, 2}, &raw);
  EXPECT_THAT(BlocksLowerBound(raw, 3, 2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("null")));
  raw.clear();
  Encode(kEncIntBlocks, {1, 2, 3}, {true, true, true}, {0, 1, 2}, &raw);
  for (size_t len = 0; len < raw.size(); ++len) {
    EXPECT_THAT(BlocksLowerBound(raw.substr(0, len), 3, 2), IsDataLoss()) << "length " << len;
  }
  EXPECT_THAT(BlocksLowerBound(raw + '\x00', 3, 2), IsDataLoss());
}

TEST(IntCodecTest, TruncatedOrExtendedBytesAreDataLoss) {
  std::mt19937_64 rng(3);
  for (int shape = 0; shape < 3; ++shape) {
    Column c = RandomColumn(rng, 300, shape, 5);
    std::vector<uint32_t> perm(300);
    std::iota(perm.begin(), perm.end(), 0);
    for (uint8_t encoding : kEncodings) {
      if (encoding == kEncIntDict && !DistinctAtMost(c.values, c.present, kMaxDictValues)) {
        continue;
      }
      std::string raw;
      Encode(encoding, c.values, c.present, perm, &raw);
      for (size_t len = 0; len < raw.size(); ++len) {
        EXPECT_THAT(Decode(encoding, raw.substr(0, len), 300), IsDataLoss())
            << "encoding " << int{encoding} << " length " << len;
      }
      EXPECT_THAT(Decode(encoding, raw + '\x01', 300), IsDataLoss());
    }
  }
}

TEST(IntCodecTest, MalformedLayoutsAreDataLoss) {
  // Bits set past the last row.
  EXPECT_THAT(Decode(kEncIntDelta, std::string("\xFF\x00\x00\x00\x00\x00\x00\x00\x00", 9), 3),
              IsDataLoss());
  // A block width over 8 bytes (after the bitmap byte and the block's first value).
  std::string blocks;
  Encode(kEncIntBlocks, {5, 6}, {true, true}, {0, 1}, &blocks);
  blocks[1 + 8] = 9;
  EXPECT_THAT(Decode(kEncIntBlocks, blocks, 2), IsDataLoss());
  // A dictionary code past the dictionary.
  std::string dict;
  Encode(kEncIntDict, {5, 6}, {true, true}, {0, 1}, &dict);
  dict.back() = 3;
  EXPECT_THAT(Decode(kEncIntDict, dict, 2), IsDataLoss());
  // A dictionary larger than one-byte codes can address.
  EXPECT_THAT(Decode(kEncIntDict, "\x80\x02", 2), IsDataLoss());  // varint 256
  // Not an int encoding.
  EXPECT_THAT(Decode(segment_format::kEncDict, std::string(1, '\0'), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an int")));
}

}  // namespace
}  // namespace kq::storage::int_codec
