// The vectorized filter: evaluates a `where` predicate over a storage batch, narrowing a
// selection vector. Predicates on one dictionary-coded column are evaluated once per
// dictionary entry and then looked up per row by code; comparisons of an int column with a
// constant run as a plain loop; everything else is evaluated row by row, only for rows still
// selected (so event JSON and bodies are decoded only for rows that passed the cheaper tests).
// Not thread-safe; one per executing query.
#ifndef KQ_QUERY_FILTER_H_
#define KQ_QUERY_FILTER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "query/bound.h"
#include "query/eval.h"
#include "storage/scan.h"

namespace kq::query {

class BatchFilter {
 public:
  // `predicate` must outlive the filter. Constants should be folded first (FoldConstants).
  explicit BatchFilter(const BoundExpr* predicate);

  // Keeps in `sel` (ascending row numbers) the rows of `batch` where the predicate holds.
  // `ctx` must be on `batch` (NewBatch); decoding errors met are returned.
  [[nodiscard]] absl::Status Apply(const storage::EventBatch& batch, EvalContext& ctx,
                                   std::vector<uint32_t>* sel);

 private:
  void Filter(const BoundExpr& e, const storage::EventBatch& batch, EvalContext& ctx,
              std::vector<uint32_t>* sel);

  const BoundExpr* predicate_;
};

// Replaces every constant subexpression (no field reads) by its value, given now().
void FoldConstants(BoundExpr* e, TimeMicros now);

// Adds to `out` (once each) the batch columns `e` reads.
void AddColumnsRead(const BoundExpr& e, std::vector<storage::Column>* out);

// The cost class of evaluating `e` on a batch row: 0 dictionary/int columns only, 1 other
// columns, 2 needs event JSON or a body.
int EvalCost(const BoundExpr& e);

}  // namespace kq::query

#endif  // KQ_QUERY_FILTER_H_
