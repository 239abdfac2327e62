#include "storage/json_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace kq::storage {
namespace {

using ::kq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

PathStep Key(std::string k) { return PathStep{PathStep::Kind::kKey, std::move(k), 0}; }
PathStep Index(uint64_t i) { return PathStep{PathStep::Kind::kIndex, "", i}; }
PathStep Each() { return PathStep{PathStep::Kind::kEach, "", 0}; }

// Renders every visited value as "kind:text" for easy comparison.
std::vector<std::string> Collect(std::string_view json, std::vector<PathStep> path) {
  std::vector<std::string> out;
  absl::Status st = VisitJsonPath(json, path, [&](const JsonValue& v) {
    switch (v.kind) {
      case JsonValue::Kind::kNull:
        out.push_back("null");
        break;
      case JsonValue::Kind::kBool:
        out.push_back(v.boolean ? "bool:true" : "bool:false");
        break;
      case JsonValue::Kind::kInt:
        out.push_back("int:" + std::to_string(v.integer));
        break;
      case JsonValue::Kind::kDouble:
        out.push_back("double:" + std::to_string(v.number));
        break;
      case JsonValue::Kind::kString:
        out.push_back("string:" + std::string(v.text));
        break;
      case JsonValue::Kind::kObject:
        out.push_back("object:" + std::string(v.text));
        break;
      case JsonValue::Kind::kArray:
        out.push_back("array:" + std::string(v.text));
        break;
    }
    return true;
  });
  EXPECT_OK(st);
  return out;
}

constexpr char kPod[] =
    R"({"metadata":{"name":"web","labels":{"app":"x"}},"spec":{"hostNetwork":true,)"
    R"("containers":[{"name":"a","securityContext":{"privileged":true}},{"name":"b\"q"}],)"
    R"("replicas":3,"ratio":0.5,"nothing":null}})";

TEST(JsonPathTest, KeysIndexesAndEach) {
  EXPECT_THAT(Collect(kPod, {Key("metadata"), Key("name")}), ElementsAre("string:web"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("hostNetwork")}), ElementsAre("bool:true"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("containers"), Each(), Key("name")}),
              ElementsAre("string:a", "string:b\"q"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("containers"), Index(1), Key("name")}),
              ElementsAre("string:b\"q"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("containers"), Each(), Key("securityContext"),
                             Key("privileged")}),
              ElementsAre("bool:true"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("replicas")}), ElementsAre("int:3"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("ratio")}), ElementsAre("double:0.500000"));
  EXPECT_THAT(Collect(kPod, {Key("spec"), Key("nothing")}), ElementsAre("null"));
  EXPECT_THAT(Collect(kPod, {Key("metadata"), Key("labels")}),
              ElementsAre(R"(object:{"app":"x"})"));
}

TEST(JsonPathTest, MissesReachNothing) {
  EXPECT_TRUE(Collect(kPod, {Key("nope")}).empty());
  EXPECT_TRUE(Collect(kPod, {Key("spec"), Key("containers"), Index(5)}).empty());
  EXPECT_TRUE(Collect(kPod, {Key("spec"), Key("replicas"), Key("x")}).empty());
  EXPECT_TRUE(Collect(kPod, {Key("metadata"), Each()}).empty());
}

TEST(JsonPathTest, EmptyPathVisitsTheDocument) {
  EXPECT_THAT(Collect("[1,2]", {}), ElementsAre("array:[1,2]"));
  EXPECT_THAT(Collect("\"s\"", {}), ElementsAre("string:s"));
  EXPECT_THAT(Collect("17", {}), ElementsAre("int:17"));
}

TEST(JsonPathTest, StopsEarly) {
  int calls = 0;
  std::vector<PathStep> path = {Key("spec"), Key("containers"), Each()};
  ASSERT_OK(VisitJsonPath(kPod, path, [&](const JsonValue&) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

TEST(JsonPathTest, MalformedJsonIsAnError) {
  std::vector<PathStep> path = {Key("a")};
  EXPECT_THAT(VisitJsonPath("{\"a\":", path, [](const JsonValue&) { return true; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
}

}  // namespace
}  // namespace kq::storage
