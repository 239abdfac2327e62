// Decoding helpers shared by the segment readers (segment_view.cc: columns and body blocks;
// segment_rows.cc: whole events and picked rows). Internal to the storage module; the layouts
// are in docs/format.md, "Segment" and "BodyBlock". Stateless and thread-safe.
#ifndef KQ_STORAGE_SEGMENT_CODEC_H_
#define KQ_STORAGE_SEGMENT_CODEC_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/coding.h"

namespace kq::storage::segment_codec {

// GetVarint64, out of line: the slow path of the inline decoders below.
bool LongVarint(std::string_view* in, uint64_t* v);

// A varint, decoded inline when at least ten bytes remain (time deltas take three or four);
// near the end of the input, out of line.
inline bool NextVarint(std::string_view* in, uint64_t* v) {
  if (in->size() >= 10) {
    const auto* p = reinterpret_cast<const uint8_t*>(in->data());
    uint64_t result = 0;
    for (size_t i = 0; i < 10; ++i) {
      const uint64_t b = p[i];
      result |= (b & 0x7Fu) << (7 * i);
      if (b < 0x80) {
        *v = result;
        in->remove_prefix(i + 1);
        return true;
      }
    }
    return false;
  }
  return LongVarint(in, v);
}

// The varint at p (p < end), inline; the position after it, or nullptr when malformed.
// (A decoder without a branch on the length, one 64-bit load and masks, measured slower: 13.2
// against 11.0 ms for errors per 5 minutes at 1M; the byte loop's branches predict well.)
inline const uint8_t* DecodeVarint(const uint8_t* p, const uint8_t* end, uint64_t* v) {
  if (end - p >= 10) {
    uint64_t result = 0;
    for (size_t i = 0; i < 10; ++i) {
      const uint64_t b = p[i];
      result |= (b & 0x7Fu) << (7 * i);
      if (b < 0x80) {
        *v = result;
        return p + i + 1;
      }
    }
    return nullptr;
  }
  std::string_view in(reinterpret_cast<const char*>(p), static_cast<size_t>(end - p));
  if (!LongVarint(&in, v)) return nullptr;
  return reinterpret_cast<const uint8_t*>(in.data());
}

// The bytes of [p, p + 64) that end a varint (high bit clear), one bit per byte, lowest first.
inline uint64_t VarintEnds64(const uint8_t* p) {
  uint64_t ends = 0;
  for (int w = 0; w < 8; ++w) {
    uint64_t x;
    std::memcpy(&x, p + 8 * w, sizeof(x));
    if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
    // The inverted high bit of each byte, gathered into the top byte by one multiply.
    const uint64_t stops = (~x & 0x8080808080808080ull) >> 7;
    ends |= ((stops * 0x0102040810204080ull) >> 56) << (8 * w);
  }
  return ends;
}

// The varint of `len` (1 to 8) bytes at p, with eight bytes readable at p.
inline uint64_t PackVarint(const uint8_t* p, int len) {
  uint64_t x;
  std::memcpy(&x, p, sizeof(x));
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  x &= len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
  x &= 0x7F7F7F7F7F7F7F7Full;
  x = ((x & 0x7F007F007F007F00ull) >> 1) | (x & 0x007F007F007F007Full);
  x = ((x & 0x3FFF00003FFF0000ull) >> 2) | (x & 0x00003FFF00003FFFull);
  x = ((x & 0x0FFFFFFF00000000ull) >> 4) | (x & 0x000000000FFFFFFFull);
  return x;
}

// Decodes `n` zigzag varint deltas from [p, end) into out[0..n) as running sums starting from
// `prev`, one varint at a time (best when most varints take one byte: the length branch
// predicts well). The position after the last varint, or nullptr when malformed.
inline const uint8_t* DecodeDeltasBytewise(const uint8_t* p, const uint8_t* end, size_t n,
                                           int64_t* out, int64_t prev = 0) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t z;
    if (p == end || (p = DecodeVarint(p, end, &z)) == nullptr) return nullptr;
    prev += ZigZagDecode(z);
    out[i] = prev;
  }
  return p;
}

// Decodes `n` zigzag varint deltas from [p, end) into out[0..n) as running sums (the first
// value is the first delta). The position after the last varint, or nullptr when malformed.
//
// The ends of 64 bytes' varints are found at once (a bit mask), so each varint's start is known
// without decoding the one before it: the loads and unpacking of successive varints overlap,
// and only the bit-clearing and the running sum are serial. (Decoding one varint at a time
// chains every load on the previous varint's length.)
template <typename Pack>
inline const uint8_t* DecodeDeltasWith(const uint8_t* p, const uint8_t* end, size_t n, int64_t* out,
                                       Pack pack) {
  int64_t prev = 0;
  size_t i = 0;
  // A block is read while 64 + 8 bytes remain: a varint starting in it has 8 readable bytes.
  while (i < n && end - p >= 72) {
    uint64_t ends = VarintEnds64(p);
    if (ends == 0) return nullptr;  // 64 bytes without an end: longer than any varint
    const uint8_t* start = p;
    while (ends != 0 && i < n) {
      // Eight one-byte varints in a row (small deltas, e.g. status codes): no unpacking.
      const int off = static_cast<int>(start - p);
      if (off <= 56 && ((ends >> off) & 0xFF) == 0xFF && n - i >= 8) {
        for (int k = 0; k < 8; ++k) {
          prev += ZigZagDecode(start[k]);
          out[i++] = prev;
        }
        start += 8;
        ends &= off == 56 ? 0 : ~0ull << (off + 8);
        continue;
      }
      const uint8_t* last = p + std::countr_zero(ends);
      ends &= ends - 1;
      const int len = static_cast<int>(last - start) + 1;
      uint64_t z;
      if (len <= 8) {
        z = pack(start, len);
      } else if (DecodeVarint(start, end, &z) != last + 1) {
        return nullptr;
      }
      prev += ZigZagDecode(z);
      out[i++] = prev;
      start = last + 1;
    }
    p = start;
  }
  return DecodeDeltasBytewise(p, end, n - i, out + i, prev);
}

#if defined(__x86_64__) && defined(__GNUC__)
// With BMI2, one PEXT gathers a varint's 7-bit groups.
__attribute__((target("bmi2"))) inline const uint8_t* DecodeDeltasBmi2(const uint8_t* p,
                                                                       const uint8_t* end, size_t n,
                                                                       int64_t* out) {
  return DecodeDeltasWith(p, end, n, out, [](const uint8_t* q, int len) {
    uint64_t x;
    std::memcpy(&x, q, sizeof(x));
    const uint64_t groups = len == 8 ? 0x7F7F7F7F7F7F7F7Full : (1ull << (8 * len)) - 1;
    return static_cast<uint64_t>(__builtin_ia32_pext_di(x, groups & 0x7F7F7F7F7F7F7F7Full));
  });
}
#endif

// The running sums of `n` zigzag varint deltas: bytewise when they average under two bytes
// (status codes), else DecodeDeltasWith, with PEXT when the CPU has a fast one (checked once:
// AMD Zen 1 and 2 have BMI2 but run PEXT in microcode, far slower than the shifts it replaces).
inline const uint8_t* DecodeDeltas(const uint8_t* p, const uint8_t* end, size_t n, int64_t* out) {
  if (static_cast<size_t>(end - p) < 2 * n) return DecodeDeltasBytewise(p, end, n, out);
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool bmi2 =
      __builtin_cpu_supports("bmi2") && !__builtin_cpu_is("znver1") && !__builtin_cpu_is("znver2");
  if (bmi2) return DecodeDeltasBmi2(p, end, n, out);
#endif
  return DecodeDeltasWith(p, end, n, out, PackVarint);
}

// One chunk of a ChunkedBlob: rows [first_row, first_row + rows).
struct BlobChunk {
  size_t first_row;
  size_t rows;
  uint8_t compression;
  size_t stored_len;
  std::string_view stored;  // the frame, inside the parsed bytes
  size_t raw_len;
};

// The chunks of a ChunkedBlob of `rows` rows (views into `in`); DataLoss when malformed.
[[nodiscard]] absl::StatusOr<std::vector<BlobChunk>> ParseChunks(std::string_view in, size_t rows);

// The version byte of a BodyBlock, checked (DataLoss when unknown).
[[nodiscard]] absl::StatusOr<uint8_t> BodyVersion(std::string_view value);

// A version 1 BodyBlock after its version byte (compression varint(raw_len) data): the one
// Blob frame of every row, decompressed.
[[nodiscard]] absl::StatusOr<std::string> BodyBlockV1Raw(std::string_view value);

}  // namespace kq::storage::segment_codec

#endif  // KQ_STORAGE_SEGMENT_CODEC_H_
