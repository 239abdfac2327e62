#include "retention/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/time.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::IsOk;
using ::kq::testing::StatusIs;
using ::kq::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;
constexpr TimeMicros kT0 = 19723 * kDay;  // 2024-01-01T00:00:00Z

LegalHold Hold(std::vector<std::string> ns, TimeMicros from, TimeMicros to) {
  LegalHold h;
  h.namespaces = std::move(ns);
  h.from = from;
  h.to = to;
  h.reason = "case 42 \"quoted\"";
  h.created_by = "legal@example.com";
  return h;
}

TEST(LedgerTest, HoldsPersistAndCover) {
  TempDir dir;
  FakeClock clock(kT0);
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(dir.Sub("prod"), "prod", &clock));
    ASSERT_OK_AND_ASSIGN(LegalHold a,
                         ledger->AddHold(Hold({"payments"}, kT0 - 30 * kDay, kT0 - 20 * kDay)));
    EXPECT_EQ(a.id, 1u);
    EXPECT_EQ(a.created, kT0);
    clock.Advance(kDay);
    ASSERT_OK_AND_ASSIGN(LegalHold b, ledger->AddHold(Hold({}, kT0 - 5 * kDay, kT0)));
    EXPECT_EQ(b.id, 2u);
    EXPECT_TRUE(ledger->IsHeld("payments", kT0 - 21 * kDay, kT0 - 20 * kDay));
    EXPECT_FALSE(ledger->IsHeld("payments", kT0 - 20 * kDay, kT0 - 19 * kDay));  // [from, to)
    EXPECT_FALSE(ledger->IsHeld("web", kT0 - 25 * kDay, kT0 - 24 * kDay));
    EXPECT_TRUE(ledger->IsHeld("web", kT0 - kDay, kT0));  // hold 2 covers every namespace
    ASSERT_THAT(ledger->ReleaseHold(2, "legal@example.com"), IsOk());
    EXPECT_FALSE(ledger->IsHeld("web", kT0 - kDay, kT0));
    EXPECT_THAT(ledger->ReleaseHold(2, "x"),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already released")));
    EXPECT_THAT(ledger->ReleaseHold(9, "x"),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("no hold with id 9")));
    EXPECT_THAT(ledger->AddHold(Hold({}, kT0, kT0)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--from before --to")));
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, Ledger::Open(dir.Sub("prod"), "prod", &clock));
  std::vector<LegalHold> all = reopened->Holds(/*include_released=*/true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].reason, "case 42 \"quoted\"");
  EXPECT_THAT(all[0].namespaces, ElementsAre("payments"));
  EXPECT_EQ(all[0].from, kT0 - 30 * kDay);
  EXPECT_EQ(all[1].released, kT0 + kDay);
  EXPECT_EQ(reopened->Holds(false).size(), 1u);
  EXPECT_TRUE(reopened->IsHeld("payments", kT0 - 25 * kDay, kT0 - 24 * kDay));
  // The next id continues after the last one.
  ASSERT_OK_AND_ASSIGN(LegalHold c, reopened->AddHold(Hold({}, kT0, kT0 + 1)));
  EXPECT_EQ(c.id, 3u);
}

TEST(LedgerTest, TrailRecordsHoldsAndActionsAndIgnoresATornLine) {
  TempDir dir;
  FakeClock clock(kT0);
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(dir.Sub("dev"), "dev", &clock));
  ASSERT_OK_AND_ASSIGN(LegalHold h, ledger->AddHold(Hold({"a"}, kT0 - kDay, kT0)));
  TrailRecord r;
  r.time = kT0 + 5;
  r.action = "delete";
  r.tier = "warm";
  r.from = kT0 - 20 * kDay;
  r.to = kT0 - 14 * kDay;
  r.namespaces = {"", "kube-system"};
  r.events = 1234;
  r.bytes = 987654;
  ASSERT_THAT(ledger->AppendTrail(r), IsOk());
  {
    std::ofstream torn(dir.Sub("dev") + "/trail.jsonl", std::ios::app);
    torn << R"({"time":"2024-01-01T00:00:00.000000Z","act)";
  }
  ASSERT_OK_AND_ASSIGN(std::vector<TrailRecord> trail, ledger->ReadTrail());
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].action, "hold-add");
  EXPECT_THAT(trail[0].detail, HasSubstr("hold 1 by legal@example.com"));
  EXPECT_EQ(trail[1].action, "delete");
  EXPECT_EQ(trail[1].tier, "warm");
  EXPECT_EQ(trail[1].time, kT0 + 5);
  EXPECT_EQ(trail[1].from, kT0 - 20 * kDay);
  EXPECT_EQ(trail[1].to, kT0 - 14 * kDay);
  EXPECT_THAT(trail[1].namespaces, ElementsAre("", "kube-system"));
  EXPECT_EQ(trail[1].events, 1234u);
  EXPECT_EQ(trail[1].bytes, 987654u);
  EXPECT_EQ(h.id, 1u);
}

TEST(LedgerTest, IntentIsWrittenAtomicallyAndCleared) {
  TempDir dir;
  FakeClock clock(kT0);
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(dir.Sub("prod"), "prod", &clock));
  ASSERT_OK_AND_ASSIGN(auto none, ledger->ReadIntent());
  EXPECT_FALSE(none.has_value());
  ASSERT_THAT(ledger->WriteIntent("{\"steps\":[1]}"), IsOk());
  ASSERT_THAT(ledger->WriteIntent("{\"steps\":[2]}"), IsOk());
  ASSERT_OK_AND_ASSIGN(auto intent, ledger->ReadIntent());
  EXPECT_EQ(intent, std::optional<std::string>("{\"steps\":[2]}"));
  ASSERT_THAT(ledger->ClearIntent(), IsOk());
  ASSERT_OK_AND_ASSIGN(auto cleared, ledger->ReadIntent());
  EXPECT_FALSE(cleared.has_value());
}

}  // namespace
}  // namespace kq::retention
