// Generated events through the store's own decoder (storage/decoder.h): every event of every
// format decodes without error, and the decoded fields agree with the generator's options.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/decoder.h"
#include "storage/event.h"
#include "tests/testing/status_matchers.h"
#include "tools/gen/generator.h"

namespace kq::gen {
namespace {

std::string GenerateAll(const GenOptions& options) {
  std::string out;
  EXPECT_OK(Generate(options, [&out](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  }));
  return out;
}

TEST(GenIngestTest, JsonLinesDecodeWithoutErrors) {
  GenOptions options;
  options.seed = 11;
  options.events = 30'000;
  const std::string text = GenerateAll(options);
  storage::Decoder decoder;
  std::vector<storage::Event> events;
  std::vector<storage::DecodeError> errors;
  decoder.DecodeLines(text, &events, &errors);
  for (const storage::DecodeError& e : errors) ADD_FAILURE() << e.reason;
  ASSERT_EQ(events.size(), options.events);
  TimeMicros previous = 0;
  for (const storage::Event& e : events) {
    EXPECT_EQ(e.kind, "Event");
    EXPECT_EQ(e.api_version, "audit.k8s.io/v1");
    EXPECT_GE(e.request_received_time, options.start);
    EXPECT_GE(e.stage_time, e.request_received_time);
    EXPECT_GE(e.stage_time, previous);
    previous = e.stage_time;
    EXPECT_EQ(e.code.has_value(), e.stage != "RequestReceived");
  }
}

TEST(GenIngestTest, EventListBodiesDecodeWithoutErrors) {
  GenOptions options;
  options.seed = 12;
  options.events = 2'000;
  options.batch_size = 400;
  options.format = GenOptions::Format::kEventList;
  const std::string text = GenerateAll(options);
  storage::Decoder decoder;
  size_t bodies = 0;
  size_t total = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    std::vector<storage::Event> events;
    std::vector<storage::DecodeError> errors;
    decoder.DecodeBody(std::string_view(text).substr(start, end - start), &events, &errors);
    for (const storage::DecodeError& e : errors) ADD_FAILURE() << e.reason;
    EXPECT_EQ(events.size(), 400u);
    for (const storage::Event& e : events) {
      EXPECT_FALSE(e.kind.has_value());  // webhook items carry no TypeMeta
      EXPECT_FALSE(e.api_version.has_value());
    }
    total += events.size();
    ++bodies;
    start = end + 1;
  }
  EXPECT_EQ(bodies, 5u);
  EXPECT_EQ(total, options.events);
}

}  // namespace
}  // namespace kq::gen
