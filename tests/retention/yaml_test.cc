#include "retention/yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::yaml {
namespace {

using ::kq::testing::IsOk;
using ::kq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(YamlTest, BuildsTreeWithPositionsAndPaths) {
  constexpr std::string_view kText =
      "rules:\n"
      "  - level: None\n"
      "    verbs: [get, list]\n"
      "  - level: Metadata\n";
  ASSERT_OK_AND_ASSIGN(Node root, Parse(kText, "p.yaml"));
  ASSERT_TRUE(root.IsMap());
  const Node* rules = root.Find("rules");
  ASSERT_NE(rules, nullptr);
  ASSERT_TRUE(rules->IsSequence());
  ASSERT_EQ(rules->items().size(), 2u);
  const Node& first = rules->items()[0];
  EXPECT_EQ(first.path(), "rules[0]");
  const Node* verbs = first.Find("verbs");
  ASSERT_NE(verbs, nullptr);
  EXPECT_EQ(verbs->path(), "rules[0].verbs");
  EXPECT_EQ(verbs->line(), 3);
  EXPECT_EQ(verbs->column(), 12);
  ASSERT_OK_AND_ASSIGN(auto list, verbs->StringList());
  EXPECT_THAT(list, ElementsAre("get", "list"));
  EXPECT_EQ(rules->items()[1].Find("level")->scalar(), "Metadata");
  EXPECT_EQ(rules->items()[1].Find("level")->line(), 4);
  EXPECT_EQ(first.Find("missing"), nullptr);
}

TEST(YamlTest, ErrorsNameFileLineColumnAndPath) {
  constexpr std::string_view kText =
      "rules:\n"
      "  - level: None\n"
      "    verbs: get\n";
  ASSERT_OK_AND_ASSIGN(Node root, Parse(kText, "policy.yaml"));
  const Node* verbs = root.Find("rules")->items()[0].Find("verbs");
  EXPECT_THAT(verbs->StringList(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "policy.yaml:3:12: rules[0].verbs: expected a list of strings"));
}

TEST(YamlTest, UnknownFieldPointsAtTheKey) {
  ASSERT_OK_AND_ASSIGN(Node root, Parse("a: 1\nverb: [get]\n", "c.yaml"));
  EXPECT_THAT(
      root.ExpectMap({"a", "verbs"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("c.yaml:2:1: unknown field \"verb\" (expected one of: a, verbs)")));
  EXPECT_THAT(root.ExpectMap({"a", "verb"}), IsOk());
}

TEST(YamlTest, DuplicateKeysAreRefused) {
  EXPECT_THAT(
      Parse("a: 1\nb: 2\na: 3\n", "d.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("d.yaml:3:1: duplicate key \"a\"")));
}

TEST(YamlTest, SyntaxErrorsCarryThePosition) {
  EXPECT_THAT(Parse("a: [1, 2\nb: 3\n", "bad.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.yaml:")));
  EXPECT_THAT(Parse("a: 1\n---\nb: 2\n", "two.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one YAML document")));
}

TEST(YamlTest, ScalarsKeepQuotingAndTypedViews) {
  ASSERT_OK_AND_ASSIGN(Node root, Parse("a: \"true\"\nb: true\nc: 42\nd: '7'\ne: 90d\n"
                                        "f:\ng: ~\nh: -3\n",
                                        "s.yaml"));
  EXPECT_TRUE(root.Find("a")->quoted());
  EXPECT_FALSE(root.Find("a")->Bool().ok());
  ASSERT_OK_AND_ASSIGN(bool b, root.Find("b")->Bool());
  EXPECT_TRUE(b);
  ASSERT_OK_AND_ASSIGN(int64_t c, root.Find("c")->Int());
  EXPECT_EQ(c, 42);
  EXPECT_FALSE(root.Find("d")->Int().ok());
  ASSERT_OK_AND_ASSIGN(TimeMicros e, root.Find("e")->Duration());
  EXPECT_EQ(e, 90 * kMicrosPerDay);
  EXPECT_TRUE(root.Find("f")->IsNull());
  ASSERT_OK_AND_ASSIGN(auto empty, root.Find("f")->StringList());
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(root.Find("g")->IsNull());
  ASSERT_OK_AND_ASSIGN(int64_t h, root.Find("h")->Int());
  EXPECT_EQ(h, -3);
  EXPECT_THAT(root.Find("c")->Duration(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("s.yaml:3:4: c:")));
}

TEST(YamlTest, JsonIsAcceptedAsFlowYaml) {
  ASSERT_OK_AND_ASSIGN(Node root, Parse(R"({"k": ["a\u0026b", ""], "n": null})", "j.json"));
  ASSERT_OK_AND_ASSIGN(auto list, root.Find("k")->StringList());
  EXPECT_THAT(list, ElementsAre("a&b", ""));
  EXPECT_TRUE(root.Find("n")->IsNull());
}

TEST(YamlTest, EmptyDocumentIsNull) {
  ASSERT_OK_AND_ASSIGN(Node root, Parse("", "e.yaml"));
  EXPECT_TRUE(root.IsNull());
  EXPECT_THAT(root.ExpectMap({}),
              StatusIs(absl::StatusCode::kInvalidArgument, "e.yaml: expected a map"));
}

TEST(YamlTest, AliasBombIsBounded) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    absl::StrAppend(&text, "a", i, ": &a", i, " [*a", i - 1);
    for (int j = 1; j < 10; ++j) absl::StrAppend(&text, ", *a", i - 1);
    absl::StrAppend(&text, "]\n");
  }
  EXPECT_THAT(Parse(text, "bomb.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too large")));
}

TEST(YamlTest, BuiltNodesGetPaths) {
  Node doc = Node::MakeMap(
      {{"rules", Node::MakeSequence({Node::MakeMap({{"level", Node::MakeScalar("None")}})})}});
  const Node* level = doc.Find("rules")->items()[0].Find("level");
  EXPECT_EQ(level->path(), "rules[0].level");
  EXPECT_THAT(level->Int(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     "<yaml>: rules[0].level: expected an integer"));
}

TEST(YamlTest, ParseFileReportsMissingFiles) {
  kq::testing::TempDir dir;
  EXPECT_THAT(ParseFile(dir.Sub("nope.yaml")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.yaml")));
  kq::testing::WriteFileOrDie(dir.path() / "ok.yaml", "x: 1\n");
  ASSERT_OK_AND_ASSIGN(Node root, ParseFile(dir.Sub("ok.yaml")));
  EXPECT_EQ(root.Find("x")->source(), dir.Sub("ok.yaml"));
}

}  // namespace
}  // namespace kq::yaml
