// The auditID index: LookupAuditId must return exactly what a brute-force scan finds, through
// merges, DropBodies, DeleteRange, dedupe and reopening, while reading only the segments of the
// (bucket, namespace) groups that hold the auditID; every appended key reaches the index.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/audit_runs.h"
#include "storage/environment_impl.h"
#include "storage/hash.h"
#include "storage/store.h"
#include "storage/store_keys.h"
#include "tests/storage/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::Row;
using ::kq::testing::ScanAll;
using ::kq::testing::SimpleEvent;
using ::kq::testing::TempDir;

constexpr TimeMicros kDay0 = 1714521600LL * kMicrosPerSecond;  // 2024-05-01T00:00:00Z
constexpr int kHours = 30;
const char* const kNamespaces[] = {"a", "b", "", "kube-system"};

std::unique_ptr<Store> OpenStore(const TempDir& dir) {
  StoreOptions options;
  options.data_dir = dir.path().string();
  options.durability = Durability::kBuffered;
  options.memory_budget_bytes = 64ull << 20;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Rows of one LookupAuditId, as event JSON, plus its stats.
std::multiset<std::string> Lookup(Reader* reader, const std::string& audit_id,
                                  ScanStats* stats = nullptr) {
  std::multiset<std::string> out;
  absl::Status st = reader->LookupAuditId(
      audit_id,
      [&](const EventBatch& batch) -> absl::StatusOr<bool> {
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          KQ_ASSIGN_OR_RETURN(std::string json, batch.EventJson(r));
          out.insert(std::move(json));
        }
        return true;
      },
      stats);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

// Every auditID of the store mapped to its rows, from a full scan.
std::map<std::string, std::multiset<std::string>> BruteForce(Reader* reader) {
  std::map<std::string, std::multiset<std::string>> out;
  for (Row& r : ScanAll(reader, ScanRange())) out[r.audit_id].insert(std::move(r.json));
  return out;
}

// The auditIDs worth checking: every one stored, one never stored, the empty one.
void ExpectLookupsEqualBruteForce(Environment* env, const std::set<std::string>& ids) {
  auto reader = env->NewReader();
  std::map<std::string, std::multiset<std::string>> want = BruteForce(reader.get());
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    auto it = want.find(id);
    EXPECT_EQ(Lookup(reader.get(), id),
              it == want.end() ? std::multiset<std::string>() : it->second);
  }
}

// Appends, one call per (hour, namespace) of 12 requests, each with a RequestReceived and a
// ResponseComplete stage. Request n (counting from 0 over all calls) has auditID "r<n>", except
// that every 7th uses "s<n/70>", shared by 10 requests across namespaces and hours (auditIDs are
// client-controllable, not unique). Every call is sent twice (at-least-once delivery: dedupe
// drops the copies).
std::set<std::string> Fill(Environment* env) {
  std::set<std::string> ids;
  int n = 0;
  for (int h = 0; h < kHours; ++h) {
    for (const char* ns : kNamespaces) {
      std::vector<Event> events;
      for (int i = 0; i < 12; ++i, ++n) {
        std::string id = n % 7 == 0 ? absl::StrCat("s", n / 70) : absl::StrCat("r", n);
        TimeMicros t = kDay0 + h * kMicrosPerHour + i * kMicrosPerSecond;
        Event received = SimpleEvent(id, t, ns, absl::StrCat("u", i % 3));
        received.stage = "RequestReceived";
        events.push_back(received);
        Event complete = SimpleEvent(id, t, ns, absl::StrCat("u", i % 3));
        if (i % 4 == 0) {
          complete.request_object = R"({"kind":"Pod"})";
          complete.level = "Request";
        }
        events.push_back(complete);
        ids.insert(id);
      }
      AppendResult result;
      EXPECT_OK(env->Append(events, &result));
      EXPECT_EQ(result.stored, events.size());
      EXPECT_OK(env->Append(events, &result));
      EXPECT_EQ(result.duplicates, events.size());
    }
  }
  ids.insert("never-stored");
  ids.insert("");
  return ids;
}

TEST(AuditIndexTest, LookupsEqualBruteForceThroughMergesRetentionAndReopen) {
  TempDir dir;
  std::set<std::string> ids;
  {
    auto store = OpenStore(dir);
    Environment* prod = store->Find("prod");
    ids = Fill(prod);
    ExpectLookupsEqualBruteForce(prod, ids);
    ASSERT_OK(prod->Flush());  // merges the small segments of each (bucket, namespace)
    ExpectLookupsEqualBruteForce(prod, ids);
    std::vector<std::string> ns_a = {"a"};
    ASSERT_OK(prod->DropBodies(kDay0, kDay0 + 10 * kMicrosPerHour, ns_a));
    ExpectLookupsEqualBruteForce(prod, ids);
    ASSERT_OK(prod->DeleteRange(kDay0 + 3 * kMicrosPerHour, kDay0 + 6 * kMicrosPerHour, {}));
    std::vector<std::string> ns_b = {"b", "kube-system"};
    ASSERT_OK(prod->DeleteRange(kDay0, kDay0 + 20 * kMicrosPerHour, ns_b));
    ExpectLookupsEqualBruteForce(prod, ids);
    // An auditID whose every event was deleted is found nowhere.
    EXPECT_TRUE(Lookup(prod->NewReader().get(), "r157").empty());  // hour 3, namespace "b"
  }
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  ExpectLookupsEqualBruteForce(prod, ids);
  // "s0" is requests 0 and 7 (hour 0, "a"), 14 (hour 0, "b"), 28 and 35 (hour 0, ""),
  // 42 (hour 0, "kube-system"), 49 and 56 (hour 1, "a"), 63 (hour 1, "b"); those in "b" and
  // "kube-system" were deleted: 6 requests of 2 stages are left.
  EXPECT_EQ(Lookup(prod->NewReader().get(), "s0").size(), 12u);
  // After reopening, an event of an old auditID in a new hour is found with the old ones.
  Event later = SimpleEvent("s0", kDay0 + 40 * kMicrosPerHour, "late");
  ASSERT_OK(prod->Append(std::vector<Event>{later}, nullptr));
  EXPECT_EQ(Lookup(prod->NewReader().get(), "s0").size(), 13u);
  ExpectLookupsEqualBruteForce(prod, ids);
}

// The distinct (auditID, bucket, namespace) of the stored rows: one index key each.
uint64_t DistinctGroups(Environment* env) {
  std::set<std::tuple<std::string, TimeMicros, std::string>> groups;
  for (const Row& r : ScanAll(env->NewReader().get(), ScanRange())) {
    groups.emplace(r.audit_id, r.bucket, r.ns);
  }
  return groups.size();
}

TEST(AuditIndexTest, SweepRemovesTheKeysOfDeletedGroupsOnly) {
  TempDir dir;
  auto store = OpenStore(dir);
  auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
  ASSERT_NE(prod, nullptr);
  std::set<std::string> ids = Fill(prod);
  ASSERT_OK(prod->Flush());
  uint64_t all = DistinctGroups(prod);
  // 30 hours x 4 namespaces x 12 requests; "s<k>" requests share keys within a group.
  EXPECT_GT(all, 1000u);
  EXPECT_LT(all, 1440u);
  ASSERT_OK_AND_ASSIGN(uint64_t keys, prod->CountAuditIndexKeys());
  EXPECT_EQ(keys, all);
  ASSERT_OK_AND_ASSIGN(uint64_t swept, prod->SweepAuditIndex());
  EXPECT_EQ(swept, 0u);  // nothing deleted yet
  ASSERT_OK(prod->DeleteRange(kDay0 + 3 * kMicrosPerHour, kDay0 + 6 * kMicrosPerHour, {}));
  std::vector<std::string> ns_b = {"b"};
  ASSERT_OK(prod->DeleteRange(kDay0, kDay0 + 20 * kMicrosPerHour, ns_b));
  // The background sweep may have run already; this one finishes the job either way.
  ASSERT_OK(prod->SweepAuditIndex().status());
  uint64_t left = DistinctGroups(prod);
  EXPECT_LT(left, all - 200);  // 3 hours of 4 namespaces and 17 more hours of "b" went
  ASSERT_OK_AND_ASSIGN(keys, prod->CountAuditIndexKeys());
  EXPECT_EQ(keys, left);
  ExpectLookupsEqualBruteForce(prod, ids);
}

TEST(AuditIndexTest, DeletionsAreSweptAtCloseWhenTheSweepStillWaited) {
  TempDir dir;
  std::set<std::string> ids;
  uint64_t left = 0;
  {
    auto store = OpenStore(dir);
    auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
    ASSERT_NE(prod, nullptr);
    ids = Fill(prod);
    ASSERT_OK(prod->Flush());
    // The background sweep waits for 10 s without deletions: the store closes before that.
    ASSERT_OK(prod->DeleteRange(kDay0, kDay0 + 10 * kMicrosPerHour, {}));
    left = DistinctGroups(prod);
    ASSERT_OK_AND_ASSIGN(uint64_t keys, prod->CountAuditIndexKeys());
    EXPECT_GT(keys, left);  // not swept yet
  }
  auto store = OpenStore(dir);
  auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
  ASSERT_NE(prod, nullptr);
  ASSERT_OK_AND_ASSIGN(uint64_t keys, prod->CountAuditIndexKeys());
  EXPECT_EQ(keys, left);
  EXPECT_EQ(DistinctGroups(prod), left);
  ExpectLookupsEqualBruteForce(prod, ids);
}

TEST(AuditIndexTest, LookupReadsOnlyTheGroupsHoldingTheAuditId) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  // 200 hours x 4 namespaces, one segment each after the appends.
  for (int h = 0; h < 200; ++h) {
    std::vector<Event> events;
    for (const char* ns : kNamespaces) {
      for (int i = 0; i < 5; ++i) {
        events.push_back(SimpleEvent(absl::StrCat("id-", h, "-", ns, "-", i),
                                     kDay0 + h * kMicrosPerHour + i, ns));
      }
    }
    ASSERT_OK(prod->Append(events, nullptr));
  }
  auto reader = prod->NewReader();
  ScanStats scan;
  ScanAll(reader.get(), ScanRange(), &scan);
  EXPECT_EQ(scan.segments_total, 800u);
  ScanStats stats;
  EXPECT_EQ(Lookup(reader.get(), "id-123-b-4", &stats).size(), 1u);
  // Only the segments of (hour 123, "b") are looked at (plus, rarely, a 4-byte hash twin).
  EXPECT_LE(stats.segments_total, 2u);
  EXPECT_EQ(stats.segments_read, 1u);
  EXPECT_EQ(stats.rows_read, 5u);
  ScanStats none;
  EXPECT_TRUE(Lookup(reader.get(), "id-nowhere", &none).empty());
  EXPECT_LE(none.segments_total, 1u);
}

// Each Append's keys go into the index as a run: published at once, stored in `auditruns`, and
// moved into `auditids` by an ingestion. Keys of many calls, whose hash ranges interleave, must
// all be found before and after ingestion, across a reopen with runs still pending, and by a
// reader whose snapshot predates the ingestion.
TEST(AuditIndexTest, KeysOfManyInterleavedAppendsAreAllIndexed) {
  TempDir dir;
  std::mt19937_64 rng(7);
  std::set<std::string> ids;
  // Expected keys, computed from the key layout: (upper 32 bits of Hash64(auditID), hour, ns).
  std::set<std::tuple<uint32_t, TimeMicros, std::string>> keys;
  auto append_calls = [&](Environment* env, int calls) {
    for (int call = 0; call < calls; ++call) {
      std::vector<Event> events;
      for (int i = 0; i < 400; ++i) {
        std::string id = absl::StrCat("id-", rng());
        const char* ns = kNamespaces[rng() % 4];
        TimeMicros hour = kDay0 + static_cast<TimeMicros>(rng() % 3) * kMicrosPerHour;
        events.push_back(SimpleEvent(id, hour + i, ns));
        keys.emplace(static_cast<uint32_t>(Hash64(id) >> 32), hour, ns);
        ids.insert(std::move(id));
      }
      AppendResult result;
      ASSERT_OK(env->Append(events, &result));
      ASSERT_EQ(result.stored, events.size());
    }
  };
  auto sample = [&] {
    std::set<std::string> out = {"never-stored"};
    size_t n = 0;
    for (const std::string& id : ids) {
      if (n++ % 40 == 0) out.insert(id);
    }
    return out;
  };
  {
    auto store = OpenStore(dir);
    auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
    ASSERT_NE(prod, nullptr);
    append_calls(prod, 30);
    ASSERT_OK_AND_ASSIGN(uint64_t count, prod->CountAuditIndexKeys());
    EXPECT_EQ(count, keys.size());
    ExpectLookupsEqualBruteForce(prod, sample());
    // A reader made before the ingestion keeps finding every key after it.
    auto before = prod->NewReader();
    std::map<std::string, std::multiset<std::string>> want = BruteForce(before.get());
    ASSERT_OK_AND_ASSIGN(uint64_t ingested, prod->IngestAuditIdRuns());
    EXPECT_EQ(ingested, keys.size());
    for (const std::string& id : sample()) {
      auto it = want.find(id);
      EXPECT_EQ(Lookup(before.get(), id),
                it == want.end() ? std::multiset<std::string>() : it->second)
          << id;
    }
    before.reset();
    ExpectLookupsEqualBruteForce(prod, sample());
    // More calls: some keys in runs, some in the index, when the store closes.
    append_calls(prod, 30);
    ASSERT_OK_AND_ASSIGN(count, prod->CountAuditIndexKeys());
    EXPECT_EQ(count, keys.size());
  }
  auto store = OpenStore(dir);
  auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
  ASSERT_NE(prod, nullptr);
  ASSERT_OK_AND_ASSIGN(uint64_t count, prod->CountAuditIndexKeys());
  EXPECT_EQ(count, keys.size());
  ExpectLookupsEqualBruteForce(prod, sample());
  ASSERT_OK(prod->Flush());  // ingests the runs left
  ASSERT_OK_AND_ASSIGN(uint64_t left, prod->IngestAuditIdRuns());
  EXPECT_EQ(left, 0u);
  ASSERT_OK_AND_ASSIGN(count, prod->CountAuditIndexKeys());
  EXPECT_EQ(count, keys.size());
  ExpectLookupsEqualBruteForce(prod, sample());
}

// Many tiny appends (a slowly growing audit log, one event per write) make many runs: the
// background thread moves them into the index once there are 1,024, long before they hold a
// million keys, and every key stays findable.
TEST(AuditIndexTest, ManySmallAppendsAreMovedIntoTheIndexInTheBackground) {
  TempDir dir;
  auto store = OpenStore(dir);
  auto* prod = dynamic_cast<EnvironmentImpl*>(store->Find("prod"));
  ASSERT_NE(prod, nullptr);
  std::set<std::string> ids;
  for (int i = 0; i < 1100; ++i) {
    std::string id = absl::StrCat("tiny-", i);
    ASSERT_OK(
        prod->Append(std::vector<Event>{SimpleEvent(id, kDay0 + i, kNamespaces[i % 4])}, nullptr));
    ids.insert(std::move(id));
  }
  // The merge thread wakes every 64 appends, and every 5 s.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (prod->PendingAuditIdRuns() >= 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(prod->PendingAuditIdRuns(), 1024u);
  ASSERT_OK_AND_ASSIGN(uint64_t count, prod->CountAuditIndexKeys());
  EXPECT_EQ(count, ids.size());  // one (hash, group) each; hash twins would share a key
  std::set<std::string> sample = {"never-stored"};
  for (int i = 0; i < 1100; i += 37) sample.insert(absl::StrCat("tiny-", i));
  ExpectLookupsEqualBruteForce(prod, sample);
}

TEST(AuditIdRunTest, RoundTripsAndRefusesCorruptValues) {
  AuditIdRun run;
  run.Add(AuditIdHash("b"), "group-1");
  run.Add(AuditIdHash("a"), "group-1");
  run.Add(AuditIdHash("a"), "group-1");  // a repeat: one key
  run.Add(AuditIdHash("a"), "group-2");
  run.Seal();
  EXPECT_EQ(run.size(), 3u);
  const std::string value = run.Encode();
  ASSERT_OK_AND_ASSIGN(AuditIdRun back, AuditIdRun::Decode(value, "test"));
  std::vector<std::pair<uint32_t, std::string_view>> want, got;
  run.AppendKeys(&want);
  back.AppendKeys(&got);
  EXPECT_EQ(got, want);
  std::vector<std::string> groups;
  back.GroupsOf(static_cast<uint32_t>(Hash64("a") >> 32), &groups);
  EXPECT_EQ(groups, (std::vector<std::string>{"group-1", "group-2"}));
  for (size_t len = 0; len < value.size(); ++len) {
    absl::StatusOr<AuditIdRun> cut = AuditIdRun::Decode(value.substr(0, len), "test");
    EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss) << len;
  }
  EXPECT_EQ(AuditIdRun::Decode(value + "x", "test").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kq::storage
