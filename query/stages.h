// The executors: one Stage per bound operator (query/bound.h), chained push-style. Each stage
// consumes rows (a storage batch row or a table row, through an EvalContext) and emits table
// rows to the next stage; the last stage hands rows to the caller's RowSink in chunks.
// Not thread-safe; a chain belongs to one running query.
#ifndef KQ_QUERY_STAGES_H_
#define KQ_QUERY_STAGES_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/bound.h"
#include "query/eval.h"
#include "query/result.h"

namespace kq::query {

class Stage {
 public:
  virtual ~Stage() = default;
  // One input row: ctx.batch/ctx.row, or ctx.table_row.
  [[nodiscard]] virtual absl::Status Consume(EvalContext& ctx) = 0;
  // The rows `sel` of a storage batch (ctx on the batch); by default Consume per row until
  // Done(). Stages that can work on dictionary codes override it.
  [[nodiscard]] virtual absl::Status ConsumeBatch(const storage::EventBatch& batch,
                                                  const std::vector<uint32_t>& sel,
                                                  EvalContext& ctx);
  // End of input: flush what is held, then finish the next stage.
  [[nodiscard]] virtual absl::Status Finish();
  // True when no more input can change the result (a satisfied take).
  virtual bool Done() const { return next_ != nullptr && next_->Done(); }
  // For a top-N by time over batches: the worst time still kept, once N rows are held.
  virtual std::optional<TimeMicros> TimeThreshold() const { return std::nullopt; }

  void set_next(Stage* next) { next_ = next; }

 protected:
  [[nodiscard]] absl::Status Emit(Row row);
  Stage* next_ = nullptr;
  TimeMicros now_ = 0;

  friend absl::StatusOr<std::vector<std::unique_ptr<Stage>>> BuildStages(
      const std::vector<const BoundOp*>& ops, TimeMicros now, RowSink* sink, uint64_t max_rows,
      uint64_t* rows_returned);
};

// Builds the chain for `ops` (in order; leading batch filters already removed), ending in a
// stage that sends rows to `sink` (at most `max_rows`, then ResourceExhausted) and counts them
// in `*rows_returned`. The first element is the head of the chain.
[[nodiscard]] absl::StatusOr<std::vector<std::unique_ptr<Stage>>> BuildStages(
    const std::vector<const BoundOp*>& ops, TimeMicros now, RowSink* sink, uint64_t max_rows,
    uint64_t* rows_returned);

// The summarize stage (query/summarize.cc).
std::unique_ptr<Stage> MakeSummarizeStage(const BoundOp* op);

}  // namespace kq::query

#endif  // KQ_QUERY_STAGES_H_
