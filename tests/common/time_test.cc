#include "common/time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace kq {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TimestampTest, ParsesKubernetesMicroTime) {
  ASSERT_OK_AND_ASSIGN(TimeMicros t, ParseTimestamp("2023-06-12T13:30:25.756122Z"));
  // 2023-06-12T00:00:00Z is 19520 days after the epoch.
  TimeMicros midnight = TimeMicros{19520} * kMicrosPerDay;
  EXPECT_EQ(t, midnight + ((13 * 60 + 30) * 60 + 25) * kMicrosPerSecond + 756122);
  EXPECT_EQ(FormatTimestamp(t), "2023-06-12T13:30:25.756122Z");
}

TEST(TimestampTest, AcceptsOtherPrecisionsAndOffsets) {
  ASSERT_OK_AND_ASSIGN(TimeMicros secs, ParseTimestamp("2018-10-25T13:58:49Z"));
  ASSERT_OK_AND_ASSIGN(TimeMicros nanos, ParseTimestamp("2018-10-25T13:58:49.000000999Z"));
  ASSERT_OK_AND_ASSIGN(TimeMicros offset, ParseTimestamp("2018-10-25T15:58:49+02:00"));
  EXPECT_EQ(secs, nanos);
  EXPECT_EQ(secs, offset);
  ASSERT_OK_AND_ASSIGN(TimeMicros date, ParseTimestamp("2018-10-25"));
  EXPECT_EQ(secs - date, (13 * 3600 + 58 * 60 + 49) * kMicrosPerSecond);
}

TEST(TimestampTest, RejectsGarbageWithAHint) {
  EXPECT_THAT(ParseTimestamp("yesterday"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RFC 3339")));
  EXPECT_FALSE(ParseTimestamp("2023-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("2023-06-12T13:30:25").ok());
}

TEST(DurationTest, ParsesUnitsAndCompounds) {
  ASSERT_OK_AND_ASSIGN(TimeMicros d, ParseDuration("1d12h"));
  EXPECT_EQ(d, 36 * kMicrosPerHour);
  ASSERT_OK_AND_ASSIGN(TimeMicros ms, ParseDuration("500ms"));
  EXPECT_EQ(ms, 500'000);
  EXPECT_FALSE(ParseDuration("7").ok());
  EXPECT_FALSE(ParseDuration("d").ok());
  EXPECT_EQ(FormatDuration(36 * kMicrosPerHour), "1d12h");
  EXPECT_EQ(FormatDuration(250'000), "250ms");
}

}  // namespace
}  // namespace kq
