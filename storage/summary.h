// Per-segment summaries (docs/format.md, "Summary"): row count, time range, byte counts and,
// for a few columns, the set of values (exact when small, else a Bloom filter), so scans and
// needle look-ups skip segments unread. Value types; thread-compatible.
#ifndef KQ_STORAGE_SUMMARY_H_
#define KQ_STORAGE_SUMMARY_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace kq::storage {

// The values of one column in a segment.
struct ValueSet {
  uint32_t column = 0;  // storage::Column id
  bool bloom = false;
  std::vector<std::string> values;  // exact: sorted, distinct
  uint32_t nbits = 0;               // bloom
  uint32_t nprobes = 0;
  std::string bits;

  // False only when `value` is certainly not in the segment.
  bool MayContain(std::string_view value) const;
};

// Builds an exact set (<= 64 values and <= 4 KiB, sorted) or a Bloom filter from `distinct`,
// which holds no value twice (a dictionary's values). Copies only the values of an exact set.
ValueSet MakeValueSet(uint32_t column, std::span<const std::string_view> distinct);

struct Summary {
  uint64_t rows = 0;
  TimeMicros min_time = 0;
  TimeMicros max_time = 0;
  uint64_t raw_bytes = 0;      // JSON bytes as ingested
  uint64_t segment_bytes = 0;  // size of the Segment value
  uint64_t body_bytes = 0;     // size of the BodyBlock values
  bool bodies_dropped = false;
  std::vector<ValueSet> sets;

  // nullptr when the column is not summarised.
  const ValueSet* Find(uint32_t column) const;
  std::string Encode() const;
  // DataLoss when the bytes are not a Summary.
  [[nodiscard]] static absl::StatusOr<Summary> Decode(std::string_view bytes);
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_SUMMARY_H_
