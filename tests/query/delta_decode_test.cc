// segment_codec::DecodeDeltas (the int-column decoder of the scan path) against varints
// written by PutVarint64 and running sums computed here, for every varint length, runs of
// one-byte varints, block boundaries, and malformed input.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "storage/segment_codec.h"

namespace kq::storage {
namespace {

struct Encoded {
  std::string bytes;
  std::vector<int64_t> sums;  // running sums of the deltas, added here one by one
  std::vector<size_t> ends;   // byte offset after each varint
};

Encoded Encode(const std::vector<int64_t>& deltas) {
  Encoded e;
  int64_t sum = 0;
  for (int64_t d : deltas) {
    PutVarint64(&e.bytes, ZigZagEncode(d));
    sum = static_cast<int64_t>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(d));
    e.sums.push_back(sum);
    e.ends.push_back(e.bytes.size());
  }
  return e;
}

// Deltas whose zigzag varints take `len` bytes (1 to 10), with both signs.
int64_t DeltaOfLength(std::mt19937_64& rng, int len) {
  const uint64_t lo = len == 1 ? 0 : uint64_t{1} << (7 * (len - 1));
  const uint64_t hi = len == 10 ? ~uint64_t{0} : (uint64_t{1} << (7 * len)) - 1;
  const uint64_t z = lo + rng() % (hi - lo);
  return ZigZagDecode(z);
}

const uint8_t* Begin(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::vector<int64_t> MixedDeltas(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> deltas;
  while (deltas.size() < n) {
    if (rng() % 4 == 0) {  // a run of one-byte varints, like status code deltas
      for (size_t k = rng() % 40; k > 0; --k) deltas.push_back(DeltaOfLength(rng, 1));
    } else {
      deltas.push_back(DeltaOfLength(rng, 1 + static_cast<int>(rng() % 10)));
    }
  }
  deltas.resize(n);
  return deltas;
}

TEST(DeltaDecodeTest, EveryLengthMatchesRunningSums) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    Encoded e = Encode(MixedDeltas(5000, seed));
    std::vector<int64_t> out(e.sums.size());
    const uint8_t* end = Begin(e.bytes) + e.bytes.size();
    EXPECT_EQ(segment_codec::DecodeDeltas(Begin(e.bytes), end, out.size(), out.data()), end);
    EXPECT_EQ(out, e.sums);
    std::vector<int64_t> portable(e.sums.size());
    EXPECT_EQ(segment_codec::DecodeDeltasWith(Begin(e.bytes), end, portable.size(), portable.data(),
                                              segment_codec::PackVarint),
              end);
    EXPECT_EQ(portable, e.sums);
    std::vector<int64_t> bytewise(e.sums.size());
    EXPECT_EQ(
        segment_codec::DecodeDeltasBytewise(Begin(e.bytes), end, bytewise.size(), bytewise.data()),
        end);
    EXPECT_EQ(bytewise, e.sums);
  }
}

TEST(DeltaDecodeTest, StopsAfterTheAskedCount) {
  Encoded e = Encode(MixedDeltas(700, 9));
  const uint8_t* end = Begin(e.bytes) + e.bytes.size();
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{64}, size_t{333},
                   size_t{699}}) {
    std::vector<int64_t> out(n);
    EXPECT_EQ(segment_codec::DecodeDeltas(Begin(e.bytes), end, n, out.data()),
              n == 0 ? Begin(e.bytes) : Begin(e.bytes) + e.ends[n - 1])
        << n;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), e.sums.begin())) << n;
  }
}

TEST(DeltaDecodeTest, OneByteRunsAcrossBlockBoundaries) {
  std::vector<int64_t> deltas;
  for (int i = 0; i < 300; ++i) deltas.push_back(i % 3 == 0 ? 0 : (i % 2 ? 1 : -1));
  deltas[70] = 1 << 20;  // one long varint inside the run
  Encoded e = Encode(deltas);
  std::vector<int64_t> out(deltas.size());
  const uint8_t* end = Begin(e.bytes) + e.bytes.size();
  EXPECT_EQ(segment_codec::DecodeDeltas(Begin(e.bytes), end, out.size(), out.data()), end);
  EXPECT_EQ(out, e.sums);
  std::vector<int64_t> blocks(deltas.size());
  EXPECT_EQ(segment_codec::DecodeDeltasWith(Begin(e.bytes), end, blocks.size(), blocks.data(),
                                            segment_codec::PackVarint),
            end);
  EXPECT_EQ(blocks, e.sums);
}

TEST(DeltaDecodeTest, MalformedInputIsNull) {
  Encoded e = Encode(MixedDeltas(200, 4));
  std::vector<int64_t> out(201);
  // One varint more than the bytes hold.
  EXPECT_EQ(
      segment_codec::DecodeDeltas(Begin(e.bytes), Begin(e.bytes) + e.bytes.size(), 201, out.data()),
      nullptr);
  // The last varint cut short.
  std::string cut = e.bytes.substr(0, e.ends[199] - 1);
  if (e.ends[199] - e.ends[198] > 1) {
    EXPECT_EQ(segment_codec::DecodeDeltas(Begin(cut), Begin(cut) + cut.size(), 200, out.data()),
              nullptr);
  }
  // Continuation bytes with no end, inside a block and at the tail.
  std::string endless(100, '\x80');
  EXPECT_EQ(
      segment_codec::DecodeDeltas(Begin(endless), Begin(endless) + endless.size(), 1, out.data()),
      nullptr);
  // An eleven-byte varint followed by enough bytes for the block path.
  std::string overlong = std::string(10, '\x81') + std::string(80, '\x01');
  EXPECT_EQ(segment_codec::DecodeDeltas(Begin(overlong), Begin(overlong) + overlong.size(), 5,
                                        out.data()),
            nullptr);
}

}  // namespace
}  // namespace kq::storage
