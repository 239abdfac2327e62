#include "tools/gen/text.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "common/time.h"
#include "gtest/gtest.h"

namespace kq::gen {
namespace {

std::string MicroTime(TimeMicros t) {
  std::string out;
  AppendMicroTime(t, &out);
  return out;
}

std::string GoDuration(TimeMicros d) {
  std::string out;
  AppendGoDuration(d, &out);
  return out;
}

TEST(TextTest, MicroTimeKnownValues) {
  EXPECT_EQ(MicroTime(0), "1970-01-01T00:00:00.000000Z");
  // The corpus sample's requestReceivedTimestamp, 2023-06-12T13:30:25.756122Z.
  EXPECT_EQ(MicroTime(1686576625756122), "2023-06-12T13:30:25.756122Z");
  EXPECT_EQ(MicroTime(1793577600000000), "2026-11-02T00:00:00.000000Z");
  // Leap day and year end.
  EXPECT_EQ(MicroTime(951782400000001), "2000-02-29T00:00:00.000001Z");
  EXPECT_EQ(MicroTime(1704067199999999), "2023-12-31T23:59:59.999999Z");
}

TEST(TextTest, MicroTimeAgreesWithCommonFormatter) {
  Rng rng(99);
  for (int i = 0; i < 20000; ++i) {
    const TimeMicros t = static_cast<TimeMicros>(rng.Below(4'102'444'800'000'000));  // to 2100
    ASSERT_EQ(MicroTime(t), FormatTimestamp(t)) << t;
  }
}

TEST(TextTest, SecondsTime) {
  std::string out;
  AppendSecondsTime(1686576625756122, &out);
  EXPECT_EQ(out, "2023-06-12T13:30:25Z");
}

TEST(TextTest, GoDurationMatchesGoFormatting) {
  // Values as Go's time.Duration.String() prints them.
  EXPECT_EQ(GoDuration(0), "0s");
  EXPECT_EQ(GoDuration(999), "999µs");
  EXPECT_EQ(GoDuration(1'500), "1.5ms");
  EXPECT_EQ(GoDuration(841'557), "841.557ms");
  EXPECT_EQ(GoDuration(2'000'000), "2s");
  EXPECT_EQ(GoDuration(1'012'900), "1.0129s");
  EXPECT_EQ(GoDuration(449'000'000), "7m29s");
  EXPECT_EQ(GoDuration(3'600'000'000), "1h0m0s");
  EXPECT_EQ(GoDuration(3'661'500'000), "1h1m1.5s");
}

TEST(TextTest, UuidsAreVersion4AndDistinct) {
  Rng rng(1);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id;
    AppendUuid(rng, &id);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[14], '4');
    EXPECT_EQ(id[18], '-');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_EQ(id[23], '-');
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(TextTest, RngIsDeterministicAndBounded) {
  Rng a(5);
  Rng b(5);
  Rng c(6);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
  uint64_t counts[7] = {};
  for (int i = 0; i < 70000; ++i) ++counts[a.Below(7)];
  for (uint64_t n : counts) EXPECT_NEAR(static_cast<double>(n), 10000, 500);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = a.Between(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
}

TEST(TextTest, PortableLogMatchesLibm) {
  for (double x : {1.0, 0.5, 0.999999, 0.123456, 1e-9, 2.0, 1e6, 0x1.0p-53}) {
    EXPECT_NEAR(Rng::PortableLog(x), std::log(x), 1e-12 * std::max(1.0, std::fabs(std::log(x))))
        << x;
  }
  EXPECT_EQ(Rng::PortableLog(1.0), 0.0);
}

TEST(TextTest, Numbers) {
  std::string out;
  AppendUint(0, &out);
  out.push_back(' ');
  AppendUint(18446744073709551615ULL, &out);
  EXPECT_EQ(out, "0 18446744073709551615");
}

}  // namespace
}  // namespace kq::gen
