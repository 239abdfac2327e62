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

// The block count of `values` values.
size_t BlockCount(size_t values) { return (values + kBlockValues - 1) / kBlockValues; }

void EncodeBlocks(const std::vector<int64_t>& kept, std::string* out) {
  const size_t nblocks = BlockCount(kept.size());
  std::string widths, deltas;
  for (size_t b = 0; b < nblocks; ++b) {
    const size_t start = b * kBlockValues;
    const size_t end = std::min(start + kBlockValues, kept.size());
    uint64_t widest = 0;
    for (size_t i = start + 1; i < end; ++i) widest |= ZigZagEncode(WrapSub(kept[i], kept[i - 1]));
    const int width = (std::bit_width(widest) + 7) / 8;
    PutLittleEndian(out, static_cast<uint64_t>(kept[start]), 8);
    widths.push_back(static_cast<char>(width));
    for (size_t i = start + 1; i < end; ++i) {
      PutLittleEndian(&deltas, ZigZagEncode(WrapSub(kept[i], kept[i - 1])), width);
    }
  }
  out->append(widths);
  out->append(deltas);
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
    const auto code =
        present[r] ? std::lower_bound(dict.begin(), dict.end(), values[r]) - dict.begin() + 1 : 0;
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

// An IntBlocks column after its presence bitmap, checked: every width at most 8 and the deltas
// exactly as long as the widths say.
struct Blocks {
  const uint8_t* firsts = nullptr;  // count × 8 bytes
  const uint8_t* widths = nullptr;  // count bytes
  const uint8_t* deltas = nullptr;  // to `end`
  const uint8_t* end = nullptr;
  size_t values = 0;
  size_t count = 0;

  int64_t First(size_t b) const { return static_cast<int64_t>(LoadLittleEndian64(firsts + 8 * b)); }
  size_t Size(size_t b) const { return std::min(kBlockValues, values - b * kBlockValues); }
  size_t DeltaBytes(size_t b) const { return (Size(b) - 1) * widths[b]; }
};

absl::StatusOr<Blocks> SplitBlocks(std::string_view in, size_t values) {
  Blocks blocks;
  blocks.values = values;
  blocks.count = BlockCount(values);
  if (in.size() / 9 < blocks.count) return Corrupt("int block headers");
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  blocks.firsts = p;
  blocks.widths = p + 8 * blocks.count;
  blocks.deltas = blocks.widths + blocks.count;
  blocks.end = p + in.size();
  size_t total = 0;
  for (size_t b = 0; b < blocks.count; ++b) {
    if (blocks.widths[b] > 8) return Corrupt("int block width");
    total += blocks.DeltaBytes(b);
  }
  if (static_cast<size_t>(blocks.end - blocks.deltas) != total) return Corrupt("int block values");
  return blocks;
}

// Block `b`, whose deltas start at `deltas`, into out[0..Size(b)).
void DecodeBlock(const Blocks& blocks, size_t b, const uint8_t* deltas, int64_t* out) {
  const size_t n = blocks.Size(b);
  const int width = blocks.widths[b];
  const uint64_t mask = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;
  int64_t prev = blocks.First(b);
  out[0] = prev;
  size_t i = 1;
  // One unaligned load per delta while eight bytes are readable; the last few bytewise.
  for (; i < n && blocks.end - deltas >= 8; ++i, deltas += width) {
    prev = WrapAdd(prev, ZigZagDecode(LoadLittleEndian64(deltas) & mask));
    out[i] = prev;
  }
  for (; i < n; ++i, deltas += width) {
    uint64_t z = 0;
    for (int k = 0; k < width; ++k) z |= static_cast<uint64_t>(deltas[k]) << (8 * k);
    prev = WrapAdd(prev, ZigZagDecode(z));
    out[i] = prev;
  }
}

absl::Status DecodeBlockValues(std::string_view in, const Presence& presence, int64_t* out) {
  KQ_ASSIGN_OR_RETURN(Blocks blocks, SplitBlocks(in, presence.present));
  const uint8_t* deltas = blocks.deltas;
  for (size_t b = 0; b < blocks.count; ++b) {
    DecodeBlock(blocks, b, deltas, out + b * kBlockValues);
    deltas += blocks.DeltaBytes(b);
  }
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

absl::StatusOr<size_t> BlocksLowerBound(std::string_view raw, size_t rows, int64_t value) {
  KQ_ASSIGN_OR_RETURN(Presence presence, TakePresence(&raw, rows));
  if (!presence.all) return absl::FailedPreconditionError("int column has null rows");
  KQ_ASSIGN_OR_RETURN(Blocks blocks, SplitBlocks(raw, rows));
  // The first block whose first value is >= value: the answer is in the block before it, or is
  // that block's first row.
  size_t lo = 0, hi = blocks.count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (blocks.First(mid) < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return 0;
  const size_t b = lo - 1;
  const uint8_t* deltas = blocks.deltas;
  for (size_t j = 0; j < b; ++j) deltas += blocks.DeltaBytes(j);
  int64_t values[kBlockValues];
  DecodeBlock(blocks, b, deltas, values);
  const size_t n = blocks.Size(b);
  return b * kBlockValues +
         static_cast<size_t>(std::lower_bound(values, values + n, value) - values);
}

}  // namespace kq::storage::int_codec
