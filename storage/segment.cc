#include "storage/segment.h"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "storage/event_codec.h"
#include "storage/fast_time.h"

namespace kq::storage {
namespace {

constexpr uint8_t kSegmentVersion = 1;
constexpr uint8_t kBodyVersion = 1;
// Stored on disk: do not change.
constexpr uint8_t kEncIntDelta = 0, kEncDict = 1, kEncList = 2, kEncBlob = 3;
constexpr uint8_t kCompNone = 0, kCompZstd = 1;

// The dictionary-coded columns a segment holds, in storage order.
constexpr uint32_t kDictColumns[] = {
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    static_cast<uint32_t>(InternalColumn::kResponseStatus),
    static_cast<uint32_t>(InternalColumn::kAnnotations),
    static_cast<uint32_t>(InternalColumn::kUserExtra),
    static_cast<uint32_t>(InternalColumn::kUserUid),
};
constexpr size_t kNumDict = sizeof(kDictColumns) / sizeof(kDictColumns[0]);
// Index into kDictColumns of each column id.
constexpr size_t DictIndex(uint32_t id) { return id < 64 ? id - 3 : 16 + (id - 65); }

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt segment: ", Sv(what)));
}

void Compress(std::string_view raw, int level, std::string* out, uint8_t* compression) {
  struct FreeCCtx {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> owned(ZSTD_createCCtx());
  ZSTD_CCtx* cctx = owned.get();
  size_t bound = ZSTD_compressBound(raw.size());
  out->resize(bound);
  size_t n = ZSTD_compressCCtx(cctx, out->data(), bound, raw.data(), raw.size(), level);
  if (ZSTD_isError(n) || n >= raw.size()) {
    out->assign(raw.data(), raw.size());
    *compression = kCompNone;
    return;
  }
  out->resize(n);
  *compression = kCompZstd;
}

absl::StatusOr<std::string> Decompress(std::string_view stored, uint8_t compression,
                                       size_t raw_len) {
  if (compression == kCompNone) {
    if (stored.size() != raw_len) return Corrupt("column length");
    return std::string(stored);
  }
  if (compression != kCompZstd) return Corrupt("unknown compression");
  struct FreeDCtx {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> owned(ZSTD_createDCtx());
  ZSTD_DCtx* dctx = owned.get();
  std::string out(raw_len, '\0');
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), raw_len, stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_len) return Corrupt("zstd frame");
  return out;
}

class DictBuilder {
 public:
  void Add(const std::optional<std::string>& v) {
    if (v.has_value()) {
      Add(std::string_view(*v));
    } else {
      codes_.push_back(kNullCode);
    }
  }
  void Add(std::string_view v) {
    auto [it, inserted] = index_.try_emplace(Sv(v), static_cast<uint32_t>(dict_.size()));
    if (inserted) dict_.emplace_back(v);
    codes_.push_back(it->second);
  }
  void AddNull() { codes_.push_back(kNullCode); }
  const std::vector<std::string>& dict() const { return dict_; }
  bool AllNull() const {
    return std::all_of(codes_.begin(), codes_.end(), [](uint32_t c) { return c == kNullCode; });
  }
  void Encode(const std::vector<uint32_t>& perm, std::string* out) const {
    PutVarint64(out, dict_.size());
    for (const auto& s : dict_) PutLengthPrefixed(out, s);
    for (uint32_t r : perm) PutVarint64(out, codes_[r] == kNullCode ? 0 : codes_[r] + 1ull);
  }
  void Clear() {
    index_.clear();
    dict_.clear();
    codes_.clear();
  }

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<std::string> dict_;
  std::vector<uint32_t> codes_;
};

class ListBuilder {
 public:
  void Add(const std::optional<std::vector<std::string>>& v) {
    starts_.push_back(static_cast<uint32_t>(items_.size()));
    if (!v.has_value()) {
      counts_.push_back(kNullCode);
      return;
    }
    counts_.push_back(static_cast<uint32_t>(v->size()));
    for (const auto& s : *v) {
      auto [it, inserted] = index_.try_emplace(s, static_cast<uint32_t>(dict_.size()));
      if (inserted) dict_.push_back(s);
      items_.push_back(it->second);
    }
  }
  // Row `row` of a decoded list column.
  void AddRow(const ListColumn& col, bool present, size_t row) {
    starts_.push_back(static_cast<uint32_t>(items_.size()));
    if (!present) {
      counts_.push_back(kNullCode);
      return;
    }
    counts_.push_back(col.offsets[row + 1] - col.offsets[row]);
    for (uint32_t i = col.offsets[row]; i < col.offsets[row + 1]; ++i) {
      const std::string& s = col.dict[col.codes[i]];
      auto [it, inserted] = index_.try_emplace(s, static_cast<uint32_t>(dict_.size()));
      if (inserted) dict_.push_back(s);
      items_.push_back(it->second);
    }
  }
  void Encode(const std::vector<uint32_t>& perm, std::string* out) const {
    PutVarint64(out, dict_.size());
    for (const auto& s : dict_) PutLengthPrefixed(out, s);
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
    index_.clear();
    dict_.clear();
    counts_.clear();
    starts_.clear();
    items_.clear();
  }

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<std::string> dict_;
  std::vector<uint32_t> counts_, starts_, items_;
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
  void Encode(const std::vector<uint32_t>& perm, std::string* out) const {
    for (uint32_t r : perm) {
      if (lens_[r] == SIZE_MAX) {
        PutVarint64(out, 0);
        continue;
      }
      PutVarint64(out, lens_[r] + 1ull);
      out->append(data_, starts_[r], lens_[r]);
    }
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

void EncodeInts(const std::vector<int64_t>& values, const std::vector<bool>& present,
                const std::vector<uint32_t>& perm, std::string* out) {
  size_t rows = perm.size();
  out->append((rows + 7) / 8, '\0');
  int64_t prev = 0;
  for (size_t i = 0; i < rows; ++i) {
    uint32_t r = perm[i];
    if (!present[r]) continue;
    (*out)[i / 8] = static_cast<char>(static_cast<uint8_t>((*out)[i / 8]) | (1u << (i % 8)));
    PutVarint64(out, ZigZagEncode(values[r] - prev));
    prev = values[r];
  }
}

}  // namespace

struct SegmentBuilder::Impl {
  int level;
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

SegmentBuilder::SegmentBuilder(int zstd_level) : impl_(std::make_unique<Impl>()) {
  impl_->level = zstd_level;
}
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
  auto add_dict = [&](uint32_t id, const StringColumn& col, size_t r) {
    DictBuilder& b = m.dicts[DictIndex(id)];
    if (col.codes[r] == kNullCode) {
      b.AddNull();
    } else {
      b.Add(std::string_view(col.dict[col.codes[r]]));
    }
  };
  for (size_t r = 0; r < d.rows; ++r) {
    ++m.rows;
    for (int c = 0; c < 3; ++c) {
      m.ints[c].push_back(d.ints[c].values[r]);
      m.int_present[c].push_back(d.ints[c].present[r]);
    }
    for (uint32_t id = 3; id <= 18; ++id) add_dict(id, d.strings[id], r);
    add_dict(static_cast<uint32_t>(InternalColumn::kResponseStatus), d.response_status, r);
    add_dict(static_cast<uint32_t>(InternalColumn::kAnnotations), d.annotations, r);
    add_dict(static_cast<uint32_t>(InternalColumn::kUserExtra), d.user_extra, r);
    add_dict(static_cast<uint32_t>(InternalColumn::kUserUid), d.user_uid, r);
    m.groups.AddRow(d.groups, d.groups_present[r], r);
    m.source_ips.AddRow(d.source_ips, d.source_ips_present[r], r);
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

EncodedSegment SegmentBuilder::Finish() {
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
    Compress(raw, m.level, &c.stored, &c.compression);
    columns.push_back(std::move(c));
    raw.clear();
  };
  for (uint32_t c = 0; c < 3; ++c) {
    if (std::none_of(m.int_present[c].begin(), m.int_present[c].end(), [](bool b) { return b; }))
      continue;
    EncodeInts(m.ints[c], m.int_present[c], perm, &raw);
    add(c, kEncIntDelta);
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
  m.rest.Encode(perm, &raw);
  add(static_cast<uint32_t>(InternalColumn::kRest), kEncBlob);

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
  for (const auto& c : columns) seg.append(c.stored);

  auto body_block = [&](const BlobBuilder& b, std::string* block) {
    if (!b.any()) return;
    b.Encode(perm, &raw);
    std::string stored;
    uint8_t compression;
    Compress(raw, m.level, &stored, &compression);
    block->push_back(static_cast<char>(kBodyVersion));
    block->push_back(static_cast<char>(compression));
    PutVarint64(block, raw.size());
    block->append(stored);
    raw.clear();
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
  std::vector<std::string> codes;
  for (size_t r = 0; r < m.rows; ++r) {
    if (m.int_present[2][r]) codes.push_back(std::to_string(m.ints[2][r]));
  }
  s.sets.push_back(MakeValueSet(static_cast<uint32_t>(Column::kCode), std::move(codes)));

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

absl::StatusOr<SegmentView> SegmentView::Parse(std::string value) {
  SegmentView v;
  v.value_ = std::move(value);
  std::string_view in(v.value_);
  uint64_t rows, ncols;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kSegmentVersion) return Corrupt("version");
  in.remove_prefix(1);
  if (!GetVarint64(&in, &rows) || !GetVarint64(&in, &ncols) || rows > kMaxSegmentRows ||
      ncols > 256) {
    return Corrupt("header");
  }
  v.rows_ = rows;
  size_t offset = 0;
  for (uint64_t i = 0; i < ncols; ++i) {
    uint64_t id, stored, raw;
    if (!GetVarint64(&in, &id) || in.size() < 2) return Corrupt("column header");
    uint8_t enc = static_cast<uint8_t>(in[0]), comp = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    if (!GetVarint64(&in, &stored) || !GetVarint64(&in, &raw) || raw > (1ull << 32)) {
      return Corrupt("column header");
    }
    v.columns_.push_back({static_cast<uint32_t>(id), enc, comp, offset, stored, raw});
    offset += stored;
  }
  if (in.size() != offset) return Corrupt("column data length");
  size_t base = v.value_.size() - in.size();
  for (auto& c : v.columns_) c.offset += base;
  return v;
}

const SegmentView::ColumnRef* SegmentView::FindColumn(uint32_t id) const {
  for (const auto& c : columns_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

absl::StatusOr<std::string> SegmentView::Raw(const ColumnRef& ref) const {
  return Decompress(std::string_view(value_).substr(ref.offset, ref.stored_len), ref.compression,
                    ref.raw_len);
}

absl::StatusOr<IntColumn> SegmentView::Ints(uint32_t id) const {
  IntColumn col;
  col.values.assign(rows_, 0);
  col.present.assign(rows_, false);
  const ColumnRef* ref = FindColumn(id);
  if (ref == nullptr) return col;
  if (ref->encoding != kEncIntDelta) return absl::InvalidArgumentError("not an int column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::string_view in(raw);
  size_t bitmap = (rows_ + 7) / 8;
  if (in.size() < bitmap) return Corrupt("int bitmap");
  std::string_view bits = in.substr(0, bitmap);
  in.remove_prefix(bitmap);
  int64_t prev = 0;
  for (size_t i = 0; i < rows_; ++i) {
    if ((static_cast<uint8_t>(bits[i / 8]) & (1u << (i % 8))) == 0) continue;
    uint64_t z;
    if (!GetVarint64(&in, &z)) return Corrupt("int value");
    prev += ZigZagDecode(z);
    col.values[i] = prev;
    col.present[i] = true;
  }
  if (!in.empty()) return Corrupt("int trailing bytes");
  return col;
}

namespace {
bool GetDict(std::string_view* in, std::vector<std::string>* dict) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  dict->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(in, &s)) return false;
    dict->emplace_back(s);
  }
  return true;
}
}  // namespace

absl::StatusOr<StringColumn> SegmentView::Strings(uint32_t id) const {
  StringColumn col;
  const ColumnRef* ref = FindColumn(id);
  if (ref == nullptr) {
    col.codes.assign(rows_, kNullCode);
    return col;
  }
  if (ref->encoding != kEncDict) return absl::InvalidArgumentError("not a string column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::string_view in(raw);
  if (!GetDict(&in, &col.dict)) return Corrupt("dictionary");
  col.codes.resize(rows_);
  for (size_t i = 0; i < rows_; ++i) {
    uint64_t c;
    if (!GetVarint64(&in, &c) || c > col.dict.size()) return Corrupt("dictionary code");
    col.codes[i] = c == 0 ? kNullCode : static_cast<uint32_t>(c - 1);
  }
  if (!in.empty()) return Corrupt("dictionary trailing bytes");
  return col;
}

absl::StatusOr<ListColumn> SegmentView::Lists(uint32_t id, std::vector<bool>* present) const {
  ListColumn col;
  col.offsets.assign(1, 0);
  if (present != nullptr) present->assign(rows_, false);
  const ColumnRef* ref = FindColumn(id);
  if (ref == nullptr) {
    col.offsets.assign(rows_ + 1, 0);
    return col;
  }
  if (ref->encoding != kEncList) return absl::InvalidArgumentError("not a list column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::string_view in(raw);
  if (!GetDict(&in, &col.dict)) return Corrupt("list dictionary");
  for (size_t i = 0; i < rows_; ++i) {
    uint64_t n;
    if (!GetVarint64(&in, &n) || n > in.size() + 1) return Corrupt("list count");
    if (present != nullptr) (*present)[i] = n > 0;
    for (uint64_t k = 1; k < n; ++k) {
      uint64_t c;
      if (!GetVarint64(&in, &c) || c >= col.dict.size()) return Corrupt("list code");
      col.codes.push_back(static_cast<uint32_t>(c));
    }
    col.offsets.push_back(static_cast<uint32_t>(col.codes.size()));
  }
  if (!in.empty()) return Corrupt("list trailing bytes");
  return col;
}

namespace {
absl::StatusOr<BlobColumn> DecodeBlobs(std::string_view in, size_t rows) {
  BlobColumn col;
  col.offsets.reserve(rows + 1);
  col.present.reserve(rows);
  col.offsets.push_back(0);
  for (size_t i = 0; i < rows; ++i) {
    uint64_t n;
    if (!GetVarint64(&in, &n) || (n > 0 && n - 1 > in.size())) return Corrupt("blob length");
    col.present.push_back(n > 0);
    if (n > 0) {
      col.data.append(in.data(), n - 1);
      in.remove_prefix(n - 1);
    }
    col.offsets.push_back(static_cast<uint32_t>(col.data.size()));
  }
  if (!in.empty()) return Corrupt("blob trailing bytes");
  return col;
}
}  // namespace

absl::StatusOr<BlobColumn> SegmentView::Blobs(uint32_t id) const {
  const ColumnRef* ref = FindColumn(id);
  if (ref == nullptr) {
    BlobColumn col;
    col.offsets.assign(rows_ + 1, 0);
    col.present.assign(rows_, false);
    return col;
  }
  if (ref->encoding != kEncBlob) return absl::InvalidArgumentError("not a blob column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  return DecodeBlobs(raw, rows_);
}

absl::StatusOr<BlobColumn> DecodeBodyBlock(std::string_view value, size_t rows) {
  uint64_t raw_len;
  if (value.size() < 2 || static_cast<uint8_t>(value[0]) != kBodyVersion) {
    return Corrupt("body block version");
  }
  uint8_t compression = static_cast<uint8_t>(value[1]);
  value.remove_prefix(2);
  if (!GetVarint64(&value, &raw_len) || raw_len > (1ull << 34)) return Corrupt("body block");
  KQ_ASSIGN_OR_RETURN(std::string raw, Decompress(value, compression, raw_len));
  return DecodeBlobs(raw, rows);
}

absl::StatusOr<DecodedRows> DecodeAllColumns(const SegmentView& view) {
  DecodedRows d;
  d.rows = view.rows();
  for (uint32_t c = 0; c < 3; ++c) {
    KQ_ASSIGN_OR_RETURN(IntColumn col, view.Ints(c));
    d.ints.push_back(std::move(col));
  }
  d.strings.resize(19);
  for (uint32_t c = 3; c <= 18; ++c) {
    KQ_ASSIGN_OR_RETURN(d.strings[c], view.Strings(c));
  }
  KQ_ASSIGN_OR_RETURN(d.groups,
                      view.Lists(static_cast<uint32_t>(Column::kGroups), &d.groups_present));
  KQ_ASSIGN_OR_RETURN(d.source_ips,
                      view.Lists(static_cast<uint32_t>(Column::kSourceIps), &d.source_ips_present));
  KQ_ASSIGN_OR_RETURN(d.rest, view.Blobs(static_cast<uint32_t>(InternalColumn::kRest)));
  KQ_ASSIGN_OR_RETURN(d.response_status,
                      view.Strings(static_cast<uint32_t>(InternalColumn::kResponseStatus)));
  KQ_ASSIGN_OR_RETURN(d.annotations,
                      view.Strings(static_cast<uint32_t>(InternalColumn::kAnnotations)));
  KQ_ASSIGN_OR_RETURN(d.user_extra,
                      view.Strings(static_cast<uint32_t>(InternalColumn::kUserExtra)));
  KQ_ASSIGN_OR_RETURN(d.user_uid, view.Strings(static_cast<uint32_t>(InternalColumn::kUserUid)));
  return d;
}

namespace {
std::optional<std::string> Get(const StringColumn& c, size_t row) {
  if (c.codes[row] == kNullCode) return std::nullopt;
  return c.dict[c.codes[row]];
}
std::optional<std::vector<std::string>> GetList(const ListColumn& c, size_t row, bool present) {
  if (!present) return std::nullopt;
  std::vector<std::string> out;
  for (uint32_t i = c.offsets[row]; i < c.offsets[row + 1]; ++i) out.push_back(c.dict[c.codes[i]]);
  return out;
}
}  // namespace

namespace {
std::string CanonicalText(TimeMicros t) {
  char buf[kCanonicalTimestampSize];
  if (!FormatCanonicalTimestamp(t, buf)) return FormatTimestamp(t);
  return std::string(buf, sizeof(buf));
}
}  // namespace

absl::StatusOr<Event> RowToEvent(const DecodedRows& d, size_t row, std::string_view env) {
  Event e;
  auto s = [&](Column c) { return Get(d.strings[static_cast<size_t>(c)], row); };
  e.request_received_time = d.ints[0].values[row];
  e.stage_time = d.ints[1].values[row];
  if (d.ints[2].present[row]) e.code = d.ints[2].values[row];
  e.audit_id = s(Column::kAuditId).value_or("");
  e.level = s(Column::kLevel).value_or("");
  e.stage = s(Column::kStage).value_or("");
  e.verb = s(Column::kVerb).value_or("");
  e.request_uri = s(Column::kRequestUri);
  e.user.username = s(Column::kUser);
  e.user.uid = Get(d.user_uid, row);
  e.user_agent = s(Column::kUserAgent);
  e.cluster = s(Column::kCluster).value_or("");
  e.env = std::string(env);
  e.response_status = Get(d.response_status, row);
  if (auto a = Get(d.annotations, row)) {
    if (!DecodeAnnotations(*a, &e.annotations.emplace())) return Corrupt("annotations");
  }
  if (auto x = Get(d.user_extra, row)) {
    if (!DecodeExtra(*x, &e.user.extra.emplace())) return Corrupt("user.extra");
  }
  RestInfo info;
  if (!d.rest.present[row] || !DecodeRest(d.rest.Get(row), &e, &info)) return Corrupt("rest");
  e.user.groups = GetList(d.groups, row, d.groups_present[row]);
  e.source_ips = GetList(d.source_ips, row, d.source_ips_present[row]);
  if (info.object_ref_present) {
    ObjectRef& ref = e.object_ref.has_value() ? *e.object_ref : e.object_ref.emplace();
    ref.ns = s(Column::kNamespace);
    ref.resource = s(Column::kResource);
    ref.subresource = s(Column::kSubresource);
    ref.name = s(Column::kName);
    ref.api_group = s(Column::kApiGroup);
    ref.api_version = s(Column::kApiVersion);
  }
  if (!info.received_text_present) {
    e.request_received_timestamp.reset();
  } else if (!e.request_received_timestamp.has_value()) {
    e.request_received_timestamp = CanonicalText(e.request_received_time);
  }
  if (e.stage_timestamp.empty()) e.stage_timestamp = CanonicalText(e.stage_time);
  if (d.request_bodies.has_value() && d.request_bodies->present[row]) {
    e.request_object.emplace(d.request_bodies->Get(row));
  }
  if (d.response_bodies.has_value() && d.response_bodies->present[row]) {
    e.response_object.emplace(d.response_bodies->Get(row));
  }
  return e;
}

}  // namespace kq::storage
