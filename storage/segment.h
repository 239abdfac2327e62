// Columnar segments (docs/format.md, "Segment", "BodyBlock"): the events of one (bucket,
// namespace) encoded column by column, each column zstd-compressed; bodies in separate blocks.
//
// SegmentBuilder turns Events into an EncodedSegment (stored as a narrow and a wide part, see
// IsWideColumn); SegmentView parses a stored segment, or its narrow part alone until AttachWide,
// and decodes columns on request (or only chosen rows: ReadRows); RowToEvent rebuilds one Event
// from decoded columns; BodyReader reads single rows of a BodyBlock. Internal to the storage
// module. Builders, views and body readers are thread-compatible (one thread at a time).
#ifndef KQ_STORAGE_SEGMENT_H_
#define KQ_STORAGE_SEGMENT_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/event.h"
#include "storage/scan.h"
#include "storage/summary.h"

namespace kq::storage {

inline constexpr size_t kMaxSegmentRows = 65536;

// Column ids beyond storage::Column. Stored on disk: do not change.
enum class InternalColumn : uint32_t {
  kRest = 64,
  kResponseStatus = 65,
  kAnnotations = 66,
  kUserExtra = 67,
  kUserUid = 68,
};

// Optional byte strings per row: row i is data[offsets[i], offsets[i+1]) when present[i].
struct BlobColumn {
  std::string data;
  std::vector<uint32_t> offsets;  // rows + 1
  std::vector<bool> present;

  std::string_view Get(size_t row) const {
    return std::string_view(data).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
};

// Whether column `id` is stored in a segment's wide part (docs/format.md, "Segment"): the
// large columns few queries scan (auditID, stage time, requestURI, rest, responseStatus,
// annotations, user.extra, user.uid). Stored on disk (version 3): do not change.
constexpr bool IsWideColumn(uint32_t id) {
  return id == static_cast<uint32_t>(Column::kStageTime) ||
         id == static_cast<uint32_t>(Column::kAuditId) ||
         id == static_cast<uint32_t>(Column::kRequestUri) ||
         (id >= static_cast<uint32_t>(InternalColumn::kRest) &&
          id <= static_cast<uint32_t>(InternalColumn::kUserUid));
}

// The key suffix of a segment's wide part, stored next to the narrow part in `segments`.
inline constexpr char kWideSuffix = '\x01';

struct EncodedSegment {
  size_t rows = 0;
  // The whole segment (parseable alone). Stored as two values in `segments`: the first
  // `narrow_bytes` bytes under the segment key, the rest (the wide part, "" when no column is
  // wide) under segment key + kWideSuffix.
  std::string segment;
  size_t narrow_bytes = 0;
  std::string request_bodies;   // BodyBlock, "" when no row has a requestObject
  std::string response_bodies;  // BodyBlock, "" when no row has a responseObject
  Summary summary;
};

struct DecodedRows;

// The zstd level of the store's segment columns and bodies as they stay. On kq gen traffic
// level 1 took a quarter of the CPU of level 6 for 3.6 % more bytes, and fewer bytes than
// levels 2 to 4 (docs/benchmarks.md "Segment compression level").
inline constexpr int kSegmentZstdLevel = 1;

// A segment with fewer rows is small: the background merges and Flush merge the small
// segments of a (bucket, namespace) into larger ones, encoded again at kSegmentZstdLevel.
inline constexpr uint64_t kSmallSegmentRows = 16384;

// The zstd level (zstd's fast mode) of small segments as appended: they are merged and
// compressed again soon, so a fast level saves CPU and no bytes in the end (4 % of a 1M-event
// import, the same store; docs/benchmarks.md "Streamed appends").
inline constexpr int kSmallSegmentZstdLevel = -2;

// Collects events and encodes them as one segment. The env attribution is not stored.
class SegmentBuilder {
 public:
  SegmentBuilder();
  ~SegmentBuilder();
  SegmentBuilder(const SegmentBuilder&) = delete;
  SegmentBuilder& operator=(const SegmentBuilder&) = delete;

  void Add(const Event& event);
  // Adds every row of a decoded segment (bodies from rows.*_bodies), column by column, without
  // rebuilding Events: how merges copy segments. The summary's raw_bytes does not count them.
  void AddRows(const DecodedRows& rows);
  size_t rows() const;
  // Encodes the rows added so far, sorted by requestReceivedTimestamp, every column and body
  // block compressed at `zstd_level`, and resets the builder.
  EncodedSegment Finish(int zstd_level = kSegmentZstdLevel);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A parsed Segment value. Owns its bytes, or shares the ownership of bytes kept by `owner`
// (e.g. a pinned RocksDB value, read without a copy).
class SegmentView {
 public:
  // DataLoss when `value` is not a well-formed segment.
  [[nodiscard]] static absl::StatusOr<SegmentView> Parse(std::string value);
  // The same over `bytes`, which stay valid as long as `owner` lives.
  [[nodiscard]] static absl::StatusOr<SegmentView> Parse(std::string_view bytes,
                                                         std::shared_ptr<const void> owner);

  size_t rows() const { return rows_; }
  size_t stored_bytes() const { return value_.size(); }

  // A version 3 segment parsed from its narrow part alone lacks the wide columns' bytes until
  // AttachWide gives them (the value under segment key + kWideSuffix, kept alive by `owner`).
  // Until then wide columns (and ReadRows, DecodeAllColumns) fail with FailedPrecondition.
  bool wide_loaded() const { return wide_loaded_; }
  // Whether column `id` is present and stored in the wide part.
  bool IsWide(uint32_t id) const;
  // DataLoss when `bytes` is not the wide part's length; FailedPrecondition when already there.
  [[nodiscard]] absl::Status AttachWide(std::string_view bytes, std::shared_ptr<const void> owner);

  // Absent columns decode as all-null. DataLoss on corrupt bytes; InvalidArgument when the
  // column exists with another encoding.
  [[nodiscard]] absl::StatusOr<IntColumn> Ints(uint32_t id) const;
  // Whether LowerBound can search int column `id`: it is stored as uncompressed IntBlocks (the
  // time column since IntBlocks exists; docs/format.md) and its part is loaded.
  bool Searchable(uint32_t id) const;
  // The first row whose int column `id` is >= `value` (rows() when none), for a Searchable
  // column with a value in every row, in ascending order (the time column: rows are in time
  // order). Binary search over the blocks' first values, then one block of 128 decoded.
  // FailedPrecondition when the column is not Searchable or has a null row.
  [[nodiscard]] absl::StatusOr<size_t> LowerBound(uint32_t id, int64_t value) const;
  [[nodiscard]] absl::StatusOr<StringColumn> Strings(uint32_t id) const;
  // `present` (optional) receives, per row, whether the list was present (vs absent).
  [[nodiscard]] absl::StatusOr<ListColumn> Lists(uint32_t id,
                                                 std::vector<bool>* present = nullptr) const;
  [[nodiscard]] absl::StatusOr<BlobColumn> Blobs(uint32_t id) const;

  // The ids of the columns the segment holds, in storage order.
  std::vector<uint32_t> ColumnIds() const;
  // What zstd compressed on its own in column `id`, decompressed: the whole column, or each
  // chunk of a ChunkedBlob column (empty when the column is absent). For tools that study
  // compression (kq_segment_units).
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> CompressionUnits(uint32_t id) const;

  // The rows (ascending) whose dictionary column `id` equals `value`, without building the
  // column's strings. The view keeps that column decompressed for a following ReadRows.
  [[nodiscard]] absl::StatusOr<std::vector<size_t>> FindRows(uint32_t id,
                                                             std::string_view value) const;
  // Rebuilds the events of `rows` (strictly ascending, each < rows()) decoding only what they
  // need: each column is decompressed once and walked up to the last row; of the chunked rest
  // column and bodies only the chunks holding the rows. `*_block` are the segment's BodyBlocks
  // ("" when absent or dropped); `env` is the environment's name. What needle look-ups use.
  [[nodiscard]] absl::StatusOr<std::vector<Event>> ReadRows(std::span<const size_t> rows,
                                                            std::string_view env,
                                                            std::string_view request_block,
                                                            std::string_view response_block) const;

 private:
  struct ColumnRef {
    uint32_t id;
    uint8_t encoding;
    uint8_t compression;
    bool wide;      // stored in the wide part
    size_t offset;  // into value_ (narrow) or wide_ (wide)
    size_t stored_len;
    size_t raw_len;
  };
  const ColumnRef* FindColumn(uint32_t id) const;
  // FindColumn, FailedPrecondition when the column is wide and the wide part is missing.
  [[nodiscard]] absl::StatusOr<const ColumnRef*> Find(uint32_t id) const;
  [[nodiscard]] static absl::Status WideMissing();
  std::string_view Stored(const ColumnRef& ref) const;
  [[nodiscard]] absl::StatusOr<std::string> Raw(const ColumnRef& ref) const;
  // The raw bytes of `ref` and, in *storage, what keeps them alive: the segment's owner when
  // stored uncompressed, else a shared decompressed copy.
  [[nodiscard]] absl::StatusOr<std::string_view> SharedRaw(
      const ColumnRef& ref, std::shared_ptr<const void>* storage) const;
  // The raw bytes of column `id` ("" when absent): a view into the value when stored
  // uncompressed, else into a decompressed copy appended to `keep`. DataLoss when the column
  // has another encoding.
  [[nodiscard]] absl::StatusOr<std::string_view> RawView(uint32_t id, uint8_t encoding,
                                                         std::deque<std::string>* keep) const;

  std::shared_ptr<const void> owner_;  // keeps value_'s bytes alive
  std::string_view value_;
  std::shared_ptr<const void> wide_owner_;  // keeps wide_'s bytes alive when attached
  std::string_view wide_;
  size_t wide_bytes_ = 0;
  bool wide_loaded_ = false;
  size_t rows_ = 0;
  std::vector<ColumnRef> columns_;
  // The raw bytes of the column FindRows last searched (by id).
  mutable std::optional<std::pair<uint32_t, std::string>> searched_;
};

// Decodes a BodyBlock of a segment with `rows` rows.
[[nodiscard]] absl::StatusOr<BlobColumn> DecodeBodyBlock(std::string_view value, size_t rows);
// The chunks of a version 2 BodyBlock, each decompressed (SegmentView::CompressionUnits).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> BodyBlockCompressionUnits(
    std::string_view value, size_t rows);

// One row at a time out of a BodyBlock: a version 2 block's chunks are decompressed on the first
// request for one of their rows, and rows are views into them (no copy). Owns the block.
// Thread-compatible.
class BodyReader {
 public:
  // DataLoss when the block's header is corrupt.
  [[nodiscard]] static absl::StatusOr<BodyReader> Open(std::string block, size_t rows);
  // Row `row` (< rows), nullopt when absent. The view lives as long as the reader. DataLoss on
  // a corrupt chunk.
  [[nodiscard]] absl::StatusOr<std::optional<std::string_view>> Get(size_t row);

 private:
  struct Chunk {
    size_t first_row, rows;
    uint8_t compression;
    std::string_view stored;
    size_t raw_len;
    std::unique_ptr<std::string> raw;                    // decompressed on first use
    std::vector<std::optional<std::string_view>> items;  // into raw (or the block)
  };
  std::unique_ptr<std::string> block_;  // stable address: chunks point into it
  std::vector<Chunk> chunks_;
};

// Every column of a segment, decoded; what RowToEvent needs.
struct DecodedRows {
  size_t rows = 0;
  std::vector<IntColumn> ints;        // indexed by Column id 0..2
  std::vector<StringColumn> strings;  // indexed by Column id (3..18 used)
  ListColumn groups, source_ips;
  std::vector<bool> groups_present, source_ips_present;
  BlobColumn rest;
  StringColumn response_status, annotations, user_extra, user_uid;
  std::optional<BlobColumn> request_bodies, response_bodies;  // nullopt: not loaded / dropped
};

[[nodiscard]] absl::StatusOr<DecodedRows> DecodeAllColumns(const SegmentView& view);

// Rebuilds row `row`; `env` is the environment's name. Bodies come from rows.*_bodies.
[[nodiscard]] absl::StatusOr<Event> RowToEvent(const DecodedRows& rows, size_t row,
                                               std::string_view env);

}  // namespace kq::storage

#endif  // KQ_STORAGE_SEGMENT_H_
