#include "retention/tiers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace kq::retention {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;

absl::StatusOr<RetentionConfig> ParseSection(std::string_view text) {
  absl::StatusOr<yaml::Node> root = yaml::Parse(text, "kqd.yaml");
  if (!root.ok()) return root.status();
  return RetentionConfig::FromYaml(*root->Find("retention"));
}

TEST(TiersTest, DefaultsAreThoseOfTheIssue) {
  RetentionConfig c = RetentionConfig::Defaults();
  const EnvironmentRetention* prod = c.Find("prod");
  const EnvironmentRetention* dev = c.Find("dev");
  ASSERT_NE(prod, nullptr);
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(prod->ages.hot, 7 * kDay);
  EXPECT_EQ(prod->ages.warm, 90 * kDay);
  EXPECT_EQ(prod->ages.archive, 400 * kDay);
  EXPECT_EQ(prod->ages.LeaveStoreAt(), 90 * kDay);
  EXPECT_EQ(dev->ages.hot, 1 * kDay);
  EXPECT_EQ(dev->ages.warm, 7 * kDay);
  EXPECT_FALSE(dev->ages.archive.has_value());
  EXPECT_EQ(dev->ages.delete_at, 14 * kDay);
  EXPECT_EQ(dev->ages.LeaveStoreAt(), 14 * kDay);
  EXPECT_EQ(prod->ages.ToString(), "hot 7d, warm 90d, archive until 400d");
  EXPECT_EQ(dev->ages.ToString(), "hot 1d, warm 7d, deleted at 14d");
  EXPECT_EQ(c.Find("staging"), nullptr);
}

TEST(TiersTest, NamespaceAndLevelOverrides) {
  ASSERT_OK_AND_ASSIGN(RetentionConfig c, ParseSection(R"(
retention:
  prod:
    namespaces:
      kube-system: {warm: 180d}
      vault: {hot: 30d, archive: 730d}
    levels:
      RequestResponse: {hot: 10d}
  dev: {hot: 2d}
  staging: {hot: 3d, warm: 10d}
)"));
  const EnvironmentRetention* prod = c.Find("prod");
  ASSERT_NE(prod, nullptr);
  // Unset fields keep the defaults; the level override lengthens hot everywhere in prod.
  TierAges def = prod->ForNamespace("default");
  EXPECT_EQ(def.hot, 10 * kDay);
  EXPECT_EQ(def.warm, 90 * kDay);
  EXPECT_EQ(def.archive, 400 * kDay);
  TierAges ks = prod->ForNamespace("kube-system");
  EXPECT_EQ(ks.warm, 180 * kDay);
  EXPECT_EQ(ks.archive, 400 * kDay);
  TierAges vault = prod->ForNamespace("vault");
  EXPECT_EQ(vault.hot, 30 * kDay);
  EXPECT_EQ(vault.archive, 730 * kDay);
  EXPECT_EQ(vault.delete_at, 730 * kDay);
  const EnvironmentRetention* dev = c.Find("dev");
  EXPECT_EQ(dev->ages.hot, 2 * kDay);
  EXPECT_EQ(dev->ages.delete_at, 14 * kDay);
  const EnvironmentRetention* staging = c.Find("staging");
  ASSERT_NE(staging, nullptr);
  EXPECT_EQ(staging->ages.delete_at, 10 * kDay);
  EXPECT_FALSE(staging->ages.archive.has_value());
}

TEST(TiersTest, UnlistedEnvironmentsKeepTheirDefaults) {
  ASSERT_OK_AND_ASSIGN(RetentionConfig c,
                       ParseSection("retention:\n  staging: {hot: 2d, warm: 30d}\n"));
  ASSERT_EQ(c.environments.size(), 3u);
  EXPECT_EQ(c.Find("prod")->ages, RetentionConfig::Defaults().Find("prod")->ages);
  EXPECT_EQ(c.Find("dev")->ages.delete_at, 14 * kDay);
  EXPECT_EQ(c.Find("staging")->ages.warm, 30 * kDay);
}

TEST(TiersTest, ArchiveCanBeSwitchedOffAndDeleteSet) {
  ASSERT_OK_AND_ASSIGN(RetentionConfig c,
                       ParseSection("retention:\n  prod: {archive: none, delete: 120d}\n"));
  TierAges a = c.Find("prod")->ages;
  EXPECT_FALSE(a.archive.has_value());
  EXPECT_EQ(a.delete_at, 120 * kDay);
  EXPECT_EQ(a.LeaveStoreAt(), 120 * kDay);
  ASSERT_OK_AND_ASSIGN(c, ParseSection("retention:\n  dev: {archive: 30d}\n"));
  EXPECT_EQ(c.Find("dev")->ages.archive, 30 * kDay);
  EXPECT_EQ(c.Find("dev")->ages.LeaveStoreAt(), 7 * kDay);
}

TEST(TiersTest, NonsenseIsRefusedWithTheLine) {
  EXPECT_THAT(ParseSection("retention:\n  prod:\n    hot: 7d\n    warm: 5d\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "kqd.yaml:4:11: retention.prod.warm: warm (5d) is shorter than hot (7d)"));
  EXPECT_THAT(
      ParseSection("retention:\n  prod: {hot: -1d}\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "kqd.yaml:2:15: retention.prod.hot: an age cannot be negative, got \"-1d\""));
  EXPECT_THAT(ParseSection("retention:\n  prod: {archive: 30d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("archive (30d) is shorter than warm (90d)")));
  EXPECT_THAT(ParseSection("retention:\n  dev: {delete: 3d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("delete (3d) is shorter than warm (7d)")));
  EXPECT_THAT(ParseSection("retention:\n  prod: {delete: 30d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("archive: none")));
  EXPECT_THAT(ParseSection("retention:\n  qa: {hot: 1d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"qa\" has no defaults")));
  EXPECT_THAT(ParseSection("retention:\n  prod: {hott: 1d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown field \"hott\"")));
  EXPECT_THAT(ParseSection("retention:\n  prod: {warm: 0s, hot: 0s}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer than 0s")));
  EXPECT_THAT(ParseSection("retention:\n  prod:\n    levels:\n      Request: {hot: 1d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only lengthen")));
  EXPECT_THAT(ParseSection("retention:\n  prod:\n    levels:\n      None: {hot: 9d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown level \"None\"")));
  EXPECT_THAT(ParseSection("retention:\n  prod:\n    namespaces:\n      vault: {warm: 3d}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retention.prod.namespaces.vault.warm: warm (3d) is shorter")));
}

}  // namespace
}  // namespace kq::retention
