#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/time.h"
#include "storage/event_json.h"
#include "tests/storage/event_generator.h"
#include "tests/storage/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::EventGenerator;
using ::kq::testing::Row;
using ::kq::testing::ScanAll;
using ::kq::testing::SimpleEvent;
using ::kq::testing::StatusIs;
using ::kq::testing::TempDir;
using ::testing::HasSubstr;

constexpr TimeMicros kDay0 = 1714521600LL * kMicrosPerSecond;  // 2024-05-01T00:00:00Z

std::unique_ptr<Store> OpenStore(const TempDir& dir, Durability durability = Durability::kSync) {
  StoreOptions options;
  options.data_dir = dir.path().string();
  options.durability = durability;
  options.memory_budget_bytes = 64ull << 20;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::multiset<std::string> Jsons(const std::vector<Event>& events) {
  std::multiset<std::string> out;
  for (const auto& e : events) out.insert(EventToJson(e));
  return out;
}

std::multiset<std::string> Jsons(const std::vector<Row>& rows) {
  std::multiset<std::string> out;
  for (const auto& r : rows) out.insert(r.json);
  return out;
}

TEST(StoreTest, AppendedEventsAreReadableAtOnceAndInOrder) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->EnvironmentNames(), ::testing::ElementsAre("prod", "dev"));
  Environment* prod = store->Find("prod");
  ASSERT_NE(prod, nullptr);
  EXPECT_EQ(store->Find("staging"), nullptr);
  std::vector<Event> events;
  // Three hours, two namespaces, out of order.
  for (int i = 0; i < 300; ++i) {
    TimeMicros t = kDay0 + ((i * 7919) % 300) * 36 * kMicrosPerSecond;
    events.push_back(SimpleEvent("id-" + std::to_string(i), t, i % 2 ? "team-a" : "team-b"));
  }
  AppendResult result;
  ASSERT_OK(prod->Append(events, &result));
  EXPECT_EQ(result.stored, 300u);
  EXPECT_EQ(result.duplicates, 0u);
  auto reader = prod->NewReader();
  std::vector<Row> rows = ScanAll(reader.get(), ScanRange());
  EXPECT_EQ(Jsons(rows), Jsons(events));
  for (size_t i = 1; i < rows.size(); ++i) {
    // Buckets ascend; within a bucket namespaces ascend; within a batch times ascend.
    ASSERT_LE(rows[i - 1].bucket, rows[i].bucket);
    if (rows[i - 1].bucket == rows[i].bucket) {
      ASSERT_LE(rows[i - 1].ns, rows[i].ns);
      if (rows[i - 1].ns == rows[i].ns) {
        ASSERT_LE(rows[i - 1].time, rows[i].time);
      }
    }
  }
  ScanRange newest;
  newest.newest_first = true;
  std::vector<Row> back = ScanAll(reader.get(), newest);
  ASSERT_EQ(back.size(), rows.size());
  EXPECT_GT(back.front().bucket, back.back().bucket);
  // The other environment saw nothing.
  EXPECT_TRUE(ScanAll(store->Find("dev")->NewReader().get(), ScanRange()).empty());
}

TEST(StoreTest, SnapshotReaderDoesNotSeeLaterAppends) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  ASSERT_OK(prod->Append(std::vector<Event>{SimpleEvent("a", kDay0, "x")}, nullptr));
  auto reader = prod->NewReader();
  ASSERT_OK(prod->Append(std::vector<Event>{SimpleEvent("b", kDay0, "x")}, nullptr));
  EXPECT_EQ(ScanAll(reader.get(), ScanRange()).size(), 1u);
  EXPECT_EQ(ScanAll(prod->NewReader().get(), ScanRange()).size(), 2u);
}

// What the executor would keep of a row, computed from the Event itself.
bool Matches(const Event& e, const ScanRange& range) {
  if (e.request_received_time < range.from || e.request_received_time >= range.to) return false;
  if (!range.namespaces.empty() && std::find(range.namespaces.begin(), range.namespaces.end(),
                                             e.Namespace()) == range.namespaces.end()) {
    return false;
  }
  for (const auto& hint : range.hints) {
    std::string value;
    switch (hint.column) {
      case Column::kUser:
        value = e.user.username.value_or("\x01null");
        break;
      case Column::kVerb:
        value = e.verb;
        break;
      case Column::kName:
        value = e.Name();
        break;
      case Column::kCode:
        value = e.code.has_value() ? std::to_string(*e.code) : "\x01null";
        break;
      default:
        ADD_FAILURE() << "unexpected hint column";
    }
    if (std::find(hint.values.begin(), hint.values.end(), value) == hint.values.end()) {
      return false;
    }
  }
  return true;
}

TEST(StoreTest, PrunedScanEqualsBruteForce) {
  TempDir dir;
  auto store = OpenStore(dir, Durability::kBuffered);
  Environment* prod = store->Find("prod");
  std::mt19937_64 rng(42);
  std::vector<std::string> nss = {"a", "b", "c", "kube-system", ""};
  std::vector<std::string> users = {"alice", "bob", "carol", "system:node:n1"};
  std::vector<std::string> verbs = {"get", "list", "delete", "create"};
  std::vector<Event> all;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Event> events;
    // Each batch covers one slice of time, so segments have distinct time ranges and values.
    std::string user = users[batch % users.size()];
    for (int i = 0; i < 50; ++i) {
      TimeMicros t = kDay0 + batch * 9 * kMicrosPerMinute +
                     static_cast<TimeMicros>(rng() % 600) * kMicrosPerSecond;
      Event e = SimpleEvent("id-" + std::to_string(all.size() + events.size()), t,
                            nss[rng() % nss.size()], user, verbs[(batch / 4) % verbs.size()],
                            "obj-" + std::to_string(rng() % 300));
      if (rng() % 5 == 0) {
        e.code = 404;
        e.response_status = R"({"metadata":{},"code":404})";
      }
      events.push_back(e);
    }
    ASSERT_OK(prod->Append(events, nullptr));
    all.insert(all.end(), events.begin(), events.end());
  }
  auto reader = prod->NewReader();
  uint64_t pruned = 0;
  for (int q = 0; q < 200; ++q) {
    ScanRange range;
    if (rng() % 2) range.from = kDay0 + static_cast<TimeMicros>(rng() % 360) * kMicrosPerMinute;
    if (rng() % 2)
      range.to = range.from == INT64_MIN
                     ? kDay0 + static_cast<TimeMicros>(rng() % 360) * kMicrosPerMinute
                     : range.from + static_cast<TimeMicros>(rng() % 120) * kMicrosPerMinute;
    if (rng() % 3 == 0) range.namespaces = {nss[rng() % nss.size()], nss[rng() % nss.size()]};
    if (rng() % 2) range.hints.push_back({Column::kUser, {users[rng() % users.size()]}});
    if (rng() % 3 == 0) range.hints.push_back({Column::kVerb, {verbs[rng() % verbs.size()]}});
    if (rng() % 4 == 0) range.hints.push_back({Column::kCode, {"404"}});
    if (rng() % 4 == 0) range.hints.push_back({Column::kName, {"obj-7", "obj-8"}});
    range.newest_first = rng() % 2;
    ScanStats stats;
    std::vector<Row> rows = ScanAll(reader.get(), range, &stats);
    std::multiset<std::string> got;
    for (const auto& r : rows) {
      // The executor's filter, applied to the decoded row.
      for (const auto& e : all) {
        if (e.audit_id == r.audit_id && Matches(e, range)) got.insert(r.json);
      }
    }
    std::multiset<std::string> want;
    for (const auto& e : all) {
      if (Matches(e, range)) want.insert(EventToJson(e));
    }
    ASSERT_EQ(got, want) << "query " << q;
    EXPECT_EQ(stats.segments_total, stats.segments_pruned + stats.segments_read);
    pruned += stats.segments_pruned;
  }
  EXPECT_GT(pruned, 0u);
}

TEST(StoreTest, DuplicatesAreStoredOnce) {
  TempDir dir;
  std::vector<Event> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(SimpleEvent("id-" + std::to_string(i), kDay0, "x"));
  {
    auto store = OpenStore(dir);
    Environment* prod = store->Find("prod");
    AppendResult r;
    ASSERT_OK(prod->Append(batch, &r));
    EXPECT_EQ(r.stored, 20u);
    // The webhook retries the same batch.
    ASSERT_OK(prod->Append(batch, &r));
    EXPECT_EQ(r.stored, 0u);
    EXPECT_EQ(r.duplicates, 20u);
    // Same auditID, another stage: a different event.
    Event other_stage = batch[0];
    other_stage.stage = "ResponseStarted";
    // Same auditID and stage from another apiserver with other content: also kept.
    Event other_content = batch[1];
    other_content.source_ips = std::vector<std::string>{"10.9.9.9"};
    // A log line and a webhook item of the same event (kind/apiVersion differ): one event.
    Event webhook_item = batch[2];
    webhook_item.kind.reset();
    webhook_item.api_version.reset();
    ASSERT_OK(prod->Append(
        std::vector<Event>{other_stage, other_content, webhook_item, other_stage}, &r));
    EXPECT_EQ(r.stored, 2u);
    EXPECT_EQ(r.duplicates, 2u);
  }
  // Dedupe memory survives a restart.
  auto store = OpenStore(dir);
  AppendResult r;
  ASSERT_OK(store->Find("prod")->Append(batch, &r));
  EXPECT_EQ(r.duplicates, 20u);
  EXPECT_EQ(ScanAll(store->Find("prod")->NewReader().get(), ScanRange()).size(), 22u);
}

TEST(StoreTest, DedupeForgetsOutsideTheWindow) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  Event old = SimpleEvent("old", kDay0, "x");
  ASSERT_OK(prod->Append(std::vector<Event>{old}, nullptr));
  // Three hours later (window: 1 hour), the old event's hash has been dropped.
  ASSERT_OK(prod->Append(std::vector<Event>{SimpleEvent("new", kDay0 + 3 * kMicrosPerHour, "x")},
                         nullptr));
  AppendResult r;
  ASSERT_OK(prod->Append(std::vector<Event>{old}, &r));
  EXPECT_EQ(r.stored, 1u);
}

TEST(StoreTest, DedupeHoursAreReadWhenFirstUsedAndKeepTheirRecordsAcrossReopens) {
  TempDir dir;
  std::vector<Event> a, b;
  for (int i = 0; i < 5; ++i) a.push_back(SimpleEvent("a-" + std::to_string(i), kDay0, "x"));
  for (int i = 0; i < 5; ++i) b.push_back(SimpleEvent("b-" + std::to_string(i), kDay0, "x"));
  {
    auto store = OpenStore(dir);
    ASSERT_OK(store->Find("prod")->Append(a, nullptr));
  }
  {
    // The hour is read from disk on this first append: b's record must not replace a's.
    auto store = OpenStore(dir);
    AppendResult r;
    ASSERT_OK(store->Find("prod")->Append(b, &r));
    EXPECT_EQ(r.stored, 5u);
  }
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  std::vector<Event> both = a;
  both.insert(both.end(), b.begin(), b.end());
  AppendResult r;
  ASSERT_OK(prod->Append(both, &r));
  EXPECT_EQ(r.duplicates, 10u);
  EXPECT_EQ(r.stored, 0u);
  // Three hours later the hour is out of the window, in memory and on disk.
  ASSERT_OK(prod->Append(std::vector<Event>{SimpleEvent("new", kDay0 + 3 * kMicrosPerHour, "x")},
                         nullptr));
  store.reset();
  store = OpenStore(dir);
  ASSERT_OK(store->Find("prod")->Append(std::vector<Event>{a[0]}, &r));
  EXPECT_EQ(r.stored, 1u);
}

TEST(StoreTest, SecondOpenIsLockedByPid) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  StoreOptions options;
  options.data_dir = dir.path().string();
  EXPECT_THAT(Store::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("locked by pid " + std::to_string(::getpid()))));
  store.reset();
  // Released on close.
  EXPECT_OK(Store::Open(options));
}

TEST(StoreTest, RocksDbWritesItsOwnLogFileOnlyWhenAsked) {
  for (bool log_file : {false, true}) {
    TempDir dir;
    StoreOptions options;
    options.data_dir = dir.path().string();
    options.rocksdb_log_file = log_file;
    {
      auto store = Store::Open(options);
      ASSERT_OK(store.status());
      Environment* prod = (*store)->Find("prod");
      ASSERT_OK(prod->Append(std::vector<Event>{SimpleEvent("a", kDay0, "n")}, nullptr));
      ASSERT_OK(prod->Flush());
    }
    for (const char* env : {"prod", "dev"}) {
      EXPECT_EQ(std::filesystem::exists(dir.path() / env / "LOG"), log_file) << env;
    }
  }
}

TEST(StoreTest, BadOptionsAreRefused) {
  StoreOptions options;
  EXPECT_THAT(Store::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("data_dir")));
  TempDir dir;
  options.data_dir = dir.path().string();
  options.environments = {{"Prod!", ""}};
  EXPECT_THAT(Store::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid environment name")));
}

TEST(StoreTest, QuarantineKeepsRecords) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  QuarantineRecord a{0, 5, "file:/var/log/audit.log:3", "line 3: invalid JSON", "{oops"};
  QuarantineRecord b{0, 6, "webhook:prod/c1 batch 2", "item 1: missing auditID", "{}"};
  ASSERT_OK_AND_ASSIGN(uint64_t ida, prod->AddQuarantine(a));
  ASSERT_OK_AND_ASSIGN(uint64_t idb, prod->AddQuarantine(b));
  EXPECT_LT(ida, idb);
  ASSERT_OK_AND_ASSIGN(auto list, prod->ListQuarantine(10));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, idb);  // newest first
  EXPECT_EQ(list[1].payload, "{oops");
  ASSERT_OK_AND_ASSIGN(QuarantineRecord got, prod->GetQuarantine(ida));
  EXPECT_EQ(got.reason, "line 3: invalid JSON");
  EXPECT_EQ(got.source, "file:/var/log/audit.log:3");
  EXPECT_EQ(got.received, 5);
  EXPECT_THAT(prod->GetQuarantine(999), StatusIs(absl::StatusCode::kNotFound, HasSubstr("999")));
  ASSERT_OK_AND_ASSIGN(EnvironmentStats stats, prod->Stats());
  EXPECT_EQ(stats.quarantined, 2u);
}

Event WithBodies(Event e) {
  e.level = "RequestResponse";
  e.request_object = R"({"kind":"Pod","metadata":{"name":"p"}})";
  e.response_object = R"({"kind":"Pod","status":{"phase":"Running"}})";
  e.raw_size += 80;
  return e;
}

TEST(StoreTest, DropBodiesAndDeleteRangeWorkByBucket) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  std::vector<Event> events;
  for (int h = 0; h < 4; ++h) {
    for (const char* ns : {"a", "b"}) {
      events.push_back(
          WithBodies(SimpleEvent(absl::StrCat("id-", h, ns), kDay0 + h * kMicrosPerHour + 5, ns)));
    }
  }
  ASSERT_OK(prod->Append(events, nullptr));
  // Drop bodies of hour 0 and 1 in namespace "a" only.
  std::vector<std::string> only_a = {"a"};
  ASSERT_OK(prod->DropBodies(kDay0, kDay0 + 2 * kMicrosPerHour, only_a));
  std::map<std::string, std::string> request_by_id;
  ASSERT_OK(prod->NewReader()->Scan(
      ScanRange(),
      [&](const EventBatch& batch) -> absl::StatusOr<bool> {
        const auto& ids = batch.Strings(Column::kAuditId);
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          KQ_ASSIGN_OR_RETURN(request_by_id[std::string(ids.dict[ids.codes[r]])],
                              batch.RequestObject(r));
        }
        return true;
      },
      nullptr));
  EXPECT_EQ(request_by_id["id-0a"], "");
  EXPECT_EQ(request_by_id["id-1a"], "");
  EXPECT_EQ(request_by_id["id-0b"], R"({"kind":"Pod","metadata":{"name":"p"}})");
  EXPECT_EQ(request_by_id["id-2a"], R"({"kind":"Pod","metadata":{"name":"p"}})");
  ASSERT_OK_AND_ASSIGN(EnvironmentStats stats, prod->Stats());
  EXPECT_EQ(stats.events, 8u);
  uint64_t warm = 0;
  for (const auto& n : stats.namespaces) {
    if (n.tier == "warm") warm += n.events;
  }
  EXPECT_EQ(warm, 2u);
  // Delete hours 1..2 of every namespace.
  ASSERT_OK(prod->DeleteRange(kDay0 + kMicrosPerHour, kDay0 + 3 * kMicrosPerHour, {}));
  std::set<std::string> left;
  for (const Row& r : ScanAll(prod->NewReader().get(), ScanRange())) left.insert(r.audit_id);
  EXPECT_EQ(left, (std::set<std::string>{"id-0a", "id-0b", "id-3a", "id-3b"}));
  ASSERT_OK_AND_ASSIGN(stats, prod->Stats());
  EXPECT_EQ(stats.events, 4u);
  EXPECT_EQ(stats.oldest, kDay0 + 5);
  EXPECT_EQ(stats.newest, kDay0 + 3 * kMicrosPerHour + 5);
}

TEST(StoreTest, LookupsFindNeedlesWithoutScanningEverything) {
  TempDir dir;
  auto store = OpenStore(dir, Durability::kBuffered);
  Environment* prod = store->Find("prod");
  for (int h = 0; h < 24; ++h) {
    std::vector<Event> events;
    for (int i = 0; i < 100; ++i) {
      events.push_back(SimpleEvent(absl::StrCat("id-", h, "-", i),
                                   kDay0 + h * kMicrosPerHour + i * kMicrosPerSecond, "x", "u",
                                   "get", absl::StrCat("name-", h, "-", i % 10)));
    }
    ASSERT_OK(prod->Append(events, nullptr));
  }
  // Every stage of one request.
  Event started = SimpleEvent("id-5-7", kDay0 + 5 * kMicrosPerHour + 7 * kMicrosPerSecond, "x");
  started.stage = "ResponseStarted";
  ASSERT_OK(prod->Append(std::vector<Event>{started}, nullptr));
  auto reader = prod->NewReader();
  std::vector<std::string> stages;
  ScanStats stats;
  ASSERT_OK(reader->LookupAuditId(
      "id-5-7",
      [&](const EventBatch& batch) -> absl::StatusOr<bool> {
        const auto& st = batch.Strings(Column::kStage);
        const auto& ids = batch.Strings(Column::kAuditId);
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          EXPECT_EQ(ids.dict[ids.codes[r]], "id-5-7");
          stages.emplace_back(st.dict[st.codes[r]]);
        }
        return true;
      },
      &stats));
  std::sort(stages.begin(), stages.end());
  EXPECT_EQ(stages, (std::vector<std::string>{"ResponseComplete", "ResponseStarted"}));
  EXPECT_LE(stats.segments_read, 3u);
  EXPECT_LE(stats.segments_total, 3u);  // the auditID index names hour 5's segments only
  size_t found = 0;
  ScanRange hours_3_to_5;
  hours_3_to_5.from = kDay0 + 3 * kMicrosPerHour;
  hours_3_to_5.to = kDay0 + 5 * kMicrosPerHour;
  ASSERT_OK(reader->LookupName(
      "name-4-3", hours_3_to_5,
      [&](const EventBatch& batch) -> absl::StatusOr<bool> {
        found += batch.num_rows();
        return true;
      },
      nullptr));
  EXPECT_EQ(found, 10u);  // i = 3, 13, ..., 93 in hour 4
  ASSERT_OK_AND_ASSIGN(auto verbs, reader->DistinctValues(Column::kVerb, 10));
  EXPECT_THAT(verbs, ::testing::ElementsAre("get"));
}

TEST(StoreTest, FlushMergesSmallSegmentsLosslessly) {
  TempDir dir;
  auto store = OpenStore(dir, Durability::kBuffered);
  Environment* prod = store->Find("prod");
  EventGenerator gen(3);
  std::vector<Event> all;
  for (int b = 0; b < 30; ++b) {
    std::vector<Event> events;
    for (int i = 0; i < 10; ++i) {
      Event e = gen.Next();
      e.request_received_time = kDay0 + (b * 10 + i) * kMicrosPerSecond;
      e.request_received_timestamp = FormatTimestamp(e.request_received_time);
      if (e.object_ref.has_value()) e.object_ref->ns = "n";
      events.push_back(e);
    }
    ASSERT_OK(prod->Append(events, nullptr));
    for (auto& e : events) e.env = "prod";
    all.insert(all.end(), events.begin(), events.end());
  }
  ScanStats before;
  ScanAll(prod->NewReader().get(), ScanRange(), &before);
  ASSERT_OK(prod->Flush());
  ScanStats after;
  std::vector<Row> rows = ScanAll(prod->NewReader().get(), ScanRange(), &after);
  EXPECT_GE(before.segments_read, 30u);
  EXPECT_LE(after.segments_read, 2u);  // one bucket, namespaces "n" and ""
  EXPECT_EQ(Jsons(rows), Jsons(all));
}

// EventBatch::TimeLowerBound searches the time column's blocks without decoding it; it must
// agree with a search of the decoded column, before and after merges rewrite the segments.
TEST(StoreTest, TimeLowerBoundAgreesWithTheDecodedTimeColumn) {
  TempDir dir;
  auto store = OpenStore(dir, Durability::kBuffered);
  Environment* prod = store->Find("prod");
  std::mt19937_64 rng(5);
  std::vector<TimeMicros> stored_times;
  for (int b = 0; b < 20; ++b) {
    std::vector<Event> events;
    for (int i = 0; i < 100; ++i) {
      TimeMicros t = kDay0 + static_cast<TimeMicros>(rng() % (2 * kMicrosPerHour));
      if (i % 5 == 0 && !events.empty()) t = events.back().request_received_time;  // ties
      events.push_back(SimpleEvent(absl::StrCat("id-", b, "-", i), t, i % 3 ? "a" : "b"));
      stored_times.push_back(t);
    }
    ASSERT_OK(prod->Append(events, nullptr));
  }
  for (bool merged : {false, true}) {
    if (merged) ASSERT_OK(prod->Flush());
    size_t batches = 0;
    ASSERT_OK(prod->NewReader()->Scan(
        ScanRange(),
        [&](const EventBatch& batch) -> absl::StatusOr<bool> {
          ++batches;
          std::vector<TimeMicros> probes = {INT64_MIN, batch.bucket(), INT64_MAX};
          for (int k = 0; k < 30; ++k) {
            probes.push_back(batch.bucket() + static_cast<TimeMicros>(rng() % kMicrosPerHour));
            probes.push_back(stored_times[rng() % stored_times.size()]);  // exact, maybe ties
          }
          std::vector<size_t> got;
          for (TimeMicros t : probes) got.push_back(batch.TimeLowerBound(t));
          const std::vector<int64_t>& times = batch.Ints(Column::kTime).values;
          EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
          for (size_t k = 0; k < probes.size(); ++k) {
            auto want = std::lower_bound(times.begin(), times.end(), probes[k]) - times.begin();
            EXPECT_EQ(got[k], static_cast<size_t>(want)) << "probe " << probes[k];
          }
          return true;
        },
        nullptr));
    EXPECT_GE(batches, 4u) << "two hours, two namespaces";
  }
}

// Scan with decode_ahead reads and decodes on other threads; what the callback sees (batches,
// order, rows, counters) must not change, and it must stop early and fail as a plain scan does.
TEST(StoreTest, DecodeAheadScanEqualsPlainScan) {
  TempDir dir;
  auto store = OpenStore(dir, Durability::kBuffered);
  Environment* prod = store->Find("prod");
  EventGenerator gen(9);
  for (int b = 0; b < 12; ++b) {
    std::vector<Event> events;
    for (int i = 0; i < 50; ++i) {
      Event e = gen.Next();
      e.request_received_time = kDay0 + b * kMicrosPerHour + i * kMicrosPerSecond;
      e.request_received_timestamp = FormatTimestamp(e.request_received_time);
      events.push_back(e);
    }
    ASSERT_OK(prod->Append(events, nullptr));
  }
  auto reader = prod->NewReader();
  ScanRange plain;
  ScanRange ahead;
  ahead.decode_ahead = {Column::kCode, Column::kVerb, Column::kGroups, Column::kTime};
  for (bool newest_first : {false, true}) {
    plain.newest_first = ahead.newest_first = newest_first;
    ScanStats plain_stats, ahead_stats;
    std::vector<Row> want = ScanAll(reader.get(), plain, &plain_stats);
    std::vector<Row> got = ScanAll(reader.get(), ahead, &ahead_stats);
    ASSERT_GE(plain_stats.segments_read, 12u);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].bucket, want[i].bucket);
      EXPECT_EQ(got[i].ns, want[i].ns);
      EXPECT_EQ(got[i].json, want[i].json);
    }
    EXPECT_EQ(ahead_stats.segments_read, plain_stats.segments_read);
    EXPECT_EQ(ahead_stats.rows_read, plain_stats.rows_read);
    EXPECT_EQ(ahead_stats.bytes_read, plain_stats.bytes_read);
  }
  // Stopping after three batches, and an error from the callback.
  ahead.newest_first = false;
  int seen = 0;
  ASSERT_OK(reader->Scan(
      ahead, [&](const EventBatch&) -> absl::StatusOr<bool> { return ++seen < 3; }, nullptr));
  EXPECT_EQ(seen, 3);
  seen = 0;
  EXPECT_THAT(reader->Scan(
                  ahead,
                  [&](const EventBatch&) -> absl::StatusOr<bool> {
                    if (++seen == 2) return absl::InternalError("callback failed");
                    return true;
                  },
                  nullptr),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("callback failed")));
  EXPECT_EQ(seen, 2);
}

TEST(StoreTest, NamespacesThatArePrefixesOrHoldNulStayApart) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  std::vector<std::string> nss = {"a", std::string("a\0", 2), std::string("a\0b", 3), "ab", ""};
  std::vector<Event> events;
  for (size_t i = 0; i < nss.size(); ++i) {
    events.push_back(SimpleEvent(absl::StrCat("id-", i), kDay0 + 10, nss[i]));
  }
  ASSERT_OK(prod->Append(events, nullptr));
  auto reader = prod->NewReader();
  for (size_t i = 0; i < nss.size(); ++i) {
    ScanRange range;
    range.namespaces = {nss[i]};
    std::vector<Row> rows = ScanAll(reader.get(), range);
    ASSERT_EQ(rows.size(), 1u) << i;
    EXPECT_EQ(rows[0].audit_id, absl::StrCat("id-", i));
    EXPECT_EQ(rows[0].ns, nss[i]);
  }
  // Deleting one namespace's range leaves its prefix relatives alone.
  std::vector<std::string> victim = {std::string("a\0", 2)};
  ASSERT_OK(prod->DeleteRange(kDay0, kDay0 + kMicrosPerDay, victim));
  std::set<std::string> left;
  for (const Row& r : ScanAll(prod->NewReader().get(), ScanRange())) left.insert(r.audit_id);
  EXPECT_EQ(left, (std::set<std::string>{"id-0", "id-2", "id-3", "id-4"}));
}

TEST(StoreTest, StatsCountEventsAndBytesPerNamespace) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  std::vector<Event> events;
  std::map<std::string, std::pair<uint64_t, uint64_t>> want;  // ns -> (events, raw bytes)
  for (int i = 0; i < 90; ++i) {
    std::string ns = i % 3 == 0 ? "a" : "b";
    Event e = SimpleEvent(absl::StrCat("id-", i), kDay0 + i * kMicrosPerMinute, ns);
    e.raw_size = 500 + i;
    want[ns].first += 1;
    want[ns].second += e.raw_size;
    events.push_back(e);
    // Three appends, so that Flush merges segments: the counts must survive merging.
    if (events.size() == 30) {
      ASSERT_OK(prod->Append(events, nullptr));
      events.clear();
    }
  }
  ASSERT_OK(prod->Flush());
  ASSERT_OK_AND_ASSIGN(EnvironmentStats stats, prod->Stats());
  EXPECT_EQ(stats.env, "prod");
  EXPECT_EQ(stats.events, 90u);
  EXPECT_EQ(stats.raw_bytes, want["a"].second + want["b"].second);
  EXPECT_GT(stats.disk_bytes, 0u);
  EXPECT_EQ(stats.oldest, kDay0);
  EXPECT_EQ(stats.newest, kDay0 + 89 * kMicrosPerMinute);
  ASSERT_EQ(stats.namespaces.size(), 2u);
  for (const auto& n : stats.namespaces) {
    EXPECT_EQ(n.tier, "hot");
    EXPECT_EQ(n.events, want[n.ns].first) << n.ns;
    EXPECT_EQ(n.raw_bytes, want[n.ns].second) << n.ns;
    EXPECT_GT(n.disk_bytes, 0u);
  }
  ASSERT_OK_AND_ASSIGN(EnvironmentStats dev, store->Find("dev")->Stats());
  EXPECT_EQ(dev.events, 0u);
}

TEST(StoreTest, ConcurrentWritersAndReaders) {
  TempDir dir;
  auto store = OpenStore(dir);
  Environment* prod = store->Find("prod");
  constexpr int kThreads = 4, kBatches = 25, kPerBatch = 40;
  std::atomic<bool> done{false};
  std::atomic<size_t> max_seen{0};
  std::thread reader([&] {
    while (!done.load()) {
      size_t n = ScanAll(prod->NewReader().get(), ScanRange()).size();
      // A reader never sees a partial batch: counts are whole batches.
      EXPECT_EQ(n % kPerBatch, 0u);
      max_seen = std::max(max_seen.load(), n);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Event> events;
        for (int i = 0; i < kPerBatch; ++i) {
          events.push_back(SimpleEvent(absl::StrCat("t", t, "-", b, "-", i),
                                       kDay0 + (b * kPerBatch + i) * kMicrosPerSecond,
                                       absl::StrCat("ns", i % 3)));
        }
        AppendResult r;
        EXPECT_OK(prod->Append(events, &r));
        EXPECT_EQ(r.stored, static_cast<uint64_t>(kPerBatch));
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  std::vector<Row> rows = ScanAll(prod->NewReader().get(), ScanRange());
  EXPECT_EQ(rows.size(), static_cast<size_t>(kThreads * kBatches * kPerBatch));
  std::set<std::string> ids;
  for (const Row& r : rows) ids.insert(r.audit_id);
  EXPECT_EQ(ids.size(), rows.size());
}

}  // namespace
}  // namespace kq::storage
