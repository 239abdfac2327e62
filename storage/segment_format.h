// Constants and compression helpers shared by the segment encoder (segment_builder.cc) and
// decoder (segment_view.cc). Internal to the storage module; the layout they describe is in
// docs/format.md, "Segment".
#ifndef KQ_STORAGE_SEGMENT_FORMAT_H_
#define KQ_STORAGE_SEGMENT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/segment.h"

namespace kq::storage::segment_format {

// Version 3 splits a segment into a narrow and a wide part (docs/format.md, "Segment");
// version 2 stores the rest column as ChunkedBlob; both and version 1 (one Blob frame) are read.
inline constexpr uint8_t kSegmentVersion = 3;
inline constexpr uint8_t kSplitSegmentVersion = 3;
inline constexpr uint8_t kOldestSegmentVersion = 1;
// Version 2 is a ChunkedBlob; version 1 (one compressed Blob) is still read.
inline constexpr uint8_t kBodyVersion = 2;
inline constexpr uint8_t kOldestBodyVersion = 1;
// Stored on disk: do not change.
inline constexpr uint8_t kEncIntDelta = 0, kEncDict = 1, kEncList = 2, kEncBlob = 3,
                         kEncChunkedBlob = 4, kEncIntBlocks = 5, kEncIntDict = 6;
constexpr bool IsIntEncoding(uint8_t e) {
  return e == kEncIntDelta || e == kEncIntBlocks || e == kEncIntDict;
}
// A ChunkedBlob chunk closes once it holds this many rows or raw bytes (a larger row is a
// chunk alone): reading one row decompresses at most about this much.
inline constexpr size_t kBlobChunkRows = 16384;
inline constexpr size_t kBlobChunkBytes = 1 << 20;
// Stored on disk: do not change. kCompUuidZstd: a Dict column whose dictionary is mostly
// canonical UUIDs, those packed to 16 bytes and the codes delta-coded, then zstd
// (docs/format.md, "Compression codes"); it decompresses to the exact Dict bytes.
inline constexpr uint8_t kCompNone = 0, kCompZstd = 1, kCompUuidZstd = 2;

// The dictionary-coded columns a segment holds, in storage order.
inline constexpr uint32_t kDictColumns[] = {
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
inline constexpr size_t kNumDict = sizeof(kDictColumns) / sizeof(kDictColumns[0]);
// Index into kDictColumns of each column id.
constexpr size_t DictIndex(uint32_t id) { return id < 64 ? id - 3 : 16 + (id - 65); }

// DataLoss "corrupt segment: <what>".
absl::Status Corrupt(std::string_view what);

// Compresses `raw` at zstd `level` into *out and sets *compression to the code used:
// kCompUuidZstd when `raw` parses as a Dict whose dictionary is at least half canonical UUIDs
// (lowercase 8-4-4-4-12 hex) and packing them makes it shorter, else kCompZstd; kCompNone (raw
// stored as is) when the frame is not smaller than `raw`. Any bytes round-trip through
// Decompress exactly. Thread-safe (one zstd context and scratch buffers per thread).
void Compress(std::string_view raw, int level, std::string* out, uint8_t* compression);

// Inverse of Compress; DataLoss (never a crash) when `compression` is unknown or the bytes do
// not decode to exactly `raw_len` bytes.
[[nodiscard]] absl::StatusOr<std::string> Decompress(std::string_view stored, uint8_t compression,
                                                     size_t raw_len);

}  // namespace kq::storage::segment_format

#endif  // KQ_STORAGE_SEGMENT_FORMAT_H_
