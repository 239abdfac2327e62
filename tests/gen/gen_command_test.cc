// Tests of the `kq gen` subcommand through CLI11, writing real files.
#include "tools/gen/gen_command.h"

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/clock.h"
#include "common/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/gen/generator.h"

namespace kq {
namespace {

using ::testing::HasSubstr;

// Parses and runs `args` (after the program name) on an app with only `gen` registered.
void RunKq(std::vector<std::string> args) {
  CLI::App app("kq");
  app.require_subcommand(1);
  AddGenCommand(app);
  std::vector<const char*> argv = {"kq"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

std::string Expected(const gen::GenOptions& options) {
  std::string out;
  EXPECT_OK(gen::Generate(options, [&out](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  }));
  return out;
}

TEST(GenCommandTest, WritesTheSameBytesAsTheLibrary) {
  testing::TempDir dir;
  const std::string path = dir.Sub("events.jsonl");
  RunKq({"gen", "--events", "500", "--seed", "9", "--cluster", "prod-eu", "--rate", "50", "--start",
         "2025-01-01T00:00:00Z", "--output", path});
  gen::GenOptions options;
  options.events = 500;
  options.seed = 9;
  options.cluster = "prod-eu";
  options.rate = 50;
  ASSERT_OK_AND_ASSIGN(options.start, ParseTimestamp("2025-01-01T00:00:00Z"));
  const std::string written = testing::ReadFileOrDie(path);
  EXPECT_EQ(written, Expected(options));
  EXPECT_THAT(written, HasSubstr("\"requestReceivedTimestamp\":\"2025-01-01T00:0"));
}

TEST(GenCommandTest, EventListFormatAndBatchSize) {
  testing::TempDir dir;
  const std::string path = dir.Sub("batches.json");
  RunKq({"gen", "--events", "25", "--format", "eventlist", "--batch-size", "10", "-o", path});
  const std::string written = testing::ReadFileOrDie(path);
  size_t lines = 0;
  for (char c : written) lines += c == '\n';
  EXPECT_EQ(lines, 3u);  // 10 + 10 + 5
  EXPECT_EQ(written.rfind(R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1")", 0), 0u);
}

TEST(GenCommandTest, StartRelativeToNow) {
  testing::TempDir dir;
  const std::string path = dir.Sub("recent.jsonl");
  const TimeMicros before = Clock::Real()->Now();
  RunKq({"gen", "--events", "1", "--start", "now-1d", "-o", path});
  const std::string written = testing::ReadFileOrDie(path);
  const size_t at = written.find("\"requestReceivedTimestamp\":\"");
  ASSERT_NE(at, std::string::npos);
  ASSERT_OK_AND_ASSIGN(TimeMicros first, ParseTimestamp(written.substr(at + 28, 27)));
  EXPECT_GE(first, before - kMicrosPerDay);
  EXPECT_LT(first, Clock::Real()->Now() - kMicrosPerDay + 60 * kMicrosPerSecond);
}

TEST(GenCommandTest, BadFlagsAreRejected) {
  EXPECT_THROW(RunKq({"gen", "--format", "xml"}), CLI::ValidationError);
  EXPECT_THROW(RunKq({"gen", "--events", "many"}), CLI::ParseError);
  // Errors found when running: exit code 1 through CLI::RuntimeError.
  EXPECT_THROW(RunKq({"gen", "--start", "yesterday"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--start", "now+1d"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--cluster", "Bad Name"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--rate", "0"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--rate", "-5"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--batch-size", "0"}), CLI::RuntimeError);
  EXPECT_THROW(RunKq({"gen", "--events", "1", "-o", "/nonexistent-dir/x.jsonl"}),
               CLI::RuntimeError);
}

}  // namespace
}  // namespace kq
