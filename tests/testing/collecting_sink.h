// A query::RowSink that keeps everything a query returns, for tests to inspect.
#ifndef KQ_TESTS_TESTING_COLLECTING_SINK_H_
#define KQ_TESTS_TESTING_COLLECTING_SINK_H_

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "query/result.h"

namespace kq::testing {

class CollectingSink : public query::RowSink {
 public:
  absl::Status OnSchema(const std::vector<query::ColumnInfo>& columns) override {
    columns_ = columns;
    return absl::OkStatus();
  }
  absl::Status OnRows(std::span<const query::Row> rows) override {
    rows_.insert(rows_.end(), rows.begin(), rows.end());
    return absl::OkStatus();
  }
  std::vector<query::ColumnInfo> columns_;
  std::vector<query::Row> rows_;
};

}  // namespace kq::testing

#endif  // KQ_TESTS_TESTING_COLLECTING_SINK_H_
