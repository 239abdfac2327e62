#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace kq {
namespace {

TEST(CodingTest, BigEndianSortsAsNumbers) {
  std::string a, b;
  PutFixed64BE(&a, 255);
  PutFixed64BE(&b, 256);
  EXPECT_LT(a, b);
  std::string_view in = b;
  uint64_t v;
  ASSERT_TRUE(GetFixed64BE(&in, &v));
  EXPECT_EQ(v, 256u);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, VarintRoundTripsAndRejectsTruncation) {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35,
                     std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    PutVarint64(&s, v);
    std::string_view in = s;
    uint64_t out;
    ASSERT_TRUE(GetVarint64(&in, &out));
    EXPECT_EQ(out, v);
    std::string_view cut = std::string_view(s).substr(0, s.size() - 1);
    EXPECT_FALSE(GetVarint64(&cut, &out));
  }
  EXPECT_EQ(ZigZagDecode(ZigZagEncode(-5)), -5);
  EXPECT_LT(ZigZagEncode(-1), 4u);
}

}  // namespace
}  // namespace kq
