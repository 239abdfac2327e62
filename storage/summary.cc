#include "storage/summary.h"

#include <algorithm>

#include "absl/status/status.h"
#include "common/coding.h"
#include "storage/hash.h"

namespace kq::storage {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kMaxExactValues = 64;
constexpr size_t kMaxExactBytes = 4096;
constexpr uint32_t kBitsPerValue = 10;
constexpr uint32_t kProbes = 7;

uint32_t Probe(uint64_t h, uint32_t i, uint32_t nbits) {
  uint64_t h1 = h & 0xffffffffu, h2 = h >> 32;
  return static_cast<uint32_t>((h1 + i * h2) % nbits);
}

}  // namespace

bool ValueSet::MayContain(std::string_view value) const {
  if (!bloom) return std::binary_search(values.begin(), values.end(), value);
  if (nbits == 0) return false;
  uint64_t h = Hash64(value);
  for (uint32_t i = 0; i < nprobes; ++i) {
    uint32_t bit = Probe(h, i, nbits);
    if ((static_cast<uint8_t>(bits[bit / 8]) & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

ValueSet MakeValueSet(uint32_t column, std::span<const std::string_view> distinct) {
  ValueSet set;
  set.column = column;
  size_t bytes = 0;
  for (std::string_view v : distinct) bytes += v.size();
  if (distinct.size() <= kMaxExactValues && bytes <= kMaxExactBytes) {
    set.values.assign(distinct.begin(), distinct.end());
    std::sort(set.values.begin(), set.values.end());
    return set;
  }
  set.bloom = true;
  set.nprobes = kProbes;
  set.nbits = std::max<uint32_t>(64, static_cast<uint32_t>(distinct.size()) * kBitsPerValue);
  set.bits.assign((set.nbits + 7) / 8, '\0');
  for (std::string_view v : distinct) {
    uint64_t h = Hash64(v);
    for (uint32_t i = 0; i < set.nprobes; ++i) {
      uint32_t bit = Probe(h, i, set.nbits);
      set.bits[bit / 8] =
          static_cast<char>(static_cast<uint8_t>(set.bits[bit / 8]) | (1u << (bit % 8)));
    }
  }
  return set;
}

const ValueSet* Summary::Find(uint32_t column) const {
  for (const auto& s : sets) {
    if (s.column == column) return &s;
  }
  return nullptr;
}

std::string Summary::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  PutVarint64(&out, rows);
  PutVarint64(&out, ZigZagEncode(min_time));
  PutVarint64(&out, ZigZagEncode(max_time));
  PutVarint64(&out, raw_bytes);
  PutVarint64(&out, segment_bytes);
  PutVarint64(&out, body_bytes);
  out.push_back(bodies_dropped ? 1 : 0);
  PutVarint64(&out, sets.size());
  for (const auto& s : sets) {
    PutVarint64(&out, s.column);
    out.push_back(s.bloom ? 1 : 0);
    if (s.bloom) {
      PutVarint64(&out, s.nbits);
      PutVarint64(&out, s.nprobes);
      out.append(s.bits);
    } else {
      PutVarint64(&out, s.values.size());
      for (const auto& v : s.values) PutLengthPrefixed(&out, v);
    }
  }
  return out;
}

absl::StatusOr<Summary> Summary::Decode(std::string_view in) {
  auto bad = [] { return absl::DataLossError("corrupt segment summary"); };
  Summary s;
  uint64_t v, min_t, max_t, nsets;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kVersion) return bad();
  in.remove_prefix(1);
  if (!GetVarint64(&in, &s.rows) || !GetVarint64(&in, &min_t) || !GetVarint64(&in, &max_t) ||
      !GetVarint64(&in, &s.raw_bytes) || !GetVarint64(&in, &s.segment_bytes) ||
      !GetVarint64(&in, &s.body_bytes) || in.empty()) {
    return bad();
  }
  s.min_time = ZigZagDecode(min_t);
  s.max_time = ZigZagDecode(max_t);
  s.bodies_dropped = (in[0] & 1) != 0;
  in.remove_prefix(1);
  if (!GetVarint64(&in, &nsets) || nsets > 64) return bad();
  s.sets.resize(nsets);
  for (auto& set : s.sets) {
    if (!GetVarint64(&in, &v) || in.empty()) return bad();
    set.column = static_cast<uint32_t>(v);
    set.bloom = in[0] == 1;
    in.remove_prefix(1);
    if (set.bloom) {
      uint64_t nbits, nprobes;
      if (!GetVarint64(&in, &nbits) || !GetVarint64(&in, &nprobes) || nprobes > 32 ||
          in.size() < (nbits + 7) / 8) {
        return bad();
      }
      set.nbits = static_cast<uint32_t>(nbits);
      set.nprobes = static_cast<uint32_t>(nprobes);
      set.bits.assign(in.data(), (nbits + 7) / 8);
      in.remove_prefix((nbits + 7) / 8);
    } else {
      uint64_t n;
      if (!GetVarint64(&in, &n) || n > in.size()) return bad();
      set.values.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        std::string_view value;
        if (!GetLengthPrefixed(&in, &value)) return bad();
        set.values.emplace_back(value);
      }
    }
  }
  if (!in.empty()) return bad();
  return s;
}

}  // namespace kq::storage
