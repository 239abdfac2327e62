// Running a query: text in, rows out.
//
// CONTRACT between query (implements) and server/tools (call).
#ifndef KQ_QUERY_ENGINE_H_
#define KQ_QUERY_ENGINE_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "query/result.h"
#include "storage/scan.h"

namespace kq::query {

// Opens snapshots of environments by name; implemented over storage::Store by the caller
// (kqd, or kq in embedded mode). NotFound for an environment that is not configured.
class ReaderFactory {
 public:
  virtual ~ReaderFactory() = default;
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<storage::Reader>> Open(
      std::string_view env) = 0;
  // A reader over the environment's archive files (the query source `archive("prod")`),
  // without restoring them. The default is Unimplemented, naming the source.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<storage::Reader>> OpenArchive(
      std::string_view env);
};

struct QueryOptions {
  std::string default_env = "prod";              // what plain `events` reads
  Clock* clock = Clock::Real();                  // now() and ago()
  TimeMicros deadline = INT64_MAX;               // absolute, per `clock`; DeadlineExceeded past it
  uint64_t max_rows = 1'000'000;                 // rows returned; beyond it ResourceExhausted
  const std::atomic<bool>* cancelled = nullptr;  // set to true to stop (Cancelled)
};

// Parses, binds, plans and runs `text`, streaming rows into `sink`. Errors in the query text
// (InvalidArgument) are reported before any data is read, with line:column, a caret line and
// what was expected or a "did you mean".
[[nodiscard]] absl::Status RunQuery(ReaderFactory& readers, std::string_view text,
                                    const QueryOptions& options, RowSink& sink, QueryStats* stats);

// The plan of `text`, as printed by `kq explain`: the pipeline, key ranges, pushed-down
// predicates and how many segments the summaries prune (it opens the readers to count).
[[nodiscard]] absl::StatusOr<std::string> Explain(ReaderFactory& readers, std::string_view text,
                                                  const QueryOptions& options);

}  // namespace kq::query

#endif  // KQ_QUERY_ENGINE_H_
