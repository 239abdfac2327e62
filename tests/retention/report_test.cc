// The cost report against figures worked out by hand from what the test wrote: the store's
// bytes per tier, the archive's file sizes, and (with no archive yet) the zstd command-line
// tool's compression of the same events without their bodies.
#include "retention/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/time.h"
#include "retention/archive.h"
#include "storage/event_json.h"
#include "tests/retention/test_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;
constexpr TimeMicros kD0 = 19723 * kDay;

storage::Event MakeEvent(std::string ns, TimeMicros t, int n) {
  storage::Event e;
  e.kind = "Event";
  e.api_version = "audit.k8s.io/v1";
  e.level = "RequestResponse";
  e.audit_id = absl::StrCat("id-", ns, "-", t, "-", n);
  e.stage = "ResponseComplete";
  e.verb = "get";
  e.request_uri = "/api/v1/namespaces/" + ns + "/pods";
  e.user.username = "bob";
  e.object_ref.emplace();
  e.object_ref->resource = "pods";
  e.object_ref->ns = ns;
  e.response_object =
      absl::StrCat(R"({"kind":"PodList","items":[{"metadata":{"name":"p)", n, R"("}}]})");
  e.request_received_timestamp = FormatTimestamp(t);
  e.request_received_time = t;
  e.stage_timestamp = FormatTimestamp(t);
  e.stage_time = t;
  return e;
}

// Size of `path` compressed by the zstd command-line tool at the archive's level.
uint64_t ZstdCliBytes(const std::string& path) {
  std::string cmd = absl::StrCat("zstd -q -", kArchiveZstdLevel, " -c '", path, "' | wc -c");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  unsigned long long n = 0;
  if (std::fscanf(p, "%llu", &n) != 1) n = 0;
  ::pclose(p);
  return n;
}

class CostReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, OpenTestStore(dir_.Sub("data"), &clock_));
    prod_ = store_->Find("prod");
    // Days D0..D0+6: 10 events a day in "a"; the last day also 3 in "b".
    for (int d = 0; d < 7; ++d) {
      for (int i = 0; i < 10; ++i) recent_.push_back(MakeEvent("a", kD0 + d * kDay + i, i));
    }
    for (int i = 0; i < 3; ++i) recent_.push_back(MakeEvent("b", kD0 + 6 * kDay + 100 + i, i));
    ASSERT_OK(prod_->Append(recent_, nullptr));
    ASSERT_OK(prod_->Flush());
  }

  // Disk bytes and events of one (tier, namespace) as the store counts them.
  std::pair<uint64_t, uint64_t> Disk(std::string_view tier, std::string_view ns) {
    absl::StatusOr<storage::EnvironmentStats> stats = prod_->Stats();
    EXPECT_TRUE(stats.ok());
    uint64_t bytes = 0, events = 0;
    for (const auto& n : stats->namespaces) {
      if (n.tier == tier && n.ns == ns) {
        bytes += n.disk_bytes;
        events += n.events;
      }
    }
    return {bytes, events};
  }

  // The part the zstd CLI makes of `ns`'s recent events of `day`, bodies dropped.
  double CliPartBytes(const std::string& ns, TimeMicros day) {
    std::string lines;
    for (storage::Event e : recent_) {
      if (e.Namespace() != ns || e.request_received_time < day ||
          e.request_received_time >= day + kDay) {
        continue;
      }
      e.request_object.reset();
      e.response_object.reset();
      absl::StrAppend(&lines, storage::EventToJson(e), "\n");
    }
    std::string path = dir_.Sub(absl::StrCat("part-", ns, "-", day, ".jsonl"));
    std::ofstream(path) << lines;
    json_bytes_[ns] = lines.size();
    return static_cast<double>(ZstdCliBytes(path));
  }

  kq::testing::TempDir dir_;
  std::map<std::string, uint64_t> json_bytes_;  // of the last CliPartBytes per namespace
  FakeClock clock_{kD0 + 7 * kDay};
  std::unique_ptr<storage::Store> store_;
  storage::Environment* prod_ = nullptr;
  std::vector<storage::Event> recent_;
  RetentionConfig config_ = RetentionConfig::Defaults();
};

TEST_F(CostReportTest, EachTierFromWhatItReallyCosts) {
  // A month back (bodies dropped): 20 warm events of "a", 2 of "c" (none since). And 4 archived
  // events of "a".
  std::vector<storage::Event> old;
  for (int i = 0; i < 20; ++i) old.push_back(MakeEvent("a", kD0 - 30 * kDay + i, i));
  for (int i = 0; i < 2; ++i) old.push_back(MakeEvent("c", kD0 - 30 * kDay + i, i));
  ASSERT_OK(prod_->Append(old, nullptr));
  ASSERT_OK(prod_->Flush());
  ASSERT_OK(prod_->DropBodies(kD0 - 30 * kDay, kD0 - 29 * kDay, {}));
  std::vector<ArchiveEvent> lines;
  for (int i = 0; i < 4; ++i) {
    lines.push_back(
        {storage::EventToJson(MakeEvent("a", kD0 - 200 * kDay + i, i)), kD0 - 200 * kDay + i});
  }
  std::string digest;
  ASSERT_OK(
      WritePart(dir_.Sub("archive"), "prod", kD0 - 200 * kDay, "a", 1, lines, &digest).status());
  const double part_bytes = static_cast<double>(std::filesystem::file_size(
      PartitionDir(dir_.Sub("archive"), "prod", kD0 - 200 * kDay, "a") + "/part-1.jsonl.zst"));
  auto [hot_a, hot_a_events] = Disk("hot", "a");
  auto [hot_b, hot_b_events] = Disk("hot", "b");
  auto [warm_a, warm_a_events] = Disk("warm", "a");
  auto [warm_c, warm_c_events] = Disk("warm", "c");
  ASSERT_EQ(hot_a_events, 70u);
  ASSERT_EQ(hot_b_events, 3u);
  ASSERT_EQ(warm_a_events, 20u);
  ASSERT_EQ(warm_c_events, 2u);
  const double part_b = CliPartBytes("b", kD0 + 6 * kDay);

  ASSERT_OK_AND_ASSIGN(CostReport r,
                       BuildCostReport(*config_.Find("prod"), prod_, dir_.Sub("archive"), &clock_));
  ASSERT_EQ(r.namespaces.size(), 3u);
  const NamespaceCost& a = r.namespaces[0];
  const NamespaceCost& b = r.namespaces[1];
  const NamespaceCost& c = r.namespaces[2];
  EXPECT_EQ(a.ns, "a");
  EXPECT_DOUBLE_EQ(a.events_per_day_7d, 10);
  EXPECT_DOUBLE_EQ(a.events_per_day_1d, 10);
  EXPECT_DOUBLE_EQ(b.events_per_day_7d, 3.0 / 7);
  EXPECT_EQ(a.archive_events, 4u);
  EXPECT_EQ(a.archive_bytes, static_cast<uint64_t>(part_bytes));
  EXPECT_EQ(r.sample_events, 3u);  // "b"'s last full day; "a" has archived parts

  // prod: hot 7d, warm until 90d, archive until 400d. "a" at 10 events a day:
  //   hot     10 * 7 * (hot_a / 70)                     = hot_a
  //   warm    10 * 83 * (warm_a / 20)
  //   archive 10 * 310 * (part_bytes / 4)
  EXPECT_NEAR(a.steady_hot_bytes, static_cast<double>(hot_a), 1);
  EXPECT_NEAR(a.steady_warm_bytes, 10.0 * 83 * warm_a / 20, 1);
  EXPECT_NEAR(a.steady_archive_bytes, 10.0 * 310 * part_bytes / 4, 1);
  EXPECT_EQ(a.archive_basis, "estimated from 4 archived events");
  EXPECT_EQ(a.warm_basis, "measured over 20 warm events on disk");
  // "b" has only hot data: warm comes from the environment's ("a" and "c"), the archive from
  // its own last full day compressed as a part.
  EXPECT_NEAR(b.steady_hot_bytes, 3.0 / 7 * 7 * hot_b / 3, 1);
  EXPECT_NEAR(b.steady_warm_bytes, 3.0 / 7 * 83 * (warm_a + warm_c) / 22, 1);
  // Within the few bytes a streaming frame differs from the CLI's (3 B/event over 3 events).
  EXPECT_NEAR(b.steady_archive_bytes, 3.0 / 7 * 310 * part_b / 3, 3.0 / 7 * 310 * 3);
  EXPECT_EQ(b.warm_basis, "measured over the environment's 22 warm events on disk");
  EXPECT_THAT(b.archive_basis, HasSubstr("no archive yet: 3 events of 2024-01-07"));
  // "c": nothing recent to sample, nothing archived: the environment's archive.
  EXPECT_DOUBLE_EQ(c.archive_bytes_per_event, part_bytes / 4);
  EXPECT_EQ(c.archive_basis, "estimated from the environment's 4 archived events");
  EXPECT_EQ(c.steady_archive_bytes, 0u);  // no traffic in the last week

  std::string text = FormatCostReport(r);
  EXPECT_THAT(text, HasSubstr(absl::StrFormat("    archive  %.0f B/event, estimated from 4 "
                                              "archived events",
                                              part_bytes / 4)));
  EXPECT_THAT(text, HasSubstr("total"));

  // A changed policy (dev: hot 1d, warm 7d, deleted at 14d): 1/7 of the hot bytes, 13 days
  // warm (7d warm + the grace week until 14d, minus the hot day), no archive.
  ASSERT_OK_AND_ASSIGN(CostReport dev,
                       BuildCostReport(*config_.Find("dev"), prod_, dir_.Sub("archive"), &clock_));
  EXPECT_NEAR(dev.namespaces[0].steady_hot_bytes, static_cast<double>(hot_a) / 7, 1);
  EXPECT_NEAR(dev.namespaces[0].steady_warm_bytes, 10.0 * 13 * warm_a / 20, 1);
  EXPECT_EQ(dev.namespaces[0].steady_archive_bytes, 0u);
  EXPECT_EQ(dev.namespaces[0].archive_basis, "no archive");
}

TEST_F(CostReportTest, WithoutAnArchiveEachNamespaceCompressesItsLastFullDay) {
  // The part each namespace's latest complete day (D0+6; now is D0+7) would make.
  std::map<std::string, double> zstd_bytes;
  for (std::string ns : {"a", "b"}) {
    zstd_bytes[ns] = CliPartBytes(ns, kD0 + 6 * kDay);
    ASSERT_GT(zstd_bytes[ns], 0) << ns;
  }

  ASSERT_OK_AND_ASSIGN(CostReport r,
                       BuildCostReport(*config_.Find("prod"), prod_, dir_.Sub("archive"), &clock_));
  EXPECT_EQ(r.sample_events, 13u);  // 10 of "a", 3 of "b"
  EXPECT_EQ(r.sample_json_bytes, json_bytes_["a"] + json_bytes_["b"]);
  // The same frames but for the content-size field the CLI writes and a streaming writer not.
  EXPECT_NEAR(static_cast<double>(r.sample_zstd_bytes), zstd_bytes["a"] + zstd_bytes["b"], 16);
  const NamespaceCost& a = r.namespaces[0];
  const NamespaceCost& b = r.namespaces[1];
  EXPECT_NEAR(a.archive_bytes_per_event, zstd_bytes["a"] / 10, 1);
  EXPECT_NEAR(b.archive_bytes_per_event, zstd_bytes["b"] / 3, 3);
  EXPECT_NEAR(a.steady_archive_bytes, 10.0 * 310 * zstd_bytes["a"] / 10, 310 * 10.0);
  // Compressed, the archive is smaller than the events' JSON (what the old estimate counted).
  EXPECT_LT(a.archive_bytes_per_event, static_cast<double>(json_bytes_["a"]) / 10);
  EXPECT_THAT(a.archive_basis, HasSubstr("no archive yet: 10 events of 2024-01-07"));
  EXPECT_THAT(b.archive_basis, HasSubstr("no archive yet: 3 events of 2024-01-07"));
  // No warm data anywhere: warm is the hot size without the body share.
  auto [hot_a, hot_a_events] = Disk("hot", "a");
  EXPECT_NEAR(a.warm_bytes_per_event, hot_a / 70.0 * (1 - a.body_share), 1e-6);
  EXPECT_THAT(a.warm_basis, HasSubstr("no warm data"));
}

}  // namespace
}  // namespace kq::retention
