#include "storage/segment_format.h"

#include <zstd.h>

#include <array>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/strings.h"

namespace kq::storage::segment_format {
namespace {

struct FreeCCtx {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// zstd of `in` into *out; false when zstd fails.
bool Zstd(std::string_view in, int level, std::string* out) {
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> owned(ZSTD_createCCtx());
  size_t bound = ZSTD_compressBound(in.size());
  out->resize(bound);
  size_t n = ZSTD_compressCCtx(owned.get(), out->data(), bound, in.data(), in.size(), level);
  if (ZSTD_isError(n)) return false;
  out->resize(n);
  return true;
}

// The frame `stored` decompressed into *out, which must come to exactly `len` bytes.
bool Unzstd(std::string_view stored, size_t len, std::string* out) {
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> owned(ZSTD_createDCtx());
  out->assign(len, '\0');
  size_t n = ZSTD_decompressDCtx(owned.get(), out->data(), len, stored.data(), stored.size());
  return !ZSTD_isError(n) && n == len;
}

constexpr size_t kUuidLen = 36;
constexpr size_t kPackedUuidLen = 16;
constexpr uint8_t kTailVerbatim = 0, kTailDelta = 1;

// The value of each lowercase hex digit; 0xff for every other byte.
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = static_cast<uint8_t>(10 + c);
  return t;
}();

// Where each of a canonical UUID's 16 bytes starts: its two hex digits.
constexpr uint8_t kUuidByteAt[kPackedUuidLen] = {0,  2,  4,  6,  9,  11, 14, 16,
                                                 19, 21, 24, 26, 28, 30, 32, 34};

// Appends the 16 bytes of `s` when it is a canonical UUID (lowercase 8-4-4-4-12 hex).
bool PackUuid(std::string_view s, std::string* out) {
  if (s.size() != kUuidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
    return false;
  }
  char bytes[kPackedUuidLen];
  uint8_t invalid = 0;  // the high bits of some digit's value: not a hex digit
  for (size_t b = 0; b < kPackedUuidLen; ++b) {
    uint8_t hi = kHexValue[static_cast<uint8_t>(s[kUuidByteAt[b]])];
    uint8_t lo = kHexValue[static_cast<uint8_t>(s[kUuidByteAt[b] + 1])];
    invalid |= hi | lo;
    bytes[b] = static_cast<char>(hi << 4 | lo);
  }
  if (invalid & 0xf0) return false;
  out->append(bytes, kPackedUuidLen);
  return true;
}

// Appends the Dict entry of a packed UUID: its length prefix (36, one byte) and the text.
void AppendUuidEntry(const char* bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char text[1 + kUuidLen];
  text[0] = static_cast<char>(kUuidLen);
  char* p = text + 1;
  for (size_t b = 0; b < kPackedUuidLen; ++b) {
    if (b == 4 || b == 6 || b == 8 || b == 10) *p++ = '-';
    uint8_t v = static_cast<uint8_t>(bytes[b]);
    *p++ = kHex[v >> 4];
    *p++ = kHex[v & 15];
  }
  out->append(text, sizeof(text));
}

// A varint whose bytes are exactly what PutVarint64 writes for its value: no trailing zero
// group, and a tenth byte (bit 63) only 1.
bool GetCanonicalVarint(std::string_view* in, uint64_t* v) {
  const char* start = in->data();
  if (!GetVarint64(in, v)) return false;
  size_t n = static_cast<size_t>(in->data() - start);
  uint8_t last = static_cast<uint8_t>(start[n - 1]);
  return n == 1 || (n < 10 ? last != 0 : last == 1);
}

// The UuidDict form (docs/format.md, "Compression codes") of `raw` into *packed when `raw`
// parses as a Dict whose dictionary is at least half canonical UUIDs and the form is shorter.
bool PackDict(std::string_view raw, std::string* packed) {
  std::string_view in = raw;
  uint64_t n;
  if (!GetCanonicalVarint(&in, &n) || n == 0 || n > in.size()) return false;
  thread_local std::string bitmap, uuids, others, delta;
  bitmap.assign((n + 7) / 8, '\0');
  uuids.clear();
  others.clear();
  uint64_t num_uuids = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len;
    if (!GetCanonicalVarint(&in, &len) || len > in.size()) return false;
    std::string_view s = in.substr(0, len);
    in.remove_prefix(len);
    if (PackUuid(s, &uuids)) {
      bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | 1 << (i % 8));
      ++num_uuids;
    } else if ((i + 1 - num_uuids) * 2 > n) {
      return false;  // more than half are not UUIDs
    } else {
      PutLengthPrefixed(&others, s);
    }
  }
  std::string_view tail = in;
  delta.clear();
  uint64_t prev = 0;
  bool canonical = true;
  while (canonical && !in.empty()) {
    uint64_t v;
    canonical = GetCanonicalVarint(&in, &v);
    PutVarint64(&delta, ZigZagEncode(static_cast<int64_t>(v - prev)));
    prev = v;
  }
  packed->clear();
  PutVarint64(packed, n);
  packed->append(bitmap).append(uuids).append(others);
  packed->push_back(static_cast<char>(canonical ? kTailDelta : kTailVerbatim));
  packed->append(canonical ? std::string_view(delta) : tail);
  return packed->size() < raw.size();
}

// Inverse of PackDict: the Dict bytes, which must come to exactly `raw_len`.
absl::StatusOr<std::string> UnpackDict(std::string_view in, size_t raw_len) {
  uint64_t n;
  if (!GetVarint64(&in, &n) || n == 0 || n / 8 >= in.size() || (n + 7) / 8 >= in.size()) {
    return Corrupt("uuid dictionary");
  }
  std::string_view bitmap = in.substr(0, (n + 7) / 8);
  in.remove_prefix(bitmap.size());
  uint64_t num_uuids = 0;
  auto is_uuid = [&](uint64_t i) { return (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1; };
  for (uint64_t i = 0; i < n; ++i) num_uuids += is_uuid(i);
  if (num_uuids > in.size() / kPackedUuidLen) return Corrupt("uuid dictionary");
  std::string_view uuids = in.substr(0, num_uuids * kPackedUuidLen);
  in.remove_prefix(uuids.size());
  std::string out;
  out.reserve(raw_len);
  PutVarint64(&out, n);
  for (uint64_t i = 0; i < n; ++i) {
    if (is_uuid(i)) {
      AppendUuidEntry(uuids.data(), &out);
      uuids.remove_prefix(kPackedUuidLen);
    } else {
      std::string_view s;
      if (!GetLengthPrefixed(&in, &s)) return Corrupt("uuid dictionary string");
      PutLengthPrefixed(&out, s);
    }
    if (out.size() > raw_len) return Corrupt("uuid dictionary length");
  }
  if (in.empty()) return Corrupt("uuid dictionary tail");
  uint8_t tail_kind = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (tail_kind == kTailVerbatim) {
    out.append(in.data(), in.size());
  } else if (tail_kind == kTailDelta) {
    uint64_t prev = 0;
    while (!in.empty() && out.size() <= raw_len) {
      uint64_t d;
      if (!GetVarint64(&in, &d)) return Corrupt("uuid dictionary code");
      prev += static_cast<uint64_t>(ZigZagDecode(d));
      PutVarint64(&out, prev);
    }
  } else {
    return Corrupt("uuid dictionary tail kind");
  }
  if (out.size() != raw_len) return Corrupt("column length");
  return out;
}

}  // namespace

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt segment: ", Sv(what)));
}

void Compress(std::string_view raw, int level, std::string* out, uint8_t* compression) {
  thread_local std::string packed;
  if (PackDict(raw, &packed) && Zstd(packed, level, out) && out->size() < raw.size()) {
    *compression = kCompUuidZstd;
    return;
  }
  if (Zstd(raw, level, out) && out->size() < raw.size()) {
    *compression = kCompZstd;
    return;
  }
  out->assign(raw.data(), raw.size());
  *compression = kCompNone;
}

absl::StatusOr<std::string> Decompress(std::string_view stored, uint8_t compression,
                                       size_t raw_len) {
  std::string out;
  switch (compression) {
    case kCompNone:
      if (stored.size() != raw_len) return Corrupt("column length");
      return std::string(stored);
    case kCompZstd:
      if (!Unzstd(stored, raw_len, &out)) return Corrupt("zstd frame");
      return out;
    case kCompUuidZstd: {
      // PackDict never makes the packed form longer than the raw bytes.
      unsigned long long packed_len = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (packed_len == ZSTD_CONTENTSIZE_UNKNOWN || packed_len == ZSTD_CONTENTSIZE_ERROR ||
          packed_len > raw_len || !Unzstd(stored, packed_len, &out)) {
        return Corrupt("zstd frame");
      }
      return UnpackDict(out, raw_len);
    }
    default:
      return Corrupt("unknown compression");
  }
}

}  // namespace kq::storage::segment_format
