#include <algorithm>
#include <bit>
#include <deque>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "storage/int_codec.h"
#include "storage/segment.h"
#include "storage/segment_codec.h"
#include "storage/segment_format.h"

namespace kq::storage {

using segment_codec::BlobChunk;
using segment_codec::BodyBlockV1Raw;
using segment_codec::BodyVersion;
using segment_codec::DecodeVarint;
using segment_codec::NextVarint;
using segment_codec::ParseChunks;
using segment_format::Corrupt;
using segment_format::Decompress;
using segment_format::IsIntEncoding;
using segment_format::kBodyVersion;
using segment_format::kCompNone;
using segment_format::kEncBlob;
using segment_format::kEncChunkedBlob;
using segment_format::kEncDict;
using segment_format::kEncIntBlocks;
using segment_format::kEncList;
using segment_format::kOldestBodyVersion;
using segment_format::kOldestSegmentVersion;
using segment_format::kSegmentVersion;
using segment_format::kSplitSegmentVersion;

// GetVarint64 (out of line): varints in the last ten bytes of the input.
bool segment_codec::LongVarint(std::string_view* in, uint64_t* v) { return GetVarint64(in, v); }

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
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) {
    IntColumn col;
    col.values.assign(rows_, 0);
    col.present.assign(rows_, false);
    return col;
  }
  if (!IsIntEncoding(ref->encoding)) return absl::InvalidArgumentError("not an int column");
  std::deque<std::string> keep;
  KQ_ASSIGN_OR_RETURN(std::string_view in, RawView(id, ref->encoding, &keep));
  return int_codec::Decode(ref->encoding, in, rows_);
}

bool SegmentView::Searchable(uint32_t id) const {
  const ColumnRef* ref = FindColumn(id);
  return ref != nullptr && ref->encoding == kEncIntBlocks && ref->compression == kCompNone &&
         (!ref->wide || wide_loaded_);
}

absl::StatusOr<size_t> SegmentView::LowerBound(uint32_t id, int64_t value) const {
  if (!Searchable(id)) {
    return absl::FailedPreconditionError("column is not searchable (uncompressed IntBlocks)");
  }
  std::deque<std::string> keep;  // stays empty: the column is stored uncompressed
  KQ_ASSIGN_OR_RETURN(std::string_view raw, RawView(id, kEncIntBlocks, &keep));
  return int_codec::BlocksLowerBound(raw, rows_, value);
}

absl::StatusOr<std::string_view> SegmentView::SharedRaw(
    const ColumnRef& ref, std::shared_ptr<const void>* storage) const {
  if (ref.compression == kCompNone) {
    if (ref.stored_len != ref.raw_len) return Corrupt("column length");
    *storage = ref.wide ? wide_owner_ : owner_;
    return Stored(ref);
  }
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(ref));
  auto owned = std::make_shared<const std::string>(std::move(raw));
  std::string_view view(*owned);
  *storage = std::move(owned);
  return view;
}

namespace {
bool GetDict(std::string_view* in, std::vector<std::string_view>* dict) {
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
  KQ_ASSIGN_OR_RETURN(std::string_view in, SharedRaw(*ref, &col.storage));
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
  KQ_ASSIGN_OR_RETURN(std::string_view in, SharedRaw(*ref, &col.storage));
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

namespace segment_codec {

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

}  // namespace segment_codec

namespace {

absl::StatusOr<std::vector<std::string>> ChunkUnits(std::string_view chunked, size_t rows) {
  KQ_ASSIGN_OR_RETURN(std::vector<BlobChunk> chunks, ParseChunks(chunked, rows));
  std::vector<std::string> units;
  for (const BlobChunk& c : chunks) {
    KQ_ASSIGN_OR_RETURN(std::string raw, Decompress(c.stored, c.compression, c.raw_len));
    units.push_back(std::move(raw));
  }
  return units;
}

}  // namespace

std::vector<uint32_t> SegmentView::ColumnIds() const {
  std::vector<uint32_t> ids;
  for (const ColumnRef& c : columns_) ids.push_back(c.id);
  return ids;
}

absl::StatusOr<std::vector<std::string>> SegmentView::CompressionUnits(uint32_t id) const {
  KQ_ASSIGN_OR_RETURN(const ColumnRef* ref, Find(id));
  if (ref == nullptr) return std::vector<std::string>();
  if (ref->encoding == kEncChunkedBlob) return ChunkUnits(Stored(*ref), rows_);
  KQ_ASSIGN_OR_RETURN(std::string raw, Raw(*ref));
  std::vector<std::string> units;
  units.push_back(std::move(raw));
  return units;
}

absl::StatusOr<std::vector<std::string>> BodyBlockCompressionUnits(std::string_view value,
                                                                   size_t rows) {
  KQ_ASSIGN_OR_RETURN(uint8_t version, BodyVersion(value));
  if (version < 2) return absl::InvalidArgumentError("a version 1 body block has no chunks");
  return ChunkUnits(value.substr(1), rows);
}

absl::StatusOr<BlobColumn> DecodeBodyBlock(std::string_view value, size_t rows) {
  KQ_ASSIGN_OR_RETURN(uint8_t version, BodyVersion(value));
  value.remove_prefix(1);
  if (version >= 2) return DecodeChunkedBlobs(value, rows);
  KQ_ASSIGN_OR_RETURN(std::string raw, BodyBlockV1Raw(value));
  return DecodeBlobs(raw, rows);
}

absl::StatusOr<BodyReader> BodyReader::Open(std::string block, size_t rows) {
  BodyReader r;
  r.block_ = std::make_unique<std::string>(std::move(block));
  std::string_view value(*r.block_);
  KQ_ASSIGN_OR_RETURN(uint8_t version, BodyVersion(value));
  value.remove_prefix(1);
  if (version < 2) {
    // Version 1: one compressed Blob of every row, decompressed now as one chunk.
    KQ_ASSIGN_OR_RETURN(std::string raw, BodyBlockV1Raw(value));
    Chunk c{0, rows, kCompNone, std::string_view(), 0, nullptr, {}};
    c.raw = std::make_unique<std::string>(std::move(raw));
    r.chunks_.push_back(std::move(c));
  } else {
    KQ_ASSIGN_OR_RETURN(std::vector<BlobChunk> chunks, ParseChunks(value, rows));
    for (const BlobChunk& b : chunks) {
      r.chunks_.push_back({b.first_row, b.rows, b.compression, b.stored, b.raw_len, nullptr, {}});
    }
  }
  return r;
}

absl::StatusOr<std::optional<std::string_view>> BodyReader::Get(size_t row) {
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), row,
                             [](size_t r, const Chunk& c) { return r < c.first_row; });
  if (it == chunks_.begin()) return Corrupt("body row out of range");
  Chunk& c = *std::prev(it);
  if (row >= c.first_row + c.rows) return Corrupt("body row out of range");
  if (c.items.empty()) {
    if (c.raw == nullptr) {
      KQ_ASSIGN_OR_RETURN(std::string raw, Decompress(c.stored, c.compression, c.raw_len));
      c.raw = std::make_unique<std::string>(std::move(raw));
    }
    std::vector<std::optional<std::string_view>> items;
    items.reserve(c.rows);
    std::string_view in(*c.raw);
    for (size_t i = 0; i < c.rows; ++i) {
      uint64_t n;
      if (!NextVarint(&in, &n) || (n > 0 && n - 1 > in.size())) return Corrupt("blob length");
      if (n == 0) {
        items.emplace_back();
        continue;
      }
      items.emplace_back(in.substr(0, n - 1));
      in.remove_prefix(n - 1);
    }
    if (!in.empty()) return Corrupt("blob trailing bytes");
    c.items = std::move(items);
  }
  return c.items[row - c.first_row];
}

}  // namespace kq::storage
