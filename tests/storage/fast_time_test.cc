#include "storage/fast_time.h"

#include <gtest/gtest.h>

#include <random>

#include "common/time.h"

namespace kq::storage {
namespace {

TEST(FastTimeTest, AgreesWithCommonTime) {
  std::mt19937_64 rng(5);
  // From 1000-01-01 (common/time.h writes years below 1000 with fewer digits) to 9999-12-31,
  // plus the epoch neighbourhood.
  std::uniform_int_distribution<int64_t> any(-30610224000LL * kMicrosPerSecond,
                                             253402300799LL * kMicrosPerSecond);
  for (int i = 0; i < 100000; ++i) {
    TimeMicros t = i < 1000 ? (i - 500) * 999'999 : any(rng);
    std::string text = FormatTimestamp(t);
    char buf[kCanonicalTimestampSize];
    ASSERT_TRUE(FormatCanonicalTimestamp(t, buf)) << t;
    ASSERT_EQ(std::string(buf, sizeof(buf)), text) << t;
    TimeMicros parsed;
    ASSERT_TRUE(ParseCanonicalTimestamp(text, &parsed)) << text;
    ASSERT_EQ(parsed, t) << text;
    ASSERT_TRUE(IsCanonicalTimestamp(text, t));
  }
}

TEST(FastTimeTest, RefusesOtherShapesAndInvalidDates) {
  TimeMicros t;
  EXPECT_FALSE(ParseCanonicalTimestamp("2018-10-25T13:58:49Z", &t));
  EXPECT_FALSE(ParseCanonicalTimestamp("2023-06-12T13:30:25.756122+00:00", &t));
  EXPECT_FALSE(ParseCanonicalTimestamp("2023-02-29T13:30:25.756122Z", &t));
  EXPECT_FALSE(ParseCanonicalTimestamp("2023-13-01T13:30:25.756122Z", &t));
  EXPECT_FALSE(ParseCanonicalTimestamp("2023-06-12T24:30:25.756122Z", &t));
  EXPECT_FALSE(ParseCanonicalTimestamp("2023-06-12T13:30:25.75612xZ", &t));
  EXPECT_TRUE(ParseCanonicalTimestamp("2024-02-29T00:00:00.000000Z", &t));
  EXPECT_EQ(t, 1709164800LL * kMicrosPerSecond);  // date -u -d 2024-02-29 +%s
  EXPECT_FALSE(IsCanonicalTimestamp("2018-10-25T13:58:49Z", 1540475929LL * kMicrosPerSecond));
}

// IsCanonicalTimestamp(text, t) is true exactly when text is t's canonical form: checked
// against formatting on texts one character away from it (other digits, other separators,
// invalid dates such as day 31 of a 30-day month).
TEST(FastTimeTest, IsCanonicalOnlyForTheCanonicalText) {
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int64_t> any(0, 253402300799LL * kMicrosPerSecond);
  const std::string kChars = "0123456789-:.TZ+ ";
  for (int i = 0; i < 20000; ++i) {
    const TimeMicros t = any(rng);
    char buf[kCanonicalTimestampSize];
    ASSERT_TRUE(FormatCanonicalTimestamp(t, buf));
    const std::string canonical(buf, sizeof(buf));
    std::string text = canonical;
    text[rng() % text.size()] = kChars[rng() % kChars.size()];
    ASSERT_EQ(IsCanonicalTimestamp(text, t), text == canonical) << text << " for " << canonical;
  }
}

}  // namespace
}  // namespace kq::storage
