// Evaluation of bound expressions (query/bound.h) on one row: a row of a storage batch
// (whole event) or a row of an intermediate table. Not thread-safe (the context caches the
// event's JSON); one context per executing thread.
#ifndef KQ_QUERY_EVAL_H_
#define KQ_QUERY_EVAL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "query/bound.h"
#include "query/result.h"
#include "storage/scan.h"

namespace kq::query {

class EvalContext {
 public:
  // Exactly one of batch / table_row is set for field access; neither for constants.
  const storage::EventBatch* batch = nullptr;
  size_t row = 0;
  const Row* table_row = nullptr;
  // Set by Stage::Emit: table_row is that call's own row, which the consumer may move from
  // when it keeps the row unchanged (the sink).
  Row* owned_row = nullptr;
  TimeMicros now = 0;  // now() and ago(), fixed for the whole query

  // Inside any(): the current element.
  const Value* element = nullptr;
  // Per-dictionary evaluation: batch column `override_column` reads as `override_value`.
  std::optional<storage::Column> override_column;
  const Value* override_value = nullptr;

  // Lazily fetched parts of the current batch row; call SetRow to move on.
  std::optional<std::string> event_json, request_json, response_json;
  // The first error met (undecodable event, malformed JSON); evaluation then yields nulls.
  absl::Status status;

  // Starts on a new batch (forgets cached parts).
  void NewBatch(const storage::EventBatch* b) {
    batch = b;
    cached_ = false;
  }
  // Moves to row `r` of the batch; cached parts stay when `r` is the current row.
  void SetRow(size_t r) {
    if (cached_ && r == row) return;
    row = r;
    cached_ = true;
    event_json.reset();
    request_json.reset();
    response_json.reset();
  }

 private:
  bool cached_ = false;
};

Value Eval(const BoundExpr& e, EvalContext& ctx);
// All values of a multi-valued expression (a [*] path); one value for any other expression.
void EvalAll(const BoundExpr& e, EvalContext& ctx, std::vector<Value>* out);
// True only when `e` evaluates to bool true.
bool EvalBool(const BoundExpr& e, EvalContext& ctx);

// The event JSON of the context's batch row (fetched once per row).
const std::string& EventJsonOf(EvalContext& ctx);

// The value of a storage batch column at `row` (list columns: the JSON array).
Value ColumnValue(const storage::EventBatch& batch, storage::Column c, size_t row);

}  // namespace kq::query

#endif  // KQ_QUERY_EVAL_H_
