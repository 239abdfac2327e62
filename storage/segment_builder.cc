#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "storage/event_codec.h"
#include "storage/fast_time.h"
#include "storage/int_codec.h"
#include "storage/segment.h"
#include "storage/segment_format.h"

namespace kq::storage {
namespace {

using segment_format::Compress;
using segment_format::DictIndex;
using segment_format::kBlobChunkBytes;
using segment_format::kBlobChunkRows;
using segment_format::kBodyVersion;
using segment_format::kCompNone;
using segment_format::kDictColumns;
using segment_format::kEncChunkedBlob;
using segment_format::kEncDict;
using segment_format::kEncIntBlocks;
using segment_format::kEncIntDelta;
using segment_format::kEncIntDict;
using segment_format::kEncList;
using segment_format::kNumDict;
using segment_format::kSegmentVersion;

// Copies of dictionary strings in blocks that never move, so dictionaries can hold
// string_views. Blocks double in size from kMinBlockBytes to kMaxBlockBytes, so that the many
// small dictionaries (verbs, stages, ...) take little; Clear keeps the first block for the next
// segment.
class Arena {
 public:
  std::string_view Copy(std::string_view v) {
    if (v.empty()) return std::string_view();
    char* p;
    if (v.size() > kMaxBlockBytes / 4) {
      large_.push_back(std::make_unique<char[]>(v.size()));
      p = large_.back().get();
    } else {
      while (blocks_.empty() || used_ + v.size() > BlockBytes(current_)) {
        if (!blocks_.empty()) ++current_;
        if (current_ == blocks_.size()) {
          blocks_.push_back(std::make_unique<char[]>(BlockBytes(current_)));
        }
        used_ = 0;
      }
      p = blocks_[current_].get() + used_;
      used_ += v.size();
    }
    std::memcpy(p, v.data(), v.size());
    return std::string_view(p, v.size());
  }
  void Clear() {
    large_.clear();
    if (blocks_.size() > 1) blocks_.resize(1);
    current_ = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kMinBlockBytes = 1 << 10;
  static constexpr size_t kMaxBlockBytes = 64 << 10;
  static size_t BlockBytes(size_t index) {
    return index >= 6 ? kMaxBlockBytes : kMinBlockBytes << index;
  }
  std::vector<std::unique_ptr<char[]>> blocks_, large_;
  size_t current_ = 0;  // the block being filled, when blocks_ is not empty
  size_t used_ = 0;     // bytes used in blocks_[current_]
};

// absl's fast string hash (absl::string_view is not std::string_view on this platform: without
// this, absl::Hash<std::string_view> falls back to std::hash, several times slower).
struct SvHash {
  size_t operator()(std::string_view v) const {
    return absl::Hash<absl::string_view>()(absl::string_view(v.data(), v.size()));
  }
};
using SvIndex = absl::flat_hash_map<std::string_view, uint32_t, SvHash, std::equal_to<>>;

// Distinct strings in first-seen order, each with its code (its index).
class Interner {
 public:
  uint32_t Code(std::string_view v) {
    // One hash and probe for a new value too: most values of the auditID, requestURI and name
    // columns are new.
    return index_
        .lazy_emplace(v,
                      [&](const SvIndex::constructor& ctor) {
                        std::string_view copy = arena_.Copy(v);
                        ctor(copy, static_cast<uint32_t>(dict_.size()));
                        dict_.push_back(copy);
                      })
        ->second;
  }
  const std::vector<std::string_view>& dict() const { return dict_; }
  // Appends varint(ndict) lpstring*.
  void Encode(std::string* out) const {
    PutVarint64(out, dict_.size());
    for (std::string_view s : dict_) PutLengthPrefixed(out, s);
  }
  void Clear() {
    index_.clear();
    dict_.clear();
    arena_.Clear();
  }

 private:
  SvIndex index_;
  std::vector<std::string_view> dict_;
  Arena arena_;
};

// A Dict column: a code per row.
class DictBuilder {
 public:
  void Add(const std::optional<std::string>& v) {
    if (v.has_value()) {
      Add(std::string_view(*v));
    } else {
      codes_.push_back(kNullCode);
    }
  }
  void Add(std::string_view v) { codes_.push_back(strings_.Code(v)); }
  void AddNull() { codes_.push_back(kNullCode); }
  // Every row of a decoded Dict column: each distinct value is interned once, rows only remap
  // codes.
  void AddColumn(const StringColumn& col, size_t rows) {
    remap_.clear();
    for (std::string_view v : col.dict) remap_.push_back(strings_.Code(v));
    for (size_t r = 0; r < rows; ++r) {
      uint32_t c = col.codes[r];
      codes_.push_back(c == kNullCode ? kNullCode : remap_[c]);
    }
  }
  const std::vector<std::string_view>& dict() const { return strings_.dict(); }
  bool AllNull() const {
    return std::all_of(codes_.begin(), codes_.end(), [](uint32_t c) { return c == kNullCode; });
  }
  void Encode(const std::vector<uint32_t>& perm, std::string* out) const {
    strings_.Encode(out);
    for (uint32_t r : perm) PutVarint64(out, codes_[r] == kNullCode ? 0 : codes_[r] + 1ull);
  }
  void Clear() {
    strings_.Clear();
    codes_.clear();
  }

 private:
  Interner strings_;
  std::vector<uint32_t> codes_;
  std::vector<uint32_t> remap_;  // AddColumn's scratch
};

// A List column: per row a count (kNullCode: absent) and that many codes.
class ListBuilder {
 public:
  void Add(const std::optional<std::vector<std::string>>& v) {
    starts_.push_back(static_cast<uint32_t>(items_.size()));
    if (!v.has_value()) {
      counts_.push_back(kNullCode);
      return;
    }
    counts_.push_back(static_cast<uint32_t>(v->size()));
    for (const auto& s : *v) items_.push_back(strings_.Code(s));
  }
  // Every row of a decoded List column (`present`: per row, whether the list is present).
  void AddColumn(const ListColumn& col, const std::vector<bool>& present, size_t rows) {
    remap_.clear();
    for (std::string_view v : col.dict) remap_.push_back(strings_.Code(v));
    for (size_t r = 0; r < rows; ++r) {
      starts_.push_back(static_cast<uint32_t>(items_.size()));
      if (!present[r]) {
        counts_.push_back(kNullCode);
        continue;
      }
      counts_.push_back(col.offsets[r + 1] - col.offsets[r]);
      for (uint32_t i = col.offsets[r]; i < col.offsets[r + 1]; ++i) {
        items_.push_back(remap_[col.codes[i]]);
      }
    }
  }
  void Encode(const std::vector<uint32_t>& perm, std::string* out) const {
    strings_.Encode(out);
    for (uint32_t r : perm) {
      if (counts_[r] == kNullCode) {
        PutVarint64(out, 0);
        continue;
      }
      PutVarint64(out, counts_[r] + 1ull);
      for (uint32_t i = 0; i < counts_[r]; ++i) PutVarint64(out, items_[starts_[r] + i]);
    }
  }
  void Clear() {
    strings_.Clear();
    counts_.clear();
    starts_.clear();
    items_.clear();
  }

 private:
  Interner strings_;
  std::vector<uint32_t> counts_, starts_, items_;
  std::vector<uint32_t> remap_;  // AddColumn's scratch
};

class BlobBuilder {
 public:
  void Add(const std::optional<std::string>& v) {
    if (v.has_value()) {
      Add(std::string_view(*v));
    } else {
      AddNull();
    }
  }
  void Add(std::string_view v) {
    starts_.push_back(data_.size());
    lens_.push_back(v.size());
    data_.append(v);
    any_ = true;
  }
  void AddNull() {
    starts_.push_back(data_.size());
    lens_.push_back(SIZE_MAX);
  }
  bool any() const { return any_; }
  // Appends the ChunkedBlob encoding (docs/format.md) of the rows in `perm` order: chunks of at
  // most kBlobChunkRows rows, closed once kBlobChunkBytes raw bytes are reached, each
  // compressed alone at `level`, so that reading one row decompresses one chunk.
  void EncodeChunked(const std::vector<uint32_t>& perm, int level, std::string* out) const {
    std::string headers, frames, raw, stored;
    size_t chunks = 0, chunk_rows = 0;
    auto close = [&] {
      uint8_t compression;
      Compress(raw, level, &stored, &compression);
      PutVarint64(&headers, chunk_rows);
      headers.push_back(static_cast<char>(compression));
      PutVarint64(&headers, stored.size());
      PutVarint64(&headers, raw.size());
      frames.append(stored);
      raw.clear();
      chunk_rows = 0;
      ++chunks;
    };
    for (uint32_t r : perm) {
      if (lens_[r] == SIZE_MAX) {
        PutVarint64(&raw, 0);
      } else {
        PutVarint64(&raw, lens_[r] + 1ull);
        raw.append(data_, starts_[r], lens_[r]);
      }
      if (++chunk_rows >= kBlobChunkRows || raw.size() >= kBlobChunkBytes) close();
    }
    if (chunk_rows > 0) close();
    PutVarint64(out, chunks);
    out->append(headers);
    out->append(frames);
  }
  void Clear() {
    data_.clear();
    starts_.clear();
    lens_.clear();
    any_ = false;
  }

 private:
  std::string data_;
  std::vector<size_t> starts_, lens_;
  bool any_ = false;
};

}  // namespace

struct SegmentBuilder::Impl {
  size_t rows = 0;
  uint64_t raw_bytes = 0;
  std::vector<int64_t> ints[3];
  std::vector<bool> int_present[3];
  DictBuilder dicts[kNumDict];
  ListBuilder groups, source_ips;
  BlobBuilder rest, request_bodies, response_bodies;
  std::string scratch;

  void AddColumn(uint32_t id, const std::optional<std::string>& v) { dicts[DictIndex(id)].Add(v); }
};

SegmentBuilder::SegmentBuilder() : impl_(std::make_unique<Impl>()) {}
SegmentBuilder::~SegmentBuilder() = default;
size_t SegmentBuilder::rows() const { return impl_->rows; }

void SegmentBuilder::Add(const Event& e) {
  Impl& m = *impl_;
  ++m.rows;
  m.raw_bytes += e.raw_size;
  m.ints[0].push_back(e.request_received_time);
  m.int_present[0].push_back(true);
  m.ints[1].push_back(e.stage_time);
  m.int_present[1].push_back(true);
  m.ints[2].push_back(e.code.value_or(0));
  m.int_present[2].push_back(e.code.has_value());
  auto dict = [&](Column c) -> DictBuilder& {
    return m.dicts[DictIndex(static_cast<uint32_t>(c))];
  };
  dict(Column::kAuditId).Add(std::string_view(e.audit_id));
  dict(Column::kLevel).Add(std::string_view(e.level));
  dict(Column::kStage).Add(std::string_view(e.stage));
  dict(Column::kVerb).Add(std::string_view(e.verb));
  dict(Column::kRequestUri).Add(e.request_uri);
  dict(Column::kUser).Add(e.user.username);
  dict(Column::kUserAgent).Add(e.user_agent);
  const ObjectRef* ref = e.object_ref.has_value() ? &*e.object_ref : nullptr;
  static const std::optional<std::string> kNone;
  dict(Column::kNamespace).Add(ref ? ref->ns : kNone);
  dict(Column::kResource).Add(ref ? ref->resource : kNone);
  dict(Column::kSubresource).Add(ref ? ref->subresource : kNone);
  dict(Column::kName).Add(ref ? ref->name : kNone);
  dict(Column::kApiGroup).Add(ref ? ref->api_group : kNone);
  dict(Column::kApiVersion).Add(ref ? ref->api_version : kNone);
  dict(Column::kImpersonatedUser)
      .Add(e.impersonated_user.has_value() ? e.impersonated_user->username : kNone);
  if (const std::string* d = e.Annotation("authorization.k8s.io/decision")) {
    dict(Column::kDecision).Add(std::string_view(*d));
  } else {
    dict(Column::kDecision).AddNull();
  }
  if (e.cluster.empty()) {
    dict(Column::kCluster).AddNull();
  } else {
    dict(Column::kCluster).Add(std::string_view(e.cluster));
  }
  m.AddColumn(static_cast<uint32_t>(InternalColumn::kResponseStatus), e.response_status);
  if (e.annotations.has_value()) {
    m.scratch.clear();
    EncodeAnnotations(*e.annotations, &m.scratch);
    m.dicts[DictIndex(static_cast<uint32_t>(InternalColumn::kAnnotations))].Add(
        std::string_view(m.scratch));
  } else {
    m.dicts[DictIndex(static_cast<uint32_t>(InternalColumn::kAnnotations))].AddNull();
  }
  if (e.user.extra.has_value()) {
    m.scratch.clear();
    EncodeExtra(*e.user.extra, &m.scratch);
    m.dicts[DictIndex(static_cast<uint32_t>(InternalColumn::kUserExtra))].Add(
        std::string_view(m.scratch));
  } else {
    m.dicts[DictIndex(static_cast<uint32_t>(InternalColumn::kUserExtra))].AddNull();
  }
  m.AddColumn(static_cast<uint32_t>(InternalColumn::kUserUid), e.user.uid);
  m.groups.Add(e.user.groups);
  m.source_ips.Add(e.source_ips);
  m.scratch.clear();
  EncodeRest(e, &m.scratch);
  m.rest.Add(std::string_view(m.scratch));
  m.request_bodies.Add(e.request_object);
  m.response_bodies.Add(e.response_object);
}

void SegmentBuilder::AddRows(const DecodedRows& d) {
  Impl& m = *impl_;
  m.rows += d.rows;
  for (int c = 0; c < 3; ++c) {
    m.ints[c].insert(m.ints[c].end(), d.ints[c].values.begin(), d.ints[c].values.end());
    m.int_present[c].insert(m.int_present[c].end(), d.ints[c].present.begin(),
                            d.ints[c].present.end());
  }
  for (uint32_t id = 3; id <= 18; ++id) m.dicts[DictIndex(id)].AddColumn(d.strings[id], d.rows);
  for (auto [id, col] : {std::pair{InternalColumn::kResponseStatus, &d.response_status},
                         std::pair{InternalColumn::kAnnotations, &d.annotations},
                         std::pair{InternalColumn::kUserExtra, &d.user_extra},
                         std::pair{InternalColumn::kUserUid, &d.user_uid}}) {
    m.dicts[DictIndex(static_cast<uint32_t>(id))].AddColumn(*col, d.rows);
  }
  m.groups.AddColumn(d.groups, d.groups_present, d.rows);
  m.source_ips.AddColumn(d.source_ips, d.source_ips_present, d.rows);
  for (size_t r = 0; r < d.rows; ++r) {
    if (d.rest.present[r]) {
      m.rest.Add(d.rest.Get(r));
    } else {
      m.rest.AddNull();
    }
    for (auto [bodies, builder] : {std::pair{&d.request_bodies, &m.request_bodies},
                                   std::pair{&d.response_bodies, &m.response_bodies}}) {
      if (bodies->has_value() && (*bodies)->present[r]) {
        builder->Add((*bodies)->Get(r));
      } else {
        builder->AddNull();
      }
    }
  }
}

EncodedSegment SegmentBuilder::Finish(int zstd_level) {
  Impl& m = *impl_;
  EncodedSegment out;
  out.rows = m.rows;
  std::vector<uint32_t> perm(m.rows);
  std::iota(perm.begin(), perm.end(), 0);
  const auto& times = m.ints[0];
  std::stable_sort(perm.begin(), perm.end(),
                   [&](uint32_t a, uint32_t b) { return times[a] < times[b]; });

  struct Encoded {
    uint32_t id;
    uint8_t encoding;
    uint8_t compression;
    size_t raw_len;
    std::string stored;
  };
  std::vector<Encoded> columns;
  std::string raw;
  auto add = [&](uint32_t id, uint8_t encoding) {
    Encoded c{id, encoding, kCompNone, raw.size(), {}};
    Compress(raw, zstd_level, &c.stored, &c.compression);
    columns.push_back(std::move(c));
    raw.clear();
  };
  for (uint32_t c = 0; c < 3; ++c) {
    if (std::none_of(m.int_present[c].begin(), m.int_present[c].end(), [](bool b) { return b; }))
      continue;
    if (c == static_cast<uint32_t>(Column::kTime)) {
      // Blocks, stored uncompressed: a search by time (EventBatch::TimeLowerBound) binary-searches
      // the blocks' first values in place and decodes one block. zstd would save about 0.7 of 54
      // bytes per event.
      int_codec::Encode(kEncIntBlocks, m.ints[c], m.int_present[c], perm, &raw);
      columns.push_back({c, kEncIntBlocks, kCompNone, raw.size(), std::move(raw)});
      raw.clear();
      continue;
    }
    // Status codes: a handful of distinct values, one byte per row.
    const uint8_t encoding =
        c == static_cast<uint32_t>(Column::kCode) &&
                int_codec::DistinctAtMost(m.ints[c], m.int_present[c], int_codec::kMaxDictValues)
            ? kEncIntDict
            : kEncIntDelta;
    int_codec::Encode(encoding, m.ints[c], m.int_present[c], perm, &raw);
    add(c, encoding);
  }
  for (size_t i = 0; i < kNumDict; ++i) {
    if (m.dicts[i].AllNull()) continue;
    m.dicts[i].Encode(perm, &raw);
    add(kDictColumns[i], kEncDict);
  }
  m.groups.Encode(perm, &raw);
  add(static_cast<uint32_t>(Column::kGroups), kEncList);
  m.source_ips.Encode(perm, &raw);
  add(static_cast<uint32_t>(Column::kSourceIps), kEncList);
  {
    Encoded c{static_cast<uint32_t>(InternalColumn::kRest), kEncChunkedBlob, kCompNone, 0, {}};
    m.rest.EncodeChunked(perm, zstd_level, &c.stored);
    c.raw_len = c.stored.size();
    columns.push_back(std::move(c));
  }

  // The narrow columns first: their data ends the narrow part, the wide ones' data follows.
  auto wide_begin = std::stable_partition(columns.begin(), columns.end(),
                                          [](const Encoded& c) { return !IsWideColumn(c.id); });
  const size_t wide_count = static_cast<size_t>(columns.end() - wide_begin);
  std::string& seg = out.segment;
  seg.push_back(static_cast<char>(kSegmentVersion));
  PutVarint64(&seg, m.rows);
  PutVarint64(&seg, columns.size());
  for (const auto& c : columns) {
    PutVarint64(&seg, c.id);
    seg.push_back(static_cast<char>(c.encoding));
    seg.push_back(static_cast<char>(c.compression));
    PutVarint64(&seg, c.stored.size());
    PutVarint64(&seg, c.raw_len);
  }
  PutVarint64(&seg, wide_count);
  for (auto c = columns.begin(); c != wide_begin; ++c) seg.append(c->stored);
  out.narrow_bytes = seg.size();
  for (auto c = wide_begin; c != columns.end(); ++c) seg.append(c->stored);

  auto body_block = [&](const BlobBuilder& b, std::string* block) {
    if (!b.any()) return;
    block->push_back(static_cast<char>(kBodyVersion));
    b.EncodeChunked(perm, zstd_level, block);
  };
  body_block(m.request_bodies, &out.request_bodies);
  body_block(m.response_bodies, &out.response_bodies);

  Summary& s = out.summary;
  s.rows = m.rows;
  s.min_time = m.rows > 0 ? times[perm.front()] : 0;
  s.max_time = m.rows > 0 ? times[perm.back()] : 0;
  s.raw_bytes = m.raw_bytes;
  s.segment_bytes = seg.size();
  s.body_bytes = out.request_bodies.size() + out.response_bodies.size();
  for (Column c : {Column::kUser, Column::kVerb, Column::kResource, Column::kName, Column::kStage,
                   Column::kAuditId}) {
    uint32_t id = static_cast<uint32_t>(c);
    s.sets.push_back(MakeValueSet(id, m.dicts[DictIndex(id)].dict()));
  }
  std::vector<int64_t> code_values;
  for (size_t r = 0; r < m.rows; ++r) {
    if (m.int_present[2][r]) code_values.push_back(m.ints[2][r]);
  }
  std::sort(code_values.begin(), code_values.end());
  code_values.erase(std::unique(code_values.begin(), code_values.end()), code_values.end());
  std::vector<std::string> codes;
  for (int64_t code : code_values) codes.push_back(std::to_string(code));
  s.sets.push_back(MakeValueSet(static_cast<uint32_t>(Column::kCode),
                                std::vector<std::string_view>(codes.begin(), codes.end())));

  m.rows = 0;
  m.raw_bytes = 0;
  for (int c = 0; c < 3; ++c) {
    m.ints[c].clear();
    m.int_present[c].clear();
  }
  for (auto& d : m.dicts) d.Clear();
  m.groups.Clear();
  m.source_ips.Clear();
  m.rest.Clear();
  m.request_bodies.Clear();
  m.response_bodies.Clear();
  return out;
}

}  // namespace kq::storage
