#include "retention/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "retention/archive.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;
constexpr TimeMicros kD0 = 19723 * kDay;

storage::Event MakeEvent(std::string ns, TimeMicros t, int n) {
  storage::Event e;
  e.level = "RequestResponse";
  e.audit_id = absl::StrCat("id-", ns, "-", t, "-", n);
  e.stage = "ResponseComplete";
  e.verb = "get";
  e.request_uri = "/api/v1/namespaces/" + ns + "/pods";
  e.user.username = "bob";
  e.object_ref.emplace();
  e.object_ref->resource = "pods";
  e.object_ref->ns = ns;
  e.response_object = R"({"kind":"PodList","items":[{"metadata":{"name":"p"}}]})";
  e.request_received_timestamp = FormatTimestamp(t);
  e.request_received_time = t;
  e.stage_timestamp = FormatTimestamp(t);
  e.stage_time = t;
  return e;
}

TEST(CostReportTest, RatesTiersAndSteadyState) {
  kq::testing::TempDir dir;
  FakeClock clock(kD0 + 7 * kDay);
  storage::StoreOptions options;
  options.data_dir = dir.Sub("data");
  options.durability = storage::Durability::kBuffered;
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(auto store, storage::Store::Open(options));
  storage::Environment* prod = store->Find("prod");
  // Days D0..D0+6: 10 events a day in "a"; the last day also 3 in "b".
  std::vector<storage::Event> events;
  for (int d = 0; d < 7; ++d) {
    for (int i = 0; i < 10; ++i) events.push_back(MakeEvent("a", kD0 + d * kDay + i, i));
  }
  for (int i = 0; i < 3; ++i) events.push_back(MakeEvent("b", kD0 + 6 * kDay + 100 + i, i));
  ASSERT_OK(prod->Append(events, nullptr));
  ASSERT_OK(prod->Flush());
  std::string digest;
  ASSERT_OK(WritePart(dir.Sub("archive"), "prod", kD0 - 200 * kDay, "a", 1,
                      {{"{\"x\":1}", kD0 - 200 * kDay}}, &digest)
                .status());

  RetentionConfig config = RetentionConfig::Defaults();
  ASSERT_OK_AND_ASSIGN(CostReport r,
                       BuildCostReport(*config.Find("prod"), prod, dir.Sub("archive"), &clock));
  ASSERT_EQ(r.namespaces.size(), 2u);
  const NamespaceCost& a = r.namespaces[0];
  const NamespaceCost& b = r.namespaces[1];
  EXPECT_EQ(a.ns, "a");
  EXPECT_DOUBLE_EQ(a.events_per_day_7d, 10);
  EXPECT_DOUBLE_EQ(a.events_per_day_1d, 10);
  EXPECT_DOUBLE_EQ(b.events_per_day_7d, 3.0 / 7);
  EXPECT_EQ(a.hot_events, 70u);
  EXPECT_EQ(a.archive_events, 1u);
  // The archive's bytes are those of the stored (zstd) part file.
  EXPECT_EQ(a.archive_bytes, std::filesystem::file_size(
                                 PartitionDir(dir.Sub("archive"), "prod", kD0 - 200 * kDay, "a") +
                                 "/part-1.jsonl.zst"));
  ASSERT_OK_AND_ASSIGN(storage::EnvironmentStats stats, prod->Stats());
  uint64_t hot_disk_a = 0;
  for (const auto& n : stats.namespaces) {
    if (n.ns == "a") hot_disk_a += n.disk_bytes;
  }
  EXPECT_EQ(a.hot_bytes, hot_disk_a);
  // 7 days hot at 10 events a day: exactly the hot tier's size now.
  EXPECT_NEAR(static_cast<double>(a.steady_hot_bytes), static_cast<double>(hot_disk_a), 1);
  EXPECT_GT(a.body_share, 0);
  EXPECT_LT(a.body_share, 1);
  EXPECT_GT(a.steady_archive_bytes, 0u);
  EXPECT_EQ(r.total.hot_events, 73u);

  // A changed policy: dev keeps 1 day hot, so 1/7 of prod's steady hot bytes, and no archive.
  ASSERT_OK_AND_ASSIGN(CostReport dev,
                       BuildCostReport(*config.Find("dev"), prod, dir.Sub("archive"), &clock));
  EXPECT_NEAR(static_cast<double>(dev.namespaces[0].steady_hot_bytes),
              static_cast<double>(a.steady_hot_bytes) / 7, 1);
  EXPECT_EQ(dev.namespaces[0].steady_archive_bytes, 0u);
  EXPECT_THAT(FormatCostReport(r), HasSubstr("total"));
}

}  // namespace
}  // namespace kq::retention
