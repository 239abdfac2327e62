// The three encodings of an int column's raw bytes (docs/format.md, "Segment"): IntDelta
// (zigzag varint deltas), IntBlocks (blocks of 128 values with their first values in full, in
// one array, so a search over sorted values decodes one block) and IntDict (a sorted dictionary of
// the distinct values and a one-byte code per row, 0 for null). Internal to the storage module.
// Stateless and thread-safe.
#ifndef KQ_STORAGE_INT_CODEC_H_
#define KQ_STORAGE_INT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/scan.h"

namespace kq::storage::int_codec {

// Values per IntBlocks block (the last block of a column may hold fewer).
inline constexpr size_t kBlockValues = 128;
// IntDict holds at most this many distinct values (codes are one byte; 0 is null).
inline constexpr size_t kMaxDictValues = 255;

// Appends the raw bytes of rows values[perm[0]], values[perm[1]], ... (null where !present) in
// `encoding` (segment_format::kEncIntDelta, kEncIntBlocks or kEncIntDict). Precondition for
// kEncIntDict: at most kMaxDictValues distinct present values (see DistinctAtMost).
void Encode(uint8_t encoding, const std::vector<int64_t>& values, const std::vector<bool>& present,
            const std::vector<uint32_t>& perm, std::string* out);

// Whether the present values hold at most `limit` distinct values.
bool DistinctAtMost(const std::vector<int64_t>& values, const std::vector<bool>& present,
                    size_t limit);

// Decodes `rows` rows from `raw` in `encoding`. DataLoss ("corrupt segment: ...") on malformed
// bytes, InvalidArgument on an encoding that is not an int encoding.
[[nodiscard]] absl::StatusOr<IntColumn> Decode(uint8_t encoding, std::string_view raw, size_t rows);

// The first row whose value is >= `value` (`rows` when none) in IntBlocks bytes `raw` whose
// rows all hold a value, in ascending order (the time column). Binary search over the blocks'
// first values, then one block decoded. FailedPrecondition when a row is null; DataLoss on
// malformed bytes (values out of order are not detected).
[[nodiscard]] absl::StatusOr<size_t> BlocksLowerBound(std::string_view raw, size_t rows,
                                                      int64_t value);

}  // namespace kq::storage::int_codec

#endif  // KQ_STORAGE_INT_CODEC_H_
