#include "storage/int_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "storage/segment_codec.h"
#include "storage/segment_format.h"

namespace kq::storage::int_codec {
namespace {

using segment_codec::DecodeVarint;
using segment_format::Corrupt;
using segment_format::kEncIntBlocks;
using segment_format::kEncIntDelta;
using segment_format::kEncIntDict;

// Two's-complement arithmetic without signed overflow: any int64 values delta-code.
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Little-endian `width` (0 to 8) bytes.
void PutLittleEndian(std::string* out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof(x));
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  return x;
}

// The presence bitmap that starts every int encoding.
struct Presence {
  std::string_view bits;
  size_t present = 0;  // rows with a value
  bool all = false;    // every row has one
};

// Splits the bitmap off `in`; DataLoss when short or when bits past `rows` are set.
absl::StatusOr<Presence> TakePresence(std::string_view* in, size_t rows) {
  const size_t bytes = (rows + 7) / 8;
  if (in->size() < bytes) return Corrupt("int bitmap");
  Presence p;
  p.bits = in->substr(0, bytes);
  in->remove_prefix(bytes);
  if (rows == 0) {
    p.all = true;
    return p;
  }
  // Every row present (the time column, most code columns): all bits set, checked a word at a
  // time without an early exit, so that the loop vectorizes.
  const size_t full = rows / 8;
  uint64_t all_ones = ~0ull;
  size_t i = 0;
  for (; i + 8 <= full; i += 8) {
    uint64_t word;
    std::memcpy(&word, p.bits.data() + i, sizeof(word));
    all_ones &= word;
  }
  for (; i < full; ++i) all_ones &= 0xFFFFFFFFFFFFFF00ull | static_cast<uint8_t>(p.bits[i]);
  if (all_ones == ~0ull &&
      (rows % 8 == 0 || static_cast<uint8_t>(p.bits.back()) == (1u << (rows % 8)) - 1)) {
    p.present = rows;
    p.all = true;
    return p;
  }
  // Eight bytes per count: without -mpopcnt each std::popcount is a library call.
  for (i = 0; i + 8 <= bytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, p.bits.data() + i, sizeof(word));
    p.present += static_cast<size_t>(std::popcount(word));
  }
  for (; i < bytes; ++i) {
    p.present += static_cast<size_t>(std::popcount(static_cast<uint8_t>(p.bits[i])));
  }
  if (rows % 8 != 0 && (static_cast<uint8_t>(p.bits.back()) >> (rows % 8)) != 0) {
    return Corrupt("int bitmap");
  }
  p.all = p.present == rows;
  return p;
}

// The present values of rows perm[0], perm[1], ... after the bitmap that marks them.
std::vector<int64_t> PresentValues(const std::vector<int64_t>& values,
                                   const std::vector<bool>& present,
                                   const std::vector<uint32_t>& perm, std::string* out) {
  const size_t bitmap_at = out->size();
  out->append((perm.size() + 7) / 8, '\0');
  std::vector<int64_t> kept;
  kept.reserve(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (!present[perm[i]]) continue;
    char& byte = (*out)[bitmap_at + i / 8];
    byte = static_cast<char>(static_cast<uint8_t>(byte) | (1u << (i % 8)));
    kept.push_back(values[perm[i]]);
  }
  return kept;
}

void EncodeDelta(const std::vector<int64_t>& kept, std::string* out) {
  int64_t prev = 0;
  for (int64_t v : kept) {
    PutVarint64(out, ZigZagEncode(WrapSub(v, prev)));
    prev = v;
  }
}

void EncodeBlocks(const std::vector<int64_t>& kept, std::string* out) {
  for (size_t start = 0; start < kept.size(); start += kBlockValues) {
    const size_t n = std::min(kBlockValues, kept.size() - start);
    uint64_t widest = 0;
    for (size_t i = start + 1; i < start + n; ++i) {
      widest |= ZigZagEncode(WrapSub(kept[i], kept[i - 1]));
    }
    const int width = (std::bit_width(widest) + 7) / 8;
    PutLittleEndian(out, static_cast<uint64_t>(kept[start]), 8);
    out->push_back(static_cast<char>(width));
    for (size_t i = start + 1; i < start + n; ++i) {
      PutLittleEndian(out, ZigZagEncode(WrapSub(kept[i], kept[i - 1])), width);
    }
  }
}

// IntDict has no presence bitmap: code 0 is null, code k the k-th (from 1) dictionary value.
void EncodeDict(const std::vector<int64_t>& values, const std::vector<bool>& present,
                const std::vector<uint32_t>& perm, std::string* out) {
  std::vector<int64_t> dict;
  for (uint32_t r : perm) {
    if (present[r]) dict.push_back(values[r]);
  }
  std::sort(dict.begin(), dict.end());
  dict.erase(std::unique(dict.begin(), dict.end()), dict.end());
  PutVarint64(out, dict.size());
  for (int64_t v : dict) PutVarint64(out, ZigZagEncode(v));
  for (uint32_t r : perm) {
    const auto code = present[r] ? std::lower_bound(dict.begin(), dict.end(), values[r]) -
                                       dict.begin() + 1
                                 : 0;
    out->push_back(static_cast<char>(code));
  }
}

// IntDelta's `n` values into out[0..n).
absl::Status DecodeDeltaValues(std::string_view in, const Presence& presence, int64_t* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  p = segment_codec::DecodeDeltas(p, end, presence.present, out);
  if (p == nullptr) return Corrupt("int value");
  if (p != end) return Corrupt("int trailing bytes");
  return absl::OkStatus();
}

// One IntBlocks block of `n` values at *p into out[0..n); advances *p.
absl::Status DecodeBlock(const uint8_t** p, const uint8_t* end, size_t n, int64_t* out) {
  if (end - *p < 9) return Corrupt("int block header");
  int64_t prev = static_cast<int64_t>(LoadLittleEndian64(*p));
  const int width = (*p)[8];
  *p += 9;
  if (width > 8) return Corrupt("int block width");
  const size_t bytes = (n - 1) * static_cast<size_t>(width);
  if (static_cast<size_t>(end - *p) < bytes) return Corrupt("int block values");
  out[0] = prev;
  const uint8_t* q = *p;
  const uint64_t mask = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;
  if (static_cast<size_t>(end - q) >= bytes + 8) {
    // Eight readable bytes after every delta: one unaligned load each, no length branch.
    for (size_t i = 1; i < n; ++i, q += width) {
      prev = WrapAdd(prev, ZigZagDecode(LoadLittleEndian64(q) & mask));
      out[i] = prev;
    }
  } else {
    for (size_t i = 1; i < n; ++i, q += width) {
      uint64_t z = 0;
      for (int b = 0; b < width; ++b) z |= static_cast<uint64_t>(q[b]) << (8 * b);
      prev = WrapAdd(prev, ZigZagDecode(z));
      out[i] = prev;
    }
  }
  *p = q;
  return absl::OkStatus();
}

absl::Status DecodeBlockValues(std::string_view in, const Presence& presence, int64_t* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  for (size_t start = 0; start < presence.present; start += kBlockValues) {
    const size_t n = std::min(kBlockValues, presence.present - start);
    KQ_RETURN_IF_ERROR(DecodeBlock(&p, end, n, out + start));
  }
  if (p != end) return Corrupt("int trailing bytes");
  return absl::OkStatus();
}

absl::StatusOr<IntColumn> DecodeDict(std::string_view in, size_t rows) {
  uint64_t ndict;
  if (!GetVarint64(&in, &ndict) || ndict > kMaxDictValues) return Corrupt("int dictionary size");
  // Slot 0 is null; slots past ndict stay 0 and are caught by the code check below.
  int64_t dict[kMaxDictValues + 1] = {};
  for (uint64_t i = 1; i <= ndict; ++i) {
    uint64_t z;
    if (!GetVarint64(&in, &z)) return Corrupt("int dictionary value");
    dict[i] = ZigZagDecode(z);
  }
  if (in.size() != rows) return Corrupt("int dictionary codes");
  const auto* codes = reinterpret_cast<const uint8_t*>(in.data());
  IntColumn col;
  col.values.resize(rows);
  col.present.resize(rows);
  uint8_t max_code = 0;
  for (size_t i = 0; i < rows; ++i) {
    max_code = std::max(max_code, codes[i]);
    col.values[i] = dict[codes[i]];
    col.present[i] = codes[i] != 0;
  }
  if (max_code > ndict) return Corrupt("int dictionary code");
  col.dict.assign(dict + 1, dict + 1 + ndict);
  col.codes.assign(codes, codes + rows);
  return col;
}

// The present values of a column in row order (`presence.present` of them).
absl::Status DecodeValues(uint8_t encoding, std::string_view in, const Presence& presence,
                          int64_t* out) {
  switch (encoding) {
    case kEncIntDelta:
      return DecodeDeltaValues(in, presence, out);
    case kEncIntBlocks:
      return DecodeBlockValues(in, presence, out);
    default:
      return absl::InvalidArgumentError(absl::StrCat("encoding ", encoding, " is not an int one"));
  }
}

}  // namespace

bool DistinctAtMost(const std::vector<int64_t>& values, const std::vector<bool>& present,
                    size_t limit) {
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < values.size(); ++i) {
    if (present[i] && seen.insert(values[i]).second && seen.size() > limit) return false;
  }
  return true;
}

void Encode(uint8_t encoding, const std::vector<int64_t>& values, const std::vector<bool>& present,
            const std::vector<uint32_t>& perm, std::string* out) {
  if (encoding == kEncIntDict) return EncodeDict(values, present, perm, out);
  const std::vector<int64_t> kept = PresentValues(values, present, perm, out);
  if (encoding == kEncIntBlocks) return EncodeBlocks(kept, out);
  EncodeDelta(kept, out);
}

absl::StatusOr<IntColumn> Decode(uint8_t encoding, std::string_view raw, size_t rows) {
  if (encoding == kEncIntDict) return DecodeDict(raw, rows);
  KQ_ASSIGN_OR_RETURN(Presence presence, TakePresence(&raw, rows));
  IntColumn col;
  col.values.resize(rows);
  if (presence.all) {
    col.present.assign(rows, 1);
    KQ_RETURN_IF_ERROR(DecodeValues(encoding, raw, presence, col.values.data()));
    return col;
  }
  std::vector<int64_t> kept(presence.present + 1);  // + 1: the scatter below reads one past
  KQ_RETURN_IF_ERROR(DecodeValues(encoding, raw, presence, kept.data()));
  // Without a branch per row: each row takes the next value, which only a present row uses up.
  col.present.resize(rows);
  size_t next = 0;
  for (size_t row = 0; row < rows; ++row) {
    const uint8_t bit = (static_cast<uint8_t>(presence.bits[row / 8]) >> (row % 8)) & 1u;
    col.present[row] = bit;
    col.values[row] = bit ? kept[next] : 0;
    next += bit;
  }
  return col;
}

absl::StatusOr<BlockIndex> IndexBlocks(std::string_view raw, size_t rows) {
  KQ_ASSIGN_OR_RETURN(Presence presence, TakePresence(&raw, rows));
  if (!presence.all) return absl::FailedPreconditionError("int column has null rows");
  BlockIndex index;
  index.blocks = raw;
  index.rows = rows;
  const auto* begin = reinterpret_cast<const uint8_t*>(raw.data());
  const uint8_t* end = begin + raw.size();
  const uint8_t* p = begin;
  for (size_t start = 0; start < rows; start += kBlockValues) {
    const size_t n = std::min(kBlockValues, rows - start);
    if (end - p < 9) return Corrupt("int block header");
    const size_t bytes = 9 + (n - 1) * static_cast<size_t>(p[8]);
    if (static_cast<size_t>(end - p) < bytes) return Corrupt("int block values");
    index.firsts.push_back(static_cast<int64_t>(LoadLittleEndian64(p)));
    index.offsets.push_back(static_cast<size_t>(p - begin));
    p += bytes;
  }
  if (p != end) return Corrupt("int trailing bytes");
  return index;
}

absl::StatusOr<size_t> LowerBound(const BlockIndex& index, int64_t value) {
  // The first block whose first value is >= value; the answer is in the block before it, or is
  // that block's first row.
  const size_t after = static_cast<size_t>(
      std::lower_bound(index.firsts.begin(), index.firsts.end(), value) - index.firsts.begin());
  if (after == 0) return 0;
  const size_t block = after - 1;
  const size_t start = block * kBlockValues;
  const size_t n = std::min(kBlockValues, index.rows - start);
  const auto* begin = reinterpret_cast<const uint8_t*>(index.blocks.data());
  const uint8_t* p = begin + index.offsets[block];
  int64_t values[kBlockValues];
  KQ_RETURN_IF_ERROR(DecodeBlock(&p, begin + index.blocks.size(), n, values));
  return start + static_cast<size_t>(std::lower_bound(values, values + n, value) - values);
}

}  // namespace kq::storage::int_codec
