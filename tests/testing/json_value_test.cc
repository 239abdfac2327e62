// The tests' JSON parser: what it accepts, what it refuses, and what equality means.
#include "tests/testing/json_value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace kq::testing {
namespace {

using ::testing::HasSubstr;

TEST(JsonValueTest, ParsesValuesKeepingOrderAndRawText) {
  ASSERT_OK_AND_ASSIGN(JsonValue v, ParseJson(R"( {"b": [1, 2.50, -3e2], "a": {"x": "y\u00e9\n"},
                                                  "t": true, "n": null} )"));
  ASSERT_EQ(v.kind, JsonValue::Kind::kObject);
  ASSERT_EQ(v.members.size(), 4u);
  EXPECT_EQ(v.members[0].first, "b");  // document order
  EXPECT_EQ(v["b"].items[1].raw, "2.50");
  EXPECT_DOUBLE_EQ(v["b"].items[2].number, -300);
  EXPECT_EQ(v["a"].raw, R"({"x": "y\u00e9\n"})");
  EXPECT_EQ(v["a"].Str("x"), "y\xc3\xa9\n");
  EXPECT_TRUE(v["t"].boolean);
  EXPECT_TRUE(v["n"].IsNull());
  EXPECT_TRUE(v["missing"]["deeper"].IsNull());
  EXPECT_EQ(v.Find("missing"), nullptr);
  ASSERT_OK_AND_ASSIGN(JsonValue pair, ParseJson(R"("\ud83d\ude00")"));
  EXPECT_EQ(pair.str, "\xf0\x9f\x98\x80");
}

TEST(JsonValueTest, EqualityIgnoresMemberOrderButNotNumberText) {
  ASSERT_OK_AND_ASSIGN(JsonValue a, ParseJson(R"({"x": 1, "y": [true, "s"]})"));
  ASSERT_OK_AND_ASSIGN(JsonValue b, ParseJson(R"({"y": [true, "s"], "x": 1})"));
  ASSERT_OK_AND_ASSIGN(JsonValue c, ParseJson(R"({"y": [true, "s"], "x": 1.0})"));
  ASSERT_OK_AND_ASSIGN(JsonValue d, ParseJson(R"({"y": ["s", true], "x": 1})"));
  ASSERT_OK_AND_ASSIGN(JsonValue e, ParseJson(R"({"y": [true, "s"], "x": 1, "z": null})"));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);  // numbers by text
  EXPECT_FALSE(a == d);  // array order counts
  EXPECT_FALSE(a == e);
  EXPECT_EQ(a.DebugString(), R"({"x":1,"y":[true,"s"]})");
}

TEST(JsonValueTest, RefusesWhatIsNotJson) {
  for (const char* bad :
       {"", "{", R"({"a":1,})", "[1,]", R"({"a":1,"a":2})", "01", "1.", "-", "1e", R"("\x")",
        "\"a\nb\"", "tru", "nul", "[1] 2", R"({a:1})", R"("\u12")", "'s'"}) {
    EXPECT_THAT(ParseJson(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("JSON: ")))
        << "accepted: " << bad;
  }
  EXPECT_THAT(ParseJson(R"({"a":1,"a":2})").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate key")));
  EXPECT_THAT(ParseJson("[1] 2").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailing characters")));
}

}  // namespace
}  // namespace kq::testing
