// Printing query results: aligned tables (with bar charts for time series), JSON, JSON lines
// and CSV. Used by every kq command that prints rows, embedded or remote alike.
#ifndef KQ_TOOLS_KQ_OUTPUT_H_
#define KQ_TOOLS_KQ_OUTPUT_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "query/result.h"

namespace kq::cli {

enum class OutputFormat { kTable, kJson, kJsonLines, kCsv };

[[nodiscard]] absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);
std::string_view OutputFormatName(OutputFormat format);

struct OutputOptions {
  OutputFormat format = OutputFormat::kTable;
  // Table width in characters; 0 = unlimited. Set from the terminal when stdout is one.
  int width = 0;
  bool color = false;  // ANSI colour; only ever on a terminal
};

// Fills width and color from `out` when it is a terminal (and NO_COLOR is unset).
OutputOptions DetectTerminal(FILE* out, OutputFormat format);

// A RowSink that writes to `out` (not owned; must outlive the sink). Table output is buffered
// until Finish() so that columns can be aligned; the other formats stream.
class ResultPrinter : public query::RowSink {
 public:
  ResultPrinter(FILE* out, OutputOptions options);
  ~ResultPrinter() override;

  [[nodiscard]] absl::Status OnSchema(const std::vector<query::ColumnInfo>& columns) override;
  [[nodiscard]] absl::Status OnRows(std::span<const query::Row> rows) override;
  // Writes whatever is buffered and the closing text (the JSON array's "]", the table).
  void Finish();

  uint64_t rows_printed() const { return rows_printed_; }

 private:
  void PrintTable();

  FILE* out_;
  OutputOptions options_;
  std::vector<query::ColumnInfo> columns_;
  bool whole_events_ = false;         // last column is "_event" (see query/result.h)
  std::vector<query::Row> buffered_;  // table mode only
  uint64_t rows_printed_ = 0;
  bool finished_ = false;
};

// Text of one cell as the table and CSV show it ("" for null).
std::string CellText(const query::Value& value);
// One cell as JSON.
void AppendCellJson(const query::Value& value, std::string* out);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_OUTPUT_H_
