// Bad input gets a clear error and never a crash: every policy of the corpus cut at every byte
// and with bytes flipped, YAML with deep nesting, and JSON bodies cut short for the
// managedFields stripper.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "retention/policy.h"
#include "retention/policy_apply.h"
#include "retention/tiers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CorpusDir;
using ::kq::testing::ReadFileOrDie;

TEST(RobustnessTest, TruncatedAndMutatedPoliciesFailCleanly) {
  std::mt19937 rng(7);
  int parsed = 0, refused = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir() / "policies")) {
    std::string text = ReadFileOrDie(entry.path());
    for (size_t cut = 0; cut <= text.size(); cut += 7) {
      absl::StatusOr<Policy> p = Policy::Parse(std::string_view(text).substr(0, cut), "cut");
      if (p.ok()) {
        ++parsed;
      } else {
        ++refused;
        EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_FALSE(p.status().message().empty());
      }
    }
    for (int i = 0; i < 300; ++i) {
      std::string mutated = text;
      for (int j = 0; j < 3; ++j) {
        mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
      }
      absl::StatusOr<Policy> p = Policy::Parse(mutated, "mutated");
      (p.ok() ? parsed : refused)++;
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(parsed, 0);
}

TEST(RobustnessTest, DeepNestingIsRefused) {
  std::string deep(5000, '[');
  absl::StatusOr<Policy> p = Policy::Parse(deep, "deep");
  EXPECT_FALSE(p.ok());
  std::string nested;
  for (int i = 0; i < 300; ++i) nested += "- ";
  nested += "x\n";
  absl::StatusOr<yaml::Node> n = yaml::Parse(nested, "nested");
  EXPECT_FALSE(n.ok());
}

TEST(RobustnessTest, StrippingTruncatedBodiesNeverCrashes) {
  std::string body =
      R"({"kind":"PodList","items":[{"metadata":{"name":"a","managedFields":[{"m":"x\"}"}]}},)"
      R"({"metadata":{"managedFields":[],"name":"b"}}],"metadata":{"managedFields":[1]}})";
  std::string out;
  ASSERT_TRUE(StripManagedFields(body, &out));
  for (size_t cut = 0; cut < body.size(); ++cut) {
    std::string partial = "untouched";
    EXPECT_FALSE(StripManagedFields(std::string_view(body).substr(0, cut), &partial)) << cut;
    EXPECT_EQ(partial, "untouched");
  }
}

TEST(RobustnessTest, RetentionSectionsOfEveryShapeFailCleanly) {
  for (std::string_view text :
       {"retention: 7", "retention: [prod]", "retention:\n  prod: [hot]",
        "retention:\n  prod: {hot: [1d]}", "retention:\n  prod: {namespaces: [a]}",
        "retention:\n  prod: {levels: {Metadata: 3}}", "retention:\n  prod: {archive: {}}"}) {
    absl::StatusOr<yaml::Node> root = yaml::Parse(text, "kqd.yaml");
    ASSERT_TRUE(root.ok()) << text;
    absl::StatusOr<RetentionConfig> c = RetentionConfig::FromYaml(*root->Find("retention"));
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr("kqd.yaml:")) << text;
  }
}

}  // namespace
}  // namespace kq::retention
