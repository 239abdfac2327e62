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
#include "storage/segment.h"
#include "storage/segment_format.h"

namespace kq::storage {

using segment_format::Corrupt;
using segment_format::Decompress;
using segment_format::kBodyVersion;
using segment_format::kEncBlob;
using segment_format::kEncDict;
using segment_format::kEncIntDelta;
using segment_format::kEncList;
using segment_format::kSegmentVersion;

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
