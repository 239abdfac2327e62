#include <algorithm>
#include <bit>
#include <deque>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "storage/event_codec.h"
#include "storage/fast_time.h"
#include "storage/segment.h"
#include "storage/segment_format.h"

namespace kq::storage {

using segment_format::Corrupt;
using segment_format::Decompress;
using segment_format::kBodyVersion;
using segment_format::kCompNone;
using segment_format::kEncBlob;
using segment_format::kEncChunkedBlob;
using segment_format::kEncDict;
using segment_format::kEncIntDelta;
using segment_format::kEncList;
using segment_format::kOldestBodyVersion;
using segment_format::kOldestSegmentVersion;
using segment_format::kSegmentVersion;
using segment_format::kSplitSegmentVersion;

namespace {
// GetVarint64 (out of line): varints in the last ten bytes of the input.
bool LongVarint(std::string_view* in, uint64_t* v) { return GetVarint64(in, v); }

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
}  // namespace

absl::StatusOr<SegmentView> SegmentView::Parse(std::string value) {
  auto owned = std::make_shared<const std::string>(std::move(value));
  std::string_view bytes(*owned);
  return Parse(bytes, std::move(owned));
}

absl::StatusOr<SegmentView> SegmentView::Parse(std::string_view bytes,
                                               std::shared_ptr<const void> owner) {
  SegmentView v;
  v.owner_ = std::move(owner);
  v.value_ = bytes;
  std::string_view in(v.value_);
  uint64_t rows, ncols;
  if (in.empty() || static_cast<uint8_t>(in[0]) < kOldestSegmentVersion ||
      static_cast<uint8_t>(in[0]) > kSegmentVersion) {
    return Corrupt(absl::StrCat("version ", static_cast<uint8_t>(in.empty() ? 0 : in[0]),
                                " (this build reads ", kOldestSegmentVersion, " to ",
                                kSegmentVersion, ")"));
  }
  const uint8_t version = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (!GetVarint64(&in, &rows) || !GetVarint64(&in, &ncols) || rows > kMaxSegmentRows ||
      ncols > 256) {
    return Corrupt("header");
  }
  v.rows_ = rows;
  for (uint64_t i = 0; i < ncols; ++i) {
    uint64_t id, stored, raw;
    if (!GetVarint64(&in, &id) || in.size() < 2) return Corrupt("column header");
    uint8_t enc = static_cast<uint8_t>(in[0]), comp = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    if (!GetVarint64(&in, &stored) || !GetVarint64(&in, &raw) || raw > (1ull << 32) ||
        stored > (1ull << 34)) {
      return Corrupt("column header");
    }
    v.columns_.push_back({static_cast<uint32_t>(id), enc, comp, false, 0, stored, raw});
  }
  uint64_t wide_count = 0;
  if (version >= kSplitSegmentVersion && (!GetVarint64(&in, &wide_count) || wide_count > ncols)) {
    return Corrupt("wide column count");
  }
  // Offsets: narrow columns' from the start of the value, wide columns' from the start of the
  // wide part.
  size_t offset = 0, wide_bytes = 0;
  const size_t base = v.value_.size() - in.size();
  for (size_t i = 0; i < v.columns_.size(); ++i) {
    ColumnRef& c = v.columns_[i];
    if (i + wide_count >= v.columns_.size()) {
      c.wide = true;
      c.offset = wide_bytes;
      wide_bytes += c.stored_len;
    } else {
      c.offset = base + offset;
      offset += c.stored_len;
    }
  }
  if (in.size() == offset + wide_bytes) {
    v.wide_ = in.substr(offset);  // the whole segment in one value
    v.wide_loaded_ = true;
  } else if (in.size() != offset) {
    return Corrupt("column data length");
  }
  v.wide_bytes_ = wide_bytes;
  if (wide_bytes == 0) v.wide_loaded_ = true;
  return v;
}

absl::Status SegmentView::AttachWide(std::string_view bytes, std::shared_ptr<const void> owner) {
  if (wide_loaded_) return absl::FailedPreconditionError("segment wide part already present");
  if (bytes.size() != wide_bytes_) return Corrupt("wide part length");
  wide_owner_ = std::move(owner);
  wide_ = bytes;
  wide_loaded_ = true;
  return absl::OkStatus();
}

bool SegmentView::IsWide(uint32_t id) const {
  const ColumnRef* ref = FindColumn(id);
  return ref != nullptr && ref->wide;
}

const SegmentView::ColumnRef* SegmentView::FindColumn(uint32_t id) const {
  for (const auto& c : columns_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

absl::StatusOr<const SegmentView::ColumnRef*> SegmentView::Find(uint32_t id) const {
  const ColumnRef* ref = FindColumn(id);
  if (ref != nullptr && ref->wide && !wide_loaded_) return WideMissing();
  return ref;
}

absl::Status SegmentView::WideMissing() {
  return absl::FailedPreconditionError("segment wide part not loaded (AttachWide)");
}

std::string_view SegmentView::Stored(const ColumnRef& ref) const {
  return (ref.wide ? wide_ : value_).substr(ref.offset, ref.stored_len);
}

absl::StatusOr<std::string> SegmentView::Raw(const ColumnRef& ref) const {
  return Decompress(Stored(ref), ref.compression, ref.raw_len);
}

absl::StatusOr<IntColumn> SegmentView::Ints(uint32_t id) const {
  IntColumn col;
  col.values.assign(rows_, 0);
  col.present.assign(rows_, false);
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) return col;
  if (ref->encoding != kEncIntDelta) return absl::InvalidArgumentError("not an int column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::string_view in(raw);
  size_t bitmap = (rows_ + 7) / 8;
  if (in.size() < bitmap) return Corrupt("int bitmap");
  std::string_view bits = in.substr(0, bitmap);
  in.remove_prefix(bitmap);
  int64_t prev = 0;
  // Every row present (time columns, and most code columns): no bitmap walk.
  bool all_present = std::all_of(bits.begin(), bits.end() - (rows_ % 8 != 0),
                                 [](char c) { return static_cast<uint8_t>(c) == 0xFF; });
  if (all_present && rows_ % 8 != 0) {
    all_present = static_cast<uint8_t>(bits.back()) == (1u << (rows_ % 8)) - 1;
  }
  if (all_present) {
    col.present.assign(rows_, true);
    int64_t* values = col.values.data();
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const uint8_t* end = p + in.size();
    for (size_t i = 0; i < rows_; ++i) {
      uint64_t z;
      if (p == end || (p = DecodeVarint(p, end, &z)) == nullptr) return Corrupt("int value");
      prev += ZigZagDecode(z);
      values[i] = prev;
    }
    if (p != end) return Corrupt("int trailing bytes");
    return col;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  for (size_t byte = 0; byte < bitmap; ++byte) {
    for (unsigned b = static_cast<uint8_t>(bits[byte]); b != 0; b &= b - 1) {
      size_t i = byte * 8 + static_cast<size_t>(std::countr_zero(b));
      if (i >= rows_) return Corrupt("int bitmap");
      uint64_t z;
      if (p == end || (p = DecodeVarint(p, end, &z)) == nullptr) return Corrupt("int value");
      prev += ZigZagDecode(z);
      col.values[i] = prev;
      col.present[i] = true;
    }
  }
  if (p != end) return Corrupt("int trailing bytes");
  return col;
}

namespace {
bool GetDict(std::string_view* in, std::vector<std::string>* dict) {
  uint64_t n;
  if (!NextVarint(in, &n) || n > in->size()) return false;
  dict->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len;
    if (!NextVarint(in, &len) || len > in->size()) return false;
    dict->emplace_back(in->data(), len);
    in->remove_prefix(len);
  }
  return true;
}
}  // namespace

absl::StatusOr<StringColumn> SegmentView::Strings(uint32_t id) const {
  StringColumn col;
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) {
    col.codes.assign(rows_, kNullCode);
    return col;
  }
  if (ref->encoding != kEncDict) return absl::InvalidArgumentError("not a string column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::string_view in(raw);
  if (!GetDict(&in, &col.dict)) return Corrupt("dictionary");
  col.codes.resize(rows_);
  const uint64_t ndict = col.dict.size();
  if (ndict < 128 && in.size() == rows_) {
    // Every code fits one byte (a varint below 0x80): row i's is byte i.
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    uint8_t max_code = 0;
    for (size_t i = 0; i < rows_; ++i) {
      max_code = std::max(max_code, p[i]);
      col.codes[i] = static_cast<uint32_t>(p[i]) - 1;  // 0 (null) wraps to kNullCode
    }
    if (max_code > ndict) return Corrupt("dictionary code");
    return col;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  for (size_t i = 0; i < rows_; ++i) {
    uint64_t c;
    if (p == end || (p = DecodeVarint(p, end, &c)) == nullptr || c > ndict) {
      return Corrupt("dictionary code");
    }
    col.codes[i] = static_cast<uint32_t>(c - 1);  // 0 (null) wraps to kNullCode
  }
  if (p != end) return Corrupt("dictionary trailing bytes");
  return col;
}

absl::StatusOr<ListColumn> SegmentView::Lists(uint32_t id, std::vector<bool>* present) const {
  ListColumn col;
  col.offsets.assign(1, 0);
  if (present != nullptr) present->assign(rows_, false);
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
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
    if (!NextVarint(&in, &n) || n > in.size() + 1) return Corrupt("list count");
    if (present != nullptr) (*present)[i] = n > 0;
    for (uint64_t k = 1; k < n; ++k) {
      uint64_t c;
      if (!NextVarint(&in, &c) || c >= col.dict.size()) return Corrupt("list code");
      col.codes.push_back(static_cast<uint32_t>(c));
    }
    col.offsets.push_back(static_cast<uint32_t>(col.codes.size()));
  }
  if (!in.empty()) return Corrupt("list trailing bytes");
  return col;
}

namespace {
// Appends `rows` rows of the Blob encoding in `in` to `col` (whose offsets already hold the
// start of the first).
absl::Status AppendBlobs(std::string_view in, size_t rows, BlobColumn* col) {
  for (size_t i = 0; i < rows; ++i) {
    uint64_t n;
    if (!GetVarint64(&in, &n) || (n > 0 && n - 1 > in.size())) return Corrupt("blob length");
    col->present.push_back(n > 0);
    if (n > 0) {
      col->data.append(in.data(), n - 1);
      in.remove_prefix(n - 1);
    }
    if (col->data.size() > UINT32_MAX) return Corrupt("blob column over 4 GiB");
    col->offsets.push_back(static_cast<uint32_t>(col->data.size()));
  }
  if (!in.empty()) return Corrupt("blob trailing bytes");
  return absl::OkStatus();
}

absl::StatusOr<BlobColumn> DecodeBlobs(std::string_view in, size_t rows) {
  BlobColumn col;
  col.offsets.reserve(rows + 1);
  col.present.reserve(rows);
  col.offsets.push_back(0);
  KQ_RETURN_IF_ERROR(AppendBlobs(in, rows, &col));
  return col;
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

absl::StatusOr<std::vector<BlobChunk>> ParseChunks(std::string_view in, size_t rows) {
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > rows) return Corrupt("blob chunk count");
  std::vector<BlobChunk> chunks;
  chunks.reserve(n);
  size_t first = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t chunk_rows, stored, raw;
    if (!GetVarint64(&in, &chunk_rows) || chunk_rows == 0 || chunk_rows > rows - first ||
        in.empty()) {
      return Corrupt("blob chunk header");
    }
    uint8_t compression = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (!GetVarint64(&in, &stored) || !GetVarint64(&in, &raw) || raw > (1ull << 32)) {
      return Corrupt("blob chunk header");
    }
    chunks.push_back({first, chunk_rows, compression, stored, std::string_view(), raw});
    first += chunk_rows;
  }
  if (first != rows) return Corrupt("blob chunk rows");
  for (BlobChunk& c : chunks) {
    if (c.stored_len > in.size()) return Corrupt("blob chunk data length");
    c.stored = in.substr(0, c.stored_len);
    in.remove_prefix(c.stored_len);
  }
  if (!in.empty()) return Corrupt("blob chunk trailing bytes");
  return chunks;
}

absl::StatusOr<BlobColumn> DecodeChunkedBlobs(std::string_view in, size_t rows) {
  KQ_ASSIGN_OR_RETURN(std::vector<BlobChunk> chunks, ParseChunks(in, rows));
  BlobColumn col;
  col.offsets.reserve(rows + 1);
  col.present.reserve(rows);
  col.offsets.push_back(0);
  for (const BlobChunk& c : chunks) {
    KQ_ASSIGN_OR_RETURN(std::string raw, Decompress(c.stored, c.compression, c.raw_len));
    KQ_RETURN_IF_ERROR(AppendBlobs(raw, c.rows, &col));
  }
  return col;
}
}  // namespace

absl::StatusOr<BlobColumn> SegmentView::Blobs(uint32_t id) const {
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) {
    BlobColumn col;
    col.offsets.assign(rows_ + 1, 0);
    col.present.assign(rows_, false);
    return col;
  }
  if (ref->encoding == kEncChunkedBlob) {
    if (ref->compression != kCompNone) return Corrupt("compressed chunked blob column");
    return DecodeChunkedBlobs(Stored(*ref), rows_);
  }
  if (ref->encoding != kEncBlob) return absl::InvalidArgumentError("not a blob column");
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  return DecodeBlobs(raw, rows_);
}

namespace {
// The version byte of a BodyBlock, checked.
absl::StatusOr<uint8_t> BodyVersion(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) < kOldestBodyVersion ||
      static_cast<uint8_t>(value[0]) > kBodyVersion) {
    return Corrupt("body block version");
  }
  return static_cast<uint8_t>(value[0]);
}

// Version 1: compression varint(raw_len) data, one Blob frame for every row.
absl::StatusOr<std::string> BodyBlockV1Raw(std::string_view value) {
  uint64_t raw_len;
  if (value.empty()) return Corrupt("body block");
  uint8_t compression = static_cast<uint8_t>(value[0]);
  value.remove_prefix(1);
  if (!GetVarint64(&value, &raw_len) || raw_len > (1ull << 34)) return Corrupt("body block");
  return Decompress(value, compression, raw_len);
}
}  // namespace

absl::StatusOr<BlobColumn> DecodeBodyBlock(std::string_view value, size_t rows) {
  KQ_ASSIGN_OR_RETURN(uint8_t version, BodyVersion(value));
  value.remove_prefix(1);
  if (version >= 2) return DecodeChunkedBlobs(value, rows);
  KQ_ASSIGN_OR_RETURN(std::string raw, BodyBlockV1Raw(value));
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
std::string CanonicalText(TimeMicros t) {
  char buf[kCanonicalTimestampSize];
  if (!FormatCanonicalTimestamp(t, buf)) return FormatTimestamp(t);
  return std::string(buf, sizeof(buf));
}

using OptView = std::optional<std::string_view>;
using OptList = std::optional<std::vector<std::string_view>>;

// One row's values, pointing into decoded columns: what BuildEvent needs.
struct RowValues {
  int64_t ints[3] = {0, 0, 0};
  bool int_present[3] = {false, false, false};
  OptView strings[19];  // by Column id, 3..18 used
  OptView response_status, annotations, user_extra, user_uid;
  OptList groups, source_ips;
  OptView rest, request_body, response_body;
};

std::optional<std::string> Owned(const OptView& v) {
  if (!v.has_value()) return std::nullopt;
  return std::string(*v);
}

std::optional<std::vector<std::string>> OwnedList(const OptList& v) {
  if (!v.has_value()) return std::nullopt;
  return std::vector<std::string>(v->begin(), v->end());
}

absl::StatusOr<Event> BuildEvent(const RowValues& v, std::string_view env) {
  Event e;
  auto s = [&](Column c) { return Owned(v.strings[static_cast<size_t>(c)]); };
  e.request_received_time = v.ints[0];
  e.stage_time = v.ints[1];
  if (v.int_present[2]) e.code = v.ints[2];
  e.audit_id = s(Column::kAuditId).value_or("");
  e.level = s(Column::kLevel).value_or("");
  e.stage = s(Column::kStage).value_or("");
  e.verb = s(Column::kVerb).value_or("");
  e.request_uri = s(Column::kRequestUri);
  e.user.username = s(Column::kUser);
  e.user.uid = Owned(v.user_uid);
  e.user_agent = s(Column::kUserAgent);
  e.cluster = s(Column::kCluster).value_or("");
  e.env = std::string(env);
  e.response_status = Owned(v.response_status);
  if (v.annotations.has_value()) {
    if (!DecodeAnnotations(*v.annotations, &e.annotations.emplace())) {
      return Corrupt("annotations");
    }
  }
  if (v.user_extra.has_value()) {
    if (!DecodeExtra(*v.user_extra, &e.user.extra.emplace())) return Corrupt("user.extra");
  }
  RestInfo info;
  if (!v.rest.has_value() || !DecodeRest(*v.rest, &e, &info)) return Corrupt("rest");
  e.user.groups = OwnedList(v.groups);
  e.source_ips = OwnedList(v.source_ips);
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
  e.request_object = Owned(v.request_body);
  e.response_object = Owned(v.response_body);
  return e;
}

OptView At(const StringColumn& c, size_t row) {
  if (c.codes[row] == kNullCode) return std::nullopt;
  return c.dict[c.codes[row]];
}
OptList ListAt(const ListColumn& c, size_t row, bool present) {
  if (!present) return std::nullopt;
  std::vector<std::string_view> out;
  for (uint32_t i = c.offsets[row]; i < c.offsets[row + 1]; ++i) out.push_back(c.dict[c.codes[i]]);
  return out;
}
OptView BlobAt(const std::optional<BlobColumn>& c, size_t row) {
  if (!c.has_value() || !c->present[row]) return std::nullopt;
  return c->Get(row);
}
}  // namespace

absl::StatusOr<Event> RowToEvent(const DecodedRows& d, size_t row, std::string_view env) {
  RowValues v;
  for (int c = 0; c < 3; ++c) {
    v.ints[c] = d.ints[c].values[row];
    v.int_present[c] = d.ints[c].present[row];
  }
  for (size_t c = 3; c <= 18; ++c) v.strings[c] = At(d.strings[c], row);
  v.response_status = At(d.response_status, row);
  v.annotations = At(d.annotations, row);
  v.user_extra = At(d.user_extra, row);
  v.user_uid = At(d.user_uid, row);
  v.groups = ListAt(d.groups, row, d.groups_present[row]);
  v.source_ips = ListAt(d.source_ips, row, d.source_ips_present[row]);
  if (d.rest.present[row]) v.rest = d.rest.Get(row);
  v.request_body = BlobAt(d.request_bodies, row);
  v.response_body = BlobAt(d.response_bodies, row);
  return BuildEvent(v, env);
}

// Picking rows: each column is decompressed once and walked only up to the last wanted row;
// values are views into the decompressed bytes, which `keep` owns.
namespace {
bool ParseDictViews(std::string_view* in, std::vector<std::string_view>* dict) {
  uint64_t n;
  if (!NextVarint(in, &n) || n > in->size()) return false;
  dict->resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!GetLengthPrefixed(in, &(*dict)[i])) return false;
  }
  return true;
}

// Calls fn(i, value) for each wanted row rows[i] (ascending) of a Blob stream of `nrows` rows.
template <typename F>
absl::Status PickBlobStream(std::string_view in, size_t first_row, size_t nrows,
                            std::span<const size_t> rows, size_t* next, F fn) {
  for (size_t r = first_row; r < first_row + nrows && *next < rows.size(); ++r) {
    uint64_t n;
    if (!NextVarint(&in, &n) || (n > 0 && n - 1 > in.size())) return Corrupt("blob length");
    OptView value;
    if (n > 0) {
      value = in.substr(0, n - 1);
      in.remove_prefix(n - 1);
    }
    if (r == rows[*next]) fn((*next)++, value);
  }
  return absl::OkStatus();
}

// The wanted rows of a ChunkedBlob: only the chunks holding them are decompressed.
template <typename F>
absl::Status PickChunked(std::string_view stored, size_t nrows, std::span<const size_t> rows,
                         std::deque<std::string>* keep, F fn) {
  KQ_ASSIGN_OR_RETURN(std::vector<BlobChunk> chunks, ParseChunks(stored, nrows));
  size_t next = 0;
  for (const BlobChunk& c : chunks) {
    if (next >= rows.size()) break;
    if (rows[next] >= c.first_row + c.rows) continue;
    KQ_ASSIGN_OR_RETURN(std::string raw, Decompress(c.stored, c.compression, c.raw_len));
    keep->push_back(std::move(raw));
    KQ_RETURN_IF_ERROR(PickBlobStream(keep->back(), c.first_row, c.rows, rows, &next, fn));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<std::string_view> SegmentView::RawView(uint32_t id, uint8_t encoding,
                                                      std::deque<std::string>* keep) const {
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) return std::string_view();
  if (ref->encoding != encoding) return Corrupt(absl::StrCat("encoding of column ", id));
  if (ref->compression == kCompNone) {
    if (ref->stored_len != ref->raw_len) return Corrupt("column length");
    return Stored(*ref);
  }
  if (searched_.has_value() && searched_->first == id) return std::string_view(searched_->second);
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  keep->push_back(std::move(raw));
  return std::string_view(keep->back());
}

absl::StatusOr<std::vector<size_t>> SegmentView::FindRows(uint32_t id,
                                                          std::string_view value) const {
  std::deque<std::string> keep;
  std::vector<size_t> out;
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) return out;
  KQ_ASSIGN_OR_RETURN(std::string_view in, RawView(id, kEncDict, &keep));
  if (!keep.empty()) {
    searched_.emplace(id, std::move(keep.back()));
    in = searched_->second;
  }
  uint64_t n;
  if (!NextVarint(&in, &n) || n > in.size()) return Corrupt("dictionary");
  uint64_t wanted = 0;  // code + 1 of `value`; 0: not in the dictionary
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(&in, &s)) return Corrupt("dictionary");
    if (wanted == 0 && s == value) wanted = i + 1;
  }
  if (wanted == 0) return out;
  for (size_t r = 0; r < rows_; ++r) {
    uint64_t c;
    if (!NextVarint(&in, &c) || c > n) return Corrupt("dictionary code");
    if (c == wanted) out.push_back(r);
  }
  return out;
}

absl::StatusOr<std::vector<Event>> SegmentView::ReadRows(std::span<const size_t> rows,
                                                         std::string_view env,
                                                         std::string_view request_block,
                                                         std::string_view response_block) const {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= rows_ || (i > 0 && rows[i] <= rows[i - 1])) {
      return absl::InvalidArgumentError("ReadRows: rows must ascend and lie in the segment");
    }
  }
  if (!wide_loaded_) return WideMissing();
  std::vector<RowValues> values(rows.size());
  std::deque<std::string> keep;  // decompressed columns the views point into (never move)
  if (rows.empty()) return std::vector<Event>();
  const size_t last = rows.back();

  for (uint32_t id = 0; id < 3; ++id) {
    if (FindColumn(id) == nullptr) continue;
    KQ_ASSIGN_OR_RETURN(std::string_view in, RawView(id, kEncIntDelta, &keep));
    size_t bitmap = (rows_ + 7) / 8;
    if (in.size() < bitmap) return Corrupt("int bitmap");
    std::string_view bits = in.substr(0, bitmap);
    in.remove_prefix(bitmap);
    int64_t prev = 0;
    size_t next = 0;
    for (size_t r = 0; r <= last; ++r) {
      bool present = (static_cast<uint8_t>(bits[r / 8]) & (1u << (r % 8))) != 0;
      if (present) {
        uint64_t z;
        if (!NextVarint(&in, &z)) return Corrupt("int value");
        prev += ZigZagDecode(z);
      }
      if (r == rows[next]) {
        values[next].ints[id] = present ? prev : 0;
        values[next].int_present[id] = present;
        ++next;
      }
    }
  }

  std::vector<std::string_view> dict;
  auto pick_dict = [&](uint32_t id, auto slot) -> absl::Status {
    if (FindColumn(id) == nullptr) return absl::OkStatus();
    KQ_ASSIGN_OR_RETURN(std::string_view in, RawView(id, kEncDict, &keep));
    if (!ParseDictViews(&in, &dict)) return Corrupt("dictionary");
    if (dict.size() < 127 && in.size() == rows_) {
      // Every code is one byte: row r's is byte r.
      for (size_t i = 0; i < rows.size(); ++i) {
        uint8_t c = static_cast<uint8_t>(in[rows[i]]);
        if (c > dict.size()) return Corrupt("dictionary code");
        if (c > 0) slot(values[i]) = dict[c - 1];
      }
      return absl::OkStatus();
    }
    size_t next = 0;
    for (size_t r = 0; r <= last; ++r) {
      uint64_t c;
      if (!NextVarint(&in, &c) || c > dict.size()) return Corrupt("dictionary code");
      if (r == rows[next]) {
        if (c > 0) slot(values[next]) = dict[c - 1];
        ++next;
      }
    }
    return absl::OkStatus();
  };
  for (uint32_t id = 3; id <= 18; ++id) {
    KQ_RETURN_IF_ERROR(pick_dict(id, [id](RowValues& v) -> OptView& { return v.strings[id]; }));
  }
  KQ_RETURN_IF_ERROR(pick_dict(static_cast<uint32_t>(InternalColumn::kResponseStatus),
                               [](RowValues& v) -> OptView& { return v.response_status; }));
  KQ_RETURN_IF_ERROR(pick_dict(static_cast<uint32_t>(InternalColumn::kAnnotations),
                               [](RowValues& v) -> OptView& { return v.annotations; }));
  KQ_RETURN_IF_ERROR(pick_dict(static_cast<uint32_t>(InternalColumn::kUserExtra),
                               [](RowValues& v) -> OptView& { return v.user_extra; }));
  KQ_RETURN_IF_ERROR(pick_dict(static_cast<uint32_t>(InternalColumn::kUserUid),
                               [](RowValues& v) -> OptView& { return v.user_uid; }));

  auto pick_list = [&](Column column, auto slot) -> absl::Status {
    uint32_t id = static_cast<uint32_t>(column);
    if (FindColumn(id) == nullptr) return absl::OkStatus();
    KQ_ASSIGN_OR_RETURN(std::string_view in, RawView(id, kEncList, &keep));
    if (!ParseDictViews(&in, &dict)) return Corrupt("list dictionary");
    size_t next = 0;
    for (size_t r = 0; r <= last; ++r) {
      uint64_t n;
      if (!NextVarint(&in, &n) || n > in.size() + 1) return Corrupt("list count");
      const bool wanted = r == rows[next];
      OptList& out = slot(values[next]);
      if (wanted && n > 0) out.emplace();
      for (uint64_t k = 1; k < n; ++k) {
        uint64_t c;
        if (!NextVarint(&in, &c) || c >= dict.size()) return Corrupt("list code");
        if (wanted) out->push_back(dict[c]);
      }
      if (wanted) ++next;
    }
    return absl::OkStatus();
  };
  KQ_RETURN_IF_ERROR(pick_list(Column::kGroups, [](RowValues& v) -> OptList& { return v.groups; }));
  KQ_RETURN_IF_ERROR(
      pick_list(Column::kSourceIps, [](RowValues& v) -> OptList& { return v.source_ips; }));

  auto pick_blobs = [&](std::string_view stored, bool chunked, auto slot) -> absl::Status {
    auto set = [&](size_t i, OptView v) { slot(values[i]) = v; };
    if (chunked) return PickChunked(stored, rows_, rows, &keep, set);
    size_t next = 0;
    return PickBlobStream(stored, 0, rows_, rows, &next, set);
  };
  const uint32_t rest_id = static_cast<uint32_t>(InternalColumn::kRest);
  if (const ColumnRef* ref = FindColumn(rest_id); ref != nullptr) {
    bool chunked = ref->encoding == kEncChunkedBlob;
    std::string_view stored;
    if (chunked) {
      if (ref->compression != kCompNone) return Corrupt("compressed chunked blob column");
      stored = Stored(*ref);
    } else {
      KQ_ASSIGN_OR_RETURN(stored, RawView(rest_id, kEncBlob, &keep));
    }
    KQ_RETURN_IF_ERROR(
        pick_blobs(stored, chunked, [](RowValues& v) -> OptView& { return v.rest; }));
  }
  auto pick_body = [&](std::string_view block, auto slot) -> absl::Status {
    if (block.empty()) return absl::OkStatus();
    KQ_ASSIGN_OR_RETURN(uint8_t version, BodyVersion(block));
    block.remove_prefix(1);
    if (version >= 2) return pick_blobs(block, true, slot);
    KQ_ASSIGN_OR_RETURN(std::string raw, BodyBlockV1Raw(block));
    keep.push_back(std::move(raw));
    return pick_blobs(keep.back(), false, slot);
  };
  KQ_RETURN_IF_ERROR(
      pick_body(request_block, [](RowValues& v) -> OptView& { return v.request_body; }));
  KQ_RETURN_IF_ERROR(
      pick_body(response_block, [](RowValues& v) -> OptView& { return v.response_body; }));

  std::vector<Event> events;
  events.reserve(rows.size());
  for (const RowValues& v : values) {
    KQ_ASSIGN_OR_RETURN(Event e, BuildEvent(v, env));
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace kq::storage
