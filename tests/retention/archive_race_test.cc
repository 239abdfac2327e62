// The archive step against concurrent appends: an event that reaches a day while that day is
// being archived is never deleted unarchived, and no event is archived twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "retention/archive.h"
#include "retention/enforcer.h"
#include "storage/store.h"
#include "tests/retention/enforcer_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kq::retention {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

using ArchiveRaceTest = EnforcerTest;

std::multiset<std::string> JsonOf(const std::vector<ArchiveEvent>& events) {
  std::multiset<std::string> out;
  for (const ArchiveEvent& e : events) out.insert(e.json);
  return out;
}

TEST_F(ArchiveRaceTest, DeleteSeenKeepsWhatTheReaderDidNotSee) {
  Ingest(prod_, kD0, kD0, {"a", "b"}, 3);
  std::unique_ptr<storage::Reader> reader = prod_->NewReader();
  // After the snapshot: one event in a bucket the reader saw (01:00), one in a new bucket.
  storage::Event same_bucket = MakeEvent("a", kD0 + kMicrosPerHour + 5, 50);
  storage::Event new_bucket = MakeEvent("a", kD0 + 20 * kMicrosPerHour, 51);
  ASSERT_OK(prod_->Append(std::vector<storage::Event>{same_bucket, new_bucket}, nullptr));

  ASSERT_OK(prod_->DeleteSeen(*reader, kD0, kD0 + kDay, std::vector<std::string>{"a"}));
  Counts counts = CountStore(prod_);
  EXPECT_EQ((counts[{kD0, "a"}].events), 2u);  // only the two late ones
  EXPECT_EQ((counts[{kD0, "b"}].events), 3u);  // another namespace: untouched
  std::multiset<std::string> left;
  for (const ArchiveEvent& e : ReadStore(prod_, kD0, kD0 + kDay, "a")) left.insert(e.json);
  ASSERT_EQ(left.size(), 2u);
  for (const std::string& json : left) EXPECT_THAT(json, HasSubstr("-5"));  // ids -50, -51

  // A reader of another environment is refused, and deletes nothing.
  std::unique_ptr<storage::Reader> dev_reader = dev_->NewReader();
  EXPECT_THAT(prod_->DeleteSeen(*dev_reader, kD0, kD0 + kDay, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not made by")));
  EXPECT_EQ(CountStore(prod_)[(std::pair{kD0, std::string("b")})].events, 3u);
}

TEST_F(ArchiveRaceTest, EventAppendedDuringTheArchiveStepIsKeptThenArchived) {
  Ingest(prod_, kD0, kD0, {"a"}, 3);
  std::multiset<std::string> expected = JsonOf(ReadStore(prod_, INT64_MIN, INT64_MAX, ""));
  ASSERT_EQ(expected.size(), 3u);
  auto ledger = OpenLedger("prod");
  clock_.Set(kD0 + 120 * kDay);  // D0 is past warm (90d): archived

  // An import of old data appends to D0 between the part's commit and the store's deletion.
  EnforcerOptions options = Options();
  int hook_calls = 0;
  options.before_archive_delete = [&](const RetentionStep& step) {
    ++hook_calls;
    EXPECT_EQ(step.day, kD0);
    EXPECT_EQ(step.ns, "a");
    storage::Event late = MakeEvent("a", kD0 + 2 * kMicrosPerHour + 7, 99);
    EXPECT_THAT(prod_->Append(std::vector<storage::Event>{late}, nullptr), IsOk());
  };
  Enforcer racing(config_.Find("prod"), prod_, ledger.get(), options);
  ASSERT_OK_AND_ASSIGN(RunReport first, racing.Run());
  ASSERT_EQ(hook_calls, 1);
  ASSERT_EQ(first.plan.steps.size(), 1u);

  // The late event is not in the part the step wrote: it must still be in the store.
  std::vector<ArchiveEvent> left = ReadStore(prod_, INT64_MIN, INT64_MAX, "");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_THAT(left[0].json, HasSubstr("id-a-"));
  EXPECT_THAT(left[0].json, HasSubstr("-99\""));
  EXPECT_EQ(ReadArchived("prod"), expected);
  expected.insert(left[0].json);

  // The next run archives it, as part 2, and the day leaves the store.
  Enforcer next(config_.Find("prod"), prod_, ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport second, next.Run());
  ASSERT_EQ(second.plan.steps.size(), 1u);
  EXPECT_EQ(second.plan.steps[0].part, 2);
  EXPECT_TRUE(CountStore(prod_).empty());
  EXPECT_EQ(ReadArchived("prod"), expected);  // every event once
  ASSERT_OK_AND_ASSIGN(ArchivePartition p, ReadPartition(Options().archive_root, "prod", kD0, "a"));
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].events, 3u);
  EXPECT_EQ(p.parts[1].events, 1u);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, VerifyArchive(Options().archive_root, "prod"));
  EXPECT_TRUE(v.ok());
}

TEST_F(ArchiveRaceTest, ASegmentMergedDuringTheStepIsArchivedOnlyForItsNewEvents) {
  // Three small segments (hours 1, 2, 3 of D0), not merged yet.
  Ingest(prod_, kD0, kD0, {"a"}, 3, /*flush=*/false);
  std::multiset<std::string> expected = JsonOf(ReadStore(prod_, INT64_MIN, INT64_MAX, ""));
  auto ledger = OpenLedger("prod");
  clock_.Set(kD0 + 120 * kDay);
  // A late event lands in hour 2, and a merge rewrites hour 2's two segments as a new one
  // before the deletion: the step's snapshot never saw that segment, so it survives, holding
  // one archived event and the late one.
  EnforcerOptions options = Options();
  options.before_archive_delete = [&](const RetentionStep&) {
    storage::Event late = MakeEvent("a", kD0 + 2 * kMicrosPerHour + 7, 99);
    EXPECT_THAT(prod_->Append(std::vector<storage::Event>{late}, nullptr), IsOk());
    EXPECT_THAT(prod_->Flush(), IsOk());
  };
  Enforcer racing(config_.Find("prod"), prod_, ledger.get(), options);
  ASSERT_OK(racing.Run().status());
  std::vector<ArchiveEvent> left = ReadStore(prod_, INT64_MIN, INT64_MAX, "");
  ASSERT_EQ(left.size(), 2u);  // the merged segment: one archived event and the late one
  for (const ArchiveEvent& e : left) {
    if (e.json.find("-99\"") != std::string::npos) expected.insert(e.json);
  }
  ASSERT_EQ(expected.size(), 4u);

  Enforcer next(config_.Find("prod"), prod_, ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport r, next.Run());
  ASSERT_EQ(r.plan.steps.size(), 1u);
  EXPECT_TRUE(CountStore(prod_).empty());
  EXPECT_EQ(ReadArchived("prod"), expected);  // each event once
  ASSERT_OK_AND_ASSIGN(ArchivePartition p, ReadPartition(Options().archive_root, "prod", kD0, "a"));
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[1].events, 1u);
}

TEST_F(ArchiveRaceTest, EventsTheArchiveHoldsAreNotArchivedAgain) {
  // A day whose part 1 holds one of its three events while all three are still in the store
  // (as after a merge rewrote a segment between an archive step's read and its deletion).
  Ingest(prod_, kD0, kD0, {"a"}, 3);
  std::vector<ArchiveEvent> originals = ReadStore(prod_, INT64_MIN, INT64_MAX, "");
  ASSERT_EQ(originals.size(), 3u);
  std::string digest;
  ASSERT_OK(
      WritePart(Options().archive_root, "prod", kD0, "a", 1, {originals[1]}, &digest).status());

  auto ledger = OpenLedger("prod");
  clock_.Set(kD0 + 120 * kDay);
  Enforcer enforcer(config_.Find("prod"), prod_, ledger.get(), Options());
  ASSERT_OK_AND_ASSIGN(RunReport r, enforcer.Run());
  ASSERT_EQ(r.plan.steps.size(), 1u);
  EXPECT_EQ(r.plan.steps[0].part, 2);
  EXPECT_TRUE(CountStore(prod_).empty());
  EXPECT_EQ(ReadArchived("prod"), JsonOf(originals));  // each once
  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].events, 2u);  // what this step archived
}

}  // namespace
}  // namespace kq::retention
