#include "tools/kq/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "common/time.h"
#include "tests/testing/status_matchers.h"

namespace kq::cli {
namespace {

using query::ColumnInfo;
using query::Row;
using query::ValueType;

// Runs a printer over `columns` and `rows` and returns what it wrote.
std::string Print(OutputOptions options, const std::vector<ColumnInfo>& columns,
                  const std::vector<Row>& rows) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buf, &size);
  {
    ResultPrinter printer(out, options);
    EXPECT_OK(printer.OnSchema(columns));
    EXPECT_OK(printer.OnRows(rows));
    printer.Finish();
  }
  std::fclose(out);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

const std::vector<ColumnInfo> kColumns = {{"user", ValueType::kString}, {"n", ValueType::kInt}};
const std::vector<Row> kRows = {{std::string("alice"), int64_t{12}},
                                {std::string("system:serviceaccount:ci:deployer"), int64_t{3}},
                                {std::monostate{}, int64_t{0}}};

TEST(OutputTest, TableAlignsColumnsAndRightAlignsNumbers) {
  OutputOptions options;
  std::string text = Print(options, kColumns, kRows);
  EXPECT_EQ(text,
            "user                                n\n"
            "alice                              12\n"
            "system:serviceaccount:ci:deployer   3\n"
            "                                    0\n");
}

TEST(OutputTest, TableCutsWideCellsToTheTerminal) {
  OutputOptions options;
  options.width = 20;
  // Two columns take their width plus a gap of 2 each: "n" needs 2 ("12"), so "user" gets
  // 20 - 4 - 2 = 14 columns: 13 characters and the ellipsis.
  EXPECT_EQ(Print(options, kColumns, kRows),
            "user             n\n"
            "alice           12\n"
            "system:servic…   3\n"
            "                 0\n");
}

TEST(OutputTest, JsonLinesHasOneObjectPerRowWithColumnsInOrder) {
  OutputOptions options;
  options.format = OutputFormat::kJsonLines;
  EXPECT_EQ(Print(options, kColumns, kRows),
            "{\"user\":\"alice\",\"n\":12}\n"
            "{\"user\":\"system:serviceaccount:ci:deployer\",\"n\":3}\n"
            "{\"user\":null,\"n\":0}\n");
}

TEST(OutputTest, JsonIsAnArray) {
  OutputOptions options;
  options.format = OutputFormat::kJson;
  EXPECT_EQ(Print(options, kColumns, {kRows[0]}), "[\n{\"user\":\"alice\",\"n\":12}\n]\n");
  EXPECT_EQ(Print(options, kColumns, {}), "[]\n");
}

TEST(OutputTest, CsvQuotesWhatNeedsQuoting) {
  OutputOptions options;
  options.format = OutputFormat::kCsv;
  std::vector<Row> rows = {{std::string("a,b \"c\""), int64_t{1}}};
  EXPECT_EQ(Print(options, kColumns, rows), "user,n\n\"a,b \"\"c\"\"\",1\n");
}

TEST(OutputTest, WholeEventsPrintTheOriginalJson) {
  std::vector<ColumnInfo> columns = {{"verb", ValueType::kString}, {"_event", ValueType::kEvent}};
  std::string event = R"({"kind":"Event","verb":"get","auditID":"x"})";
  std::vector<Row> rows = {{std::string("get"), query::Json{event}}};
  OutputOptions jsonl;
  jsonl.format = OutputFormat::kJsonLines;
  EXPECT_EQ(Print(jsonl, columns, rows), event + "\n");
  OutputOptions table;
  EXPECT_EQ(Print(table, columns, rows), "verb\nget\n");
}

TEST(OutputTest, TimeSeriesGetsABarChart) {
  std::vector<ColumnInfo> columns = {{"time", ValueType::kDatetime}, {"n", ValueType::kInt}};
  ASSERT_OK_AND_ASSIGN(TimeMicros t0, ParseTimestamp("2026-11-01T00:00:00Z"));
  std::vector<Row> rows = {{query::Datetime{t0}, int64_t{10}},
                           {query::Datetime{t0 + kMicrosPerHour}, int64_t{5}}};
  std::string text = Print(OutputOptions{}, columns, rows);
  // 10 is the maximum: a full bar of 40; 5 is half of it: 20.
  std::string full, half;
  for (int i = 0; i < 40; ++i) full += "█";
  for (int i = 0; i < 20; ++i) half += "█";
  EXPECT_THAT(text, ::testing::HasSubstr("2026-11-01T00:00:00.000000Z  10  " + full + "\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("2026-11-01T01:00:00.000000Z   5  " + half + "\n"));
}

TEST(OutputTest, UnknownFormatIsAUsageError) {
  EXPECT_FALSE(ParseOutputFormat("yaml").ok());
  ASSERT_OK_AND_ASSIGN(OutputFormat f, ParseOutputFormat("csv"));
  EXPECT_EQ(OutputFormatName(f), "csv");
}

}  // namespace
}  // namespace kq::cli
