// The read side of an environment's store, as the query engine and retention see it.
//
// CONTRACT between storage (implements) and query/retention/server (call). Change it only
// together with every caller.
//
// A Reader is a consistent snapshot of one environment: sealed columnar segments plus the
// recent, not yet sealed events. Scan() hands out column batches; one batch is one segment
// (or a slice of recent events) of one (time bucket, namespace). Rows inside a batch are in
// ascending requestReceivedTimestamp order; batches come bucket by bucket in ascending time
// order (descending when ScanRange::newest_first), and within a bucket by namespace.
#ifndef KQ_STORAGE_SCAN_H_
#define KQ_STORAGE_SCAN_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"

namespace kq::storage {

// The fields every segment stores as its own column. Stored on disk (column ids in segment
// headers): do not change the numbers; add new ones at the end.
enum class Column : uint8_t {
  // Int columns (IntColumn).
  kTime = 0,       // requestReceivedTimestamp, UTC micros
  kStageTime = 1,  // stageTimestamp, UTC micros
  kCode = 2,       // responseStatus.code; null when there is no responseStatus.code
  // String columns (StringColumn); null when the field is absent.
  kAuditId = 3,
  kLevel = 4,
  kStage = 5,
  kVerb = 6,
  kRequestUri = 7,
  kUser = 8,  // user.username
  kUserAgent = 9,
  kNamespace = 10,         // objectRef.namespace ("" key segment for cluster-scoped)
  kResource = 11,          // objectRef.resource
  kSubresource = 12,       // objectRef.subresource
  kName = 13,              // objectRef.name
  kApiGroup = 14,          // objectRef.apiGroup
  kApiVersion = 15,        // objectRef.apiVersion
  kImpersonatedUser = 16,  // impersonatedUser.username
  kDecision = 17,          // annotations["authorization.k8s.io/decision"]
  kCluster = 18,           // attribution: the source's cluster
  kEnv = 19,               // attribution: the environment (constant per store)
  // List columns (ListColumn).
  kGroups = 20,     // user.groups
  kSourceIps = 21,  // sourceIPs
};

// The accessor of each column: Ints for these, Lists for the list columns, Strings for the rest.
constexpr bool IsIntColumn(Column c) {
  return c == Column::kTime || c == Column::kStageTime || c == Column::kCode;
}
constexpr bool IsListColumn(Column c) { return c == Column::kGroups || c == Column::kSourceIps; }

inline constexpr uint32_t kNullCode = 0xFFFFFFFF;

// Dictionary-coded strings: row i is dict[codes[i]], or null when codes[i] == kNullCode.
// Dictionaries are per batch; equal strings have equal codes within a batch. The dictionary
// views point into `storage` when it is set (shared and immutable: copies of the column stay
// valid as long as any lives), else into the batch's own data (valid for the batch's lifetime).
// Decoding a column allocates no string per entry.
struct StringColumn {
  std::vector<std::string_view> dict;
  std::vector<uint32_t> codes;
  std::shared_ptr<const void> storage;
};

// 64-bit integers; row i is values[i] unless !present[i] (null). `present` holds one byte per
// row (0 or 1), not std::vector<bool>, so that decoders and filters read and write it a word at
// a time.
struct IntColumn {
  std::vector<int64_t> values;
  std::vector<uint8_t> present;
  // Also set when the segment stores the column as a dictionary (a few distinct values, e.g.
  // status codes): row i is dict[codes[i] - 1], null when codes[i] == 0. A filter can then
  // judge each dictionary value once and read one byte per row instead of nine.
  std::vector<int64_t> dict;
  std::vector<uint8_t> codes;
};

// Lists of strings: row i holds codes[offsets[i] .. offsets[i+1]) into dict.
// offsets.size() == rows + 1.
// The dictionary views are kept valid as in StringColumn.
struct ListColumn {
  std::vector<std::string_view> dict;
  std::shared_ptr<const void> storage;
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> codes;
};

// One batch of rows. Column accessors decode on first use and cache; the references stay
// valid for the lifetime of the batch (the duration of the Scan callback). Not thread-safe.
class EventBatch {
 public:
  virtual ~EventBatch() = default;

  virtual size_t num_rows() const = 0;
  // The (bucket start, namespace) this batch belongs to.
  virtual TimeMicros bucket() const = 0;
  virtual std::string_view ns() const = 0;

  // Precondition: `c` is of the matching kind (see Column). Decoding errors are reported by
  // status() after the call and by the Scan that produced the batch.
  virtual const IntColumn& Ints(Column c) const = 0;
  virtual const StringColumn& Strings(Column c) const = 0;
  virtual const ListColumn& Lists(Column c) const = 0;
  // The first row whose requestReceivedTimestamp is >= t (num_rows() when none): rows
  // [TimeLowerBound(a), TimeLowerBound(b)) are those with a <= time < b. A segment whose time
  // column is IntBlocks (docs/format.md) answers by decoding one block of 128 rows; others
  // decode the time column. Errors as for the column accessors (then 0).
  virtual size_t TimeLowerBound(TimeMicros t) const {
    const std::vector<int64_t>& times = Ints(Column::kTime).values;
    return static_cast<size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin());
  }

  // The whole event `row` as JSON text, equal (key order aside) to what was ingested, bodies
  // included unless the tier dropped them. Decodes the rest of the event lazily: call it only
  // for rows that passed the column filters.
  [[nodiscard]] virtual absl::StatusOr<std::string> EventJson(size_t row) const = 0;
  // Only requestObject / responseObject of `row` as raw JSON; "" when absent or dropped.
  [[nodiscard]] virtual absl::StatusOr<std::string> RequestObject(size_t row) const = 0;
  [[nodiscard]] virtual absl::StatusOr<std::string> ResponseObject(size_t row) const = 0;
};

// What to read. Segments whose summaries prove that no row can satisfy the hints are skipped
// unread; rows in the batches handed out are NOT filtered by the hints (the executor filters).
struct ScanRange {
  TimeMicros from = INT64_MIN;  // inclusive, on requestReceivedTimestamp
  TimeMicros to = INT64_MAX;    // exclusive
  // Empty means every namespace; "" names cluster-scoped events.
  std::vector<std::string> namespaces;
  // Pruning hints: each entry says "the column must equal one of these values".
  struct AnyOf {
    Column column;
    std::vector<std::string> values;  // for kCode, decimal text
  };
  std::vector<AnyOf> hints;
  bool newest_first = false;
  // Columns the callback reads from (nearly) every batch. When set and the scan reads several
  // segments, Scan fetches the next segments and decodes these columns on other threads while
  // the callback works on the batch before; batches still come in order, on the calling
  // thread, and the callback sees no difference but time.
  std::vector<Column> decode_ahead;
};

// Counters of one scan, reported by explain and query statistics.
struct ScanStats {
  uint64_t segments_total = 0;   // segments in the time/namespace key range
  uint64_t segments_pruned = 0;  // skipped by summaries
  uint64_t segments_read = 0;
  uint64_t rows_read = 0;
  uint64_t bytes_read = 0;  // compressed bytes fetched from RocksDB
};

// Return false to stop the scan early (e.g. a `take` is satisfied).
using BatchCallback = std::function<absl::StatusOr<bool>(const EventBatch&)>;

// A consistent snapshot of one environment. Thread-compatible: one thread at a time; open
// one Reader per query.
class Reader {
 public:
  virtual ~Reader() = default;

  [[nodiscard]] virtual absl::Status Scan(const ScanRange& range, const BatchCallback& fn,
                                          ScanStats* stats) = 0;
  // Needle look-ups that do not scan: every stored event with this auditID (all stages,
  // all clusters), or with this objectRef.name within `range`. Batches hold only matches.
  [[nodiscard]] virtual absl::Status LookupAuditId(std::string_view audit_id,
                                                   const BatchCallback& fn, ScanStats* stats) = 0;
  [[nodiscard]] virtual absl::Status LookupName(std::string_view name, const ScanRange& range,
                                                const BatchCallback& fn, ScanStats* stats) = 0;

  // Distinct values seen in a column (for shell completion and `kq stats`); at most `limit`.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> DistinctValues(Column c,
                                                                                size_t limit) = 0;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_SCAN_H_
