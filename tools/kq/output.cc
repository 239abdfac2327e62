#include "tools/kq/output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "common/time.h"

namespace kq::cli {
namespace {

using query::ColumnInfo;
using query::Row;
using query::Value;
using query::ValueType;

constexpr std::string_view kEventColumn = "_event";
constexpr int kMaxCellWidth = 60;
constexpr int kBarWidth = 40;

// Display width of UTF-8 text: one column per code point.
int DisplayWidth(std::string_view s) {
  int n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `s` cut to at most `width` columns, with "…" marking a cut.
std::string Fit(std::string_view s, int width) {
  if (DisplayWidth(s) <= width) return std::string(s);
  if (width <= 1) return width == 1 ? "…" : "";
  std::string out;
  int used = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    bool starts_char = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (starts_char && ++used > width - 1) break;
    out.push_back(s[i]);
  }
  return out + "…";
}

std::string FormatDouble(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

bool IsNumeric(ValueType t) { return t == ValueType::kInt || t == ValueType::kDouble; }

double AsDouble(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return 0;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

void Write(FILE* out, std::string_view s) { std::fwrite(s.data(), 1, s.size(), out); }

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonLines;
  if (name == "csv") return OutputFormat::kCsv;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", Sv(name), "\": use table, json, jsonl or csv"));
}

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kJsonLines:
      return "jsonl";
    case OutputFormat::kCsv:
      return "csv";
  }
  return "table";
}

OutputOptions DetectTerminal(FILE* out, OutputFormat format) {
  OutputOptions options;
  options.format = format;
  int fd = fileno(out);
  if (isatty(fd)) {
    struct winsize ws {};
    options.width = ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 120;
    const char* no_color = std::getenv("NO_COLOR");
    options.color = no_color == nullptr || *no_color == '\0';
  }
  return options;
}

std::string CellText(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return absl::StrCat(i); }
    std::string operator()(double d) const { return FormatDouble(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(query::Datetime t) const { return FormatTimestamp(t.micros); }
    std::string operator()(query::Timespan t) const { return FormatDuration(t.micros); }
    std::string operator()(const query::Json& j) const { return j.text; }
  };
  return std::visit(Visitor{}, value);
}

void AppendCellJson(const Value& value, std::string* out) {
  if (std::holds_alternative<std::monostate>(value)) {
    out->append("null");
  } else if (auto* j = std::get_if<query::Json>(&value)) {
    out->append(j->text);
  } else if (std::holds_alternative<bool>(value) || std::holds_alternative<int64_t>(value) ||
             std::holds_alternative<double>(value)) {
    out->append(CellText(value));
  } else {
    AppendJsonQuoted(CellText(value), out);
  }
}

ResultPrinter::ResultPrinter(FILE* out, OutputOptions options) : out_(out), options_(options) {}

ResultPrinter::~ResultPrinter() { Finish(); }

absl::Status ResultPrinter::OnSchema(const std::vector<ColumnInfo>& columns) {
  columns_ = columns;
  whole_events_ = !columns_.empty() && columns_.back().name == kEventColumn &&
                  columns_.back().type == ValueType::kEvent;
  if (options_.format == OutputFormat::kJson) Write(out_, "[");
  if (options_.format == OutputFormat::kCsv) {
    std::string header;
    size_t n = whole_events_ ? columns_.size() - 1 : columns_.size();
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) header.push_back(',');
      header += CsvField(columns_[i].name);
    }
    Write(out_, header + "\n");
  }
  return absl::OkStatus();
}

absl::Status ResultPrinter::OnRows(std::span<const Row> rows) {
  if (options_.format == OutputFormat::kTable) {
    buffered_.insert(buffered_.end(), rows.begin(), rows.end());
    rows_printed_ += rows.size();
    return absl::OkStatus();
  }
  std::string text;
  for (const Row& row : rows) {
    if (options_.format == OutputFormat::kCsv) {
      size_t n = whole_events_ ? row.size() - 1 : row.size();
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) text.push_back(',');
        text += CsvField(CellText(row[i]));
      }
    } else {
      if (options_.format == OutputFormat::kJson) text += rows_printed_ == 0 ? "\n" : ",\n";
      if (whole_events_) {
        text += CellText(row.back());
      } else {
        text.push_back('{');
        for (size_t i = 0; i < row.size() && i < columns_.size(); ++i) {
          if (i > 0) text.push_back(',');
          AppendJsonQuoted(columns_[i].name, &text);
          text.push_back(':');
          AppendCellJson(row[i], &text);
        }
        text.push_back('}');
      }
    }
    if (options_.format != OutputFormat::kJson) text.push_back('\n');
    ++rows_printed_;
  }
  Write(out_, text);
  return absl::OkStatus();
}

void ResultPrinter::Finish() {
  if (finished_) return;
  finished_ = true;
  if (options_.format == OutputFormat::kJson) Write(out_, rows_printed_ == 0 ? "]\n" : "\n]\n");
  if (options_.format == OutputFormat::kTable) PrintTable();
  std::fflush(out_);
}

void ResultPrinter::PrintTable() {
  size_t ncols = whole_events_ ? columns_.size() - 1 : columns_.size();
  if (ncols == 0) return;
  std::vector<std::vector<std::string>> cells(buffered_.size());
  std::vector<int> widths(ncols);
  for (size_t c = 0; c < ncols; ++c) widths[c] = DisplayWidth(columns_[c].name);
  for (size_t r = 0; r < buffered_.size(); ++r) {
    cells[r].resize(ncols);
    for (size_t c = 0; c < ncols && c < buffered_[r].size(); ++c) {
      cells[r][c] = CellText(buffered_[r][c]);
      widths[c] = std::max(widths[c], std::min(DisplayWidth(cells[r][c]), kMaxCellWidth));
    }
  }
  // A time series (a datetime key, then only numbers) gets a bar chart of its last column.
  int bar_column = -1;
  bool time_series = !whole_events_ && ncols >= 2 && columns_[0].type == ValueType::kDatetime &&
                     buffered_.size() > 1;
  for (size_t c = 1; c < ncols && time_series; ++c) time_series = IsNumeric(columns_[c].type);
  if (time_series) bar_column = static_cast<int>(ncols - 1);
  // Shrink the widest columns until the table fits the terminal.
  auto total = [&] {
    int sum = 0;
    for (int w : widths) sum += w + 2;
    return sum + (bar_column >= 0 ? kBarWidth : 0);
  };
  while (options_.width > 0 && total() > options_.width) {
    auto widest = std::max_element(widths.begin(), widths.end());
    if (*widest <= 8) break;
    --*widest;
  }
  double max_value = 0;
  if (bar_column >= 0) {
    for (const Row& row : buffered_) max_value = std::max(max_value, AsDouble(row[bar_column]));
  }
  std::string bold = options_.color ? "\x1b[1m" : "", reset = options_.color ? "\x1b[0m" : "";
  std::string text;
  auto append_cell = [&](std::string_view s, size_t c, bool right) {
    std::string fitted = Fit(s, widths[c]);
    std::string pad(widths[c] - DisplayWidth(fitted), ' ');
    text += right ? pad + fitted : fitted + (c + 1 < ncols || bar_column >= 0 ? pad : "");
    if (c + 1 < ncols || bar_column >= 0) text += "  ";
  };
  text += bold;
  for (size_t c = 0; c < ncols; ++c) append_cell(columns_[c].name, c, IsNumeric(columns_[c].type));
  while (!text.empty() && text.back() == ' ') text.pop_back();
  text += reset + "\n";
  for (size_t r = 0; r < cells.size(); ++r) {
    for (size_t c = 0; c < ncols; ++c) append_cell(cells[r][c], c, IsNumeric(columns_[c].type));
    if (bar_column >= 0 && max_value > 0) {
      int n = static_cast<int>(AsDouble(buffered_[r][bar_column]) / max_value * kBarWidth + 0.5);
      for (int i = 0; i < n; ++i) text += "█";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    text += "\n";
  }
  Write(out_, text);
}

}  // namespace kq::cli
