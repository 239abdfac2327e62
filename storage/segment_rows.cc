// Rebuilding events from a segment: every column decoded (DecodeAllColumns, RowToEvent), or
// only chosen rows, decoding each column once up to the last of them (SegmentView::ReadRows,
// FindRows). docs/format.md, "Segment".
#include <deque>
#include <memory>
#include <optional>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "common/time.h"
#include "storage/event_codec.h"
#include "storage/fast_time.h"
#include "storage/segment.h"
#include "storage/segment_codec.h"
#include "storage/segment_format.h"

namespace kq::storage {

using segment_codec::BlobChunk;
using segment_codec::BodyBlockV1Raw;
using segment_codec::BodyVersion;
using segment_codec::NextVarint;
using segment_codec::ParseChunks;
using segment_format::Corrupt;
using segment_format::Decompress;
using segment_format::kCompNone;
using segment_format::kEncBlob;
using segment_format::kEncChunkedBlob;
using segment_format::kEncDict;
using segment_format::kEncList;

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
    KQ_ASSIGN_OR_RETURN(IntColumn col, Ints(id));
    for (size_t i = 0; i < rows.size(); ++i) {
      values[i].ints[id] = col.values[rows[i]];
      values[i].int_present[id] = col.present[rows[i]];
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
