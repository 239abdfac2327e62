// Time-travel tests of retention enforcement on a real store (RocksDB in a temporary
// directory) with a fake clock: tier boundaries, namespace overrides, legal holds, environment
// separation, a killed run resumed, and the archive round trip.
#include "retention/enforcer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/archive.h"
#include "storage/store.h"
#include "tests/retention/enforcer_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::IsOk;
using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

TEST_F(EnforcerTest, ProdTierBoundariesDayByDay) {
  Ingest(prod_, kD0, kD0, {"default"}, 4);
  auto ledger = OpenLedger("prod");
  Enforcer enforcer(config_.Find("prod"), prod_, ledger.get(), Options());
  const auto key = std::make_pair(kD0, std::string("default"));

  // Day D0 ends at D0+1d; hot is 7d, so bodies go at D0+8d, not a microsecond earlier.
  clock_.Set(kD0 + 8 * kDay - 1);
  ASSERT_OK_AND_ASSIGN(RunReport r, enforcer.Run());
  EXPECT_TRUE(r.plan.steps.empty());
  EXPECT_EQ(CountStore(prod_)[key], (DayCount{4, 4}));
  clock_.Set(kD0 + 8 * kDay);
  ASSERT_OK_AND_ASSIGN(RetentionPlan plan, enforcer.Plan());
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].action, RetentionStep::Action::kDropBodies);
  EXPECT_EQ(plan.steps[0].events, 4u);
  EXPECT_THAT(FormatPlan(plan), HasSubstr("drop-bodies"));
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  EXPECT_EQ(CountStore(prod_)[key], (DayCount{4, 0}));

  // Warm until 90d, then archived (prod archives).
  clock_.Set(kD0 + 91 * kDay - 1);
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  EXPECT_TRUE(r.plan.steps.empty());
  EXPECT_EQ(CountStore(prod_)[key].events, 4u);
  clock_.Set(kD0 + 91 * kDay);
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  ASSERT_EQ(r.plan.steps.size(), 1u);
  EXPECT_EQ(r.plan.steps[0].action, RetentionStep::Action::kArchive);
  EXPECT_TRUE(CountStore(prod_).empty());
  ASSERT_OK_AND_ASSIGN(ArchivePartition p,
                       ReadPartition(Options().archive_root, "prod", kD0, "default"));
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].events, 4u);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, VerifyArchive(Options().archive_root, "prod"));
  EXPECT_TRUE(v.ok());

  // The archive is kept until 400d.
  clock_.Set(kD0 + 401 * kDay - 1);
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  EXPECT_TRUE(r.plan.steps.empty());
  clock_.Set(kD0 + 401 * kDay);
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  ASSERT_EQ(r.plan.steps.size(), 1u);
  EXPECT_EQ(r.plan.steps[0].action, RetentionStep::Action::kDeleteArchive);
  ASSERT_OK_AND_ASSIGN(auto left, ListPartitions(Options().archive_root, "prod"));
  EXPECT_TRUE(left.empty());

  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  ASSERT_EQ(trail.size(), 3u);
  EXPECT_EQ(trail[0].action, "drop-bodies");
  EXPECT_EQ(trail[0].tier, "hot");
  EXPECT_EQ(trail[1].action, "archive");
  EXPECT_EQ(trail[1].events, 4u);
  EXPECT_EQ(trail[1].digest.size(), 64u);
  EXPECT_EQ(trail[2].action, "delete-archive");
  EXPECT_EQ(trail[2].from, kD0);
  EXPECT_EQ(trail[2].to, kD0 + kDay);
}

TEST_F(EnforcerTest, PlansDoNotRescanDaysWhoseBodiesAreGone) {
  Ingest(prod_, kD0, kD0 + 29 * kDay, {"default"}, 2);
  auto ledger = OpenLedger("prod");
  Enforcer enforcer(config_.Find("prod"), prod_, ledger.get(), Options());
  // At D0+30d the hot cutoff is D0+23d: days 0..22 lose their bodies (23 steps, 46 rows read).
  clock_.Set(kD0 + 30 * kDay);
  ASSERT_OK_AND_ASSIGN(RunReport r, enforcer.Run());
  EXPECT_EQ(r.plan.steps.size(), 23u);
  EXPECT_EQ(r.plan.rows_scanned, 46u);
  ASSERT_OK_AND_ASSIGN(TimeMicros watermark, ledger->BodiesDroppedBefore());
  EXPECT_EQ(watermark, kD0 + 23 * kDay);
  // A day later only the day of slack (22) and the newly due day (23) are read: 4 rows.
  clock_.Set(kD0 + 31 * kDay);
  ASSERT_OK_AND_ASSIGN(RetentionPlan plan, enforcer.Plan());
  EXPECT_EQ(plan.rows_scanned, 4u);
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].day, kD0 + 23 * kDay);
}

TEST_F(EnforcerTest, KilledBetweenTrailAndMarkRecordsOnce) {
  Ingest(prod_, kD0, kD0, {"default"}, 2);
  auto ledger = OpenLedger("prod");
  clock_.Set(kD0 + 10 * kDay);
  // The state a kill leaves after step 1 acted and wrote its trail record, before the intent's
  // mark moved: the intent still says next = 0.
  const std::string now = FormatTimestamp(kD0 + 10 * kDay);
  ASSERT_OK(ledger->WriteIntent(
      absl::StrCat(R"({"env":"prod","run":"0123456789abcdef","now":")", now,
                   R"(","next":0,"steps":[)", R"({"action":"drop-bodies","day":")",
                   FormatTimestamp(kD0), R"(","ns":"default","part":0,"events":2,"bytes":10}]})")));
  ASSERT_OK(prod_->DropBodies(kD0, kD0 + kDay, std::vector<std::string>{"default"}));
  TrailRecord done;
  done.time = kD0 + 10 * kDay;
  done.action = "drop-bodies";
  done.tier = "hot";
  done.from = kD0;
  done.to = kD0 + kDay;
  done.namespaces = {"default"};
  done.events = 2;
  done.detail = absl::StrCat("run 0123456789abcdef at ", now, " step 1");
  ASSERT_OK(ledger->AppendTrail(done));

  Enforcer enforcer(config_.Find("prod"), prod_, ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport r, enforcer.Run());
  EXPECT_EQ(r.resumed_steps, 1u);
  EXPECT_TRUE(r.plan.steps.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].detail, done.detail);
  EXPECT_EQ(CountStore(prod_)[std::make_pair(kD0, std::string("default"))], (DayCount{2, 0}));
}

TEST_F(EnforcerTest, AYearOfDailyIngestAndRetention) {
  ASSERT_OK_AND_ASSIGN(config_, [] {
    absl::StatusOr<yaml::Node> n =
        yaml::Parse("prod: {namespaces: {kube-system: {warm: 180d}}}\ndev: {}\n", "kqd.yaml");
    return n.ok() ? RetentionConfig::FromYaml(*n) : absl::StatusOr<RetentionConfig>(n.status());
  }());
  // Unsynced ledgers and archives and unflushed stores keep a year of daily runs within seconds.
  auto prod_ledger = OpenLedger("prod", /*sync=*/false);
  auto dev_ledger = OpenLedger("dev", /*sync=*/false);
  EnforcerOptions fast = Options();
  fast.sync_archives = false;
  Enforcer prod(config_.Find("prod"), prod_, prod_ledger.get(), fast);
  Enforcer dev(config_.Find("dev"), dev_, dev_ledger.get(), fast);
  const int kDays = 420;
  for (int d = 0; d < kDays; ++d) {
    clock_.Set(kD0 + d * kDay + 23 * kMicrosPerHour);
    Ingest(prod_, kD0 + d * kDay, kD0 + d * kDay, {"default", "kube-system"}, 2, false);
    Ingest(dev_, kD0 + d * kDay, kD0 + d * kDay, {"default"}, 1, false);
    ASSERT_OK(prod.Run().status());
    ASSERT_OK(dev.Run().status());
  }
  // Last run at now = D(kDays-1) + 23h. A day is due for an age once now >= day + 1d + age.
  TimeMicros now = clock_.Now();
  auto due = [&](TimeMicros day, TimeMicros age) { return now >= day + kDay + age; };
  Counts prod_counts = CountStore(prod_);
  Counts dev_counts = CountStore(dev_);
  ASSERT_OK_AND_ASSIGN(auto partitions, ListPartitions(Options().archive_root, "prod"));
  std::set<std::pair<TimeMicros, std::string>> archived;
  for (const ArchivePartition& p : partitions) archived.insert({p.day, p.ns});
  ASSERT_OK_AND_ASSIGN(auto dev_partitions, ListPartitions(Options().archive_root, "dev"));
  EXPECT_TRUE(dev_partitions.empty());  // dev never archives
  for (int d = 0; d < kDays; ++d) {
    TimeMicros day = kD0 + d * kDay;
    SCOPED_TRACE(FormatTimestamp(day));
    for (std::string ns : {"default", "kube-system"}) {
      TimeMicros warm = ns == "kube-system" ? 180 * kDay : 90 * kDay;
      DayCount want;
      if (!due(day, warm)) want = {2, due(day, 7 * kDay) ? 0u : 2u};
      DayCount got = prod_counts[{day, ns}];
      EXPECT_EQ(got, want) << ns;
      bool in_archive = due(day, warm) && !due(day, 400 * kDay);
      EXPECT_EQ(archived.contains({day, ns}), in_archive) << ns;
    }
    DayCount want_dev;
    if (!due(day, 14 * kDay)) want_dev = {1, due(day, 1 * kDay) ? 0u : 1u};
    DayCount got_dev = dev_counts[{day, "default"}];
    EXPECT_EQ(got_dev, want_dev);
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport v, VerifyArchive(Options().archive_root, "prod"));
  EXPECT_TRUE(v.ok());
}

TEST_F(EnforcerTest, DevRetentionNeverTouchesProd) {
  Ingest(prod_, kD0, kD0 + 2 * kDay, {"default"}, 3);
  Ingest(dev_, kD0, kD0 + 2 * kDay, {"default"}, 3);
  Counts prod_before = CountStore(prod_);
  auto dev_ledger = OpenLedger("dev");
  auto prod_ledger = OpenLedger("prod");
  // A dev policy handed the prod store is refused outright.
  Enforcer wrong(config_.Find("dev"), prod_, dev_ledger.get(), Options());
  EXPECT_THAT(wrong.Run(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"dev\"")));
  Enforcer mixed(config_.Find("prod"), prod_, dev_ledger.get(), Options());
  EXPECT_THAT(mixed.Plan(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ledger")));
  // Dev deletes everything after 14d; prod is untouched by it.
  clock_.Set(kD0 + 30 * kDay);
  Enforcer dev(config_.Find("dev"), dev_, dev_ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport r, dev.Run());
  EXPECT_EQ(r.plan.steps.size(), 3u);
  EXPECT_TRUE(CountStore(dev_).empty());
  EXPECT_EQ(CountStore(prod_), prod_before);
  // And the reverse: prod's run only drops prod bodies.
  Ingest(dev_, kD0 + 20 * kDay, kD0 + 20 * kDay, {"default"}, 2);
  Counts dev_before = CountStore(dev_);
  Enforcer prod(config_.Find("prod"), prod_, prod_ledger.get(), Options());
  ASSERT_OK(prod.Run().status());
  EXPECT_EQ(CountStore(dev_), dev_before);
  EXPECT_EQ(CountStore(prod_)[std::make_pair(kD0, std::string("default"))], (DayCount{3, 0}));
}

TEST_F(EnforcerTest, LegalHoldKeepsDataUntilReleased) {
  Ingest(prod_, kD0, kD0 + kDay, {"payments", "web"}, 2);
  auto ledger = OpenLedger("prod");
  LegalHold hold;
  hold.namespaces = {"payments"};
  hold.from = kD0 + 12 * kMicrosPerHour;
  hold.to = kD0 + 13 * kMicrosPerHour;
  hold.reason = "litigation 7";
  hold.created_by = "counsel";
  ASSERT_OK_AND_ASSIGN(LegalHold h, ledger->AddHold(hold));
  Enforcer enforcer(config_.Find("prod"), prod_, ledger.get(), Options());
  clock_.Set(kD0 + 100 * kDay);
  ASSERT_OK_AND_ASSIGN(RunReport r, enforcer.Run());
  // payments of D0 is held (not even its bodies are dropped); payments D0+1 and web go.
  EXPECT_EQ(r.plan.steps.size(), 3u);
  ASSERT_EQ(r.plan.held.size(), 1u);
  EXPECT_EQ(r.plan.held[0].ns, "payments");
  EXPECT_EQ(r.plan.held[0].day, kD0);
  Counts counts = CountStore(prod_);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.begin()->second, (DayCount{2, 2}));
  ASSERT_THAT(ledger->ReleaseHold(h.id, "counsel"), IsOk());
  ASSERT_OK_AND_ASSIGN(r, enforcer.Run());
  EXPECT_EQ(r.plan.steps.size(), 1u);
  EXPECT_TRUE(CountStore(prod_).empty());
  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  EXPECT_EQ(trail.front().action, "hold-add");
  EXPECT_EQ(trail.back().action, "archive");
}

TEST_F(EnforcerTest, KilledRunIsFinishedWithoutLossOrDuplicates) {
  Ingest(prod_, kD0, kD0 + 4 * kDay, {"a", "b"}, 3);
  std::multiset<std::string> expected;
  for (const ArchiveEvent& e : ReadStore(prod_, INT64_MIN, INT64_MAX, "")) expected.insert(e.json);
  ASSERT_EQ(expected.size(), 30u);

  auto ledger = OpenLedger("prod");
  clock_.Set(kD0 + 120 * kDay);
  EnforcerOptions crash = Options();
  crash.stop_after_steps = 3;
  {
    Enforcer killed(config_.Find("prod"), prod_, ledger.get(), crash);
    EXPECT_THAT(killed.Run(), StatusIs(absl::StatusCode::kAborted, HasSubstr("stopped")));
  }
  ASSERT_OK_AND_ASSIGN(auto intent, ledger->ReadIntent());
  ASSERT_TRUE(intent.has_value());
  // Steps go by (day, ns): (D0,a), (D0,b), (D0+1,a) are done; 7 of 10 remain in the store.
  EXPECT_EQ(CountStore(prod_).size(), 7u);
  // The process died inside step 4, (D0+1, b): its part was committed, the range not deleted.
  std::string digest;
  ASSERT_OK(WritePart(Options().archive_root, "prod", kD0 + kDay, "b", 1,
                      ReadStore(prod_, kD0 + kDay, kD0 + 2 * kDay, "b"), &digest)
                .status());
  // An event reaches an already archived day before the restart: it must be archived too.
  storage::Event late = MakeEvent("a", kD0 + 15 * kMicrosPerHour, 77);
  ASSERT_OK(prod_->Append(std::vector<storage::Event>{late}, nullptr));
  ASSERT_OK(prod_->Flush());
  std::vector<ArchiveEvent> late_json = ReadStore(prod_, kD0, kD0 + kDay, "a");
  ASSERT_EQ(late_json.size(), 1u);
  expected.insert(late_json[0].json);

  Enforcer resumed(config_.Find("prod"), prod_, ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport r, resumed.Run());
  EXPECT_EQ(r.resumed_steps, 7u);
  ASSERT_EQ(r.plan.steps.size(), 1u);  // the late event's day, as part 2
  EXPECT_EQ(r.plan.steps[0].part, 2);
  EXPECT_TRUE(CountStore(prod_).empty());
  ASSERT_OK_AND_ASSIGN(auto after, ledger->ReadIntent());
  EXPECT_FALSE(after.has_value());

  EXPECT_EQ(ReadArchived("prod"), expected);  // each event exactly once: none lost, none twice
  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  EXPECT_EQ(trail.size(), 11u);  // 10 steps of the killed run, 1 of the next
  std::set<std::string> tags;
  for (const TrailRecord& t : trail) EXPECT_TRUE(tags.insert(t.detail).second) << t.detail;
  ASSERT_OK_AND_ASSIGN(VerifyReport v, VerifyArchive(Options().archive_root, "prod"));
  EXPECT_TRUE(v.ok());
}

TEST(RestoreTest, ArchivedEventsRestoredEqualTheOriginals) {
  kq::testing::TempDir dir;
  FakeClock clock(kD0);
  ASSERT_OK_AND_ASSIGN(auto store, OpenTestStore(dir.Sub("data"), &clock,
                                                 {{"prod", ""}, {"dev", ""}, {"restored", ""}}));
  storage::Environment* prod = store->Find("prod");
  storage::Environment* restored = store->Find("restored");
  std::vector<storage::Event> events;
  for (int d = 0; d < 3; ++d) {
    for (std::string ns : {"a", "b", ""}) {
      for (int i = 0; i < 4; ++i) events.push_back(MakeEvent(ns, kD0 + d * kDay + i * 1000, i));
    }
  }
  ASSERT_OK(prod->Append(events, nullptr));
  ASSERT_OK(prod->Flush());
  auto all_json = [](storage::Environment* env, std::vector<std::string> namespaces,
                     TimeMicros from, TimeMicros to) {
    std::multiset<std::string> out;
    std::unique_ptr<storage::Reader> reader = env->NewReader();
    storage::ScanRange range;
    range.namespaces = std::move(namespaces);
    range.from = from;
    range.to = to;
    storage::ScanStats stats;
    EXPECT_THAT(reader->Scan(
                    range,
                    [&](const storage::EventBatch& b) -> absl::StatusOr<bool> {
                      for (size_t row = 0; row < b.num_rows(); ++row) {
                        absl::StatusOr<std::string> json = b.EventJson(row);
                        if (!json.ok()) return json.status();
                        out.insert(*json);
                      }
                      return true;
                    },
                    &stats),
                IsOk());
    return out;
  };
  std::multiset<std::string> originals = all_json(prod, {"a", ""}, kD0 + kDay, kD0 + 3 * kDay);
  ASSERT_EQ(originals.size(), 16u);

  RetentionConfig config = RetentionConfig::Defaults();
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(dir.Sub("ledger"), "prod", &clock));
  EnforcerOptions eo;
  eo.archive_root = dir.Sub("archive");
  eo.clock = &clock;
  Enforcer enforcer(config.Find("prod"), prod, ledger.get(), eo);
  clock.Set(kD0 + 100 * kDay);
  ASSERT_OK(enforcer.Run().status());
  EXPECT_TRUE(all_json(prod, {}, INT64_MIN, INT64_MAX).empty());

  EXPECT_THAT(RestoreArchive(eo.archive_root, "prod", kD0, kD0 + kDay, {}, prod),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("separate environment")));
  ASSERT_OK_AND_ASSIGN(uint64_t n, RestoreArchive(eo.archive_root, "prod", kD0 + kDay,
                                                  kD0 + 3 * kDay, {"a", ""}, restored));
  EXPECT_EQ(n, 16u);
  ASSERT_OK(restored->Flush());
  EXPECT_EQ(all_json(restored, {}, INT64_MIN, INT64_MAX), originals);
}

}  // namespace
}  // namespace kq::retention
