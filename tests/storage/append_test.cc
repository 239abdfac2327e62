// Append from several threads at once: every event stored exactly once, read back equal to what
// went in, found through the auditID index; a pooled segment builder carries nothing from one
// Append (or one store) to the next. AppendStream: parts stored as one Append, all or nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "storage/environment_impl.h"
#include "storage/event_json.h"
#include "storage/segment.h"
#include "storage/store.h"
#include "tests/storage/event_generator.h"
#include "tests/storage/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::EventGenerator;
using ::kq::testing::Row;
using ::kq::testing::ScanAll;
using ::kq::testing::TempDir;

constexpr TimeMicros kDay0 = 1714521600LL * kMicrosPerSecond;  // 2024-05-01T00:00:00Z

std::unique_ptr<Store> OpenStore(const TempDir& dir, const std::string& sub) {
  StoreOptions options;
  options.data_dir = (dir.path() / sub).string();
  options.environments = {{"prod", ""}};
  options.memory_budget_bytes = 64ull << 20;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// `n` distinct random events (unique auditIDs), over three hours and a few namespaces.
std::vector<Event> DistinctEvents(uint64_t seed, size_t n) {
  EventGenerator gen(seed);
  std::vector<Event> events;
  for (size_t i = 0; i < n; ++i) {
    Event e = gen.Next();
    e.audit_id = absl::StrCat("id-", seed, "-", i);
    e.request_received_time = kDay0 + static_cast<TimeMicros>(i % 3) * kMicrosPerHour +
                              static_cast<TimeMicros>(i) * kMicrosPerSecond;
    e.request_received_timestamp = FormatTimestamp(e.request_received_time);
    if (e.object_ref.has_value() && i % 4 != 0) e.object_ref->ns = absl::StrCat("ns", i % 5);
    events.push_back(std::move(e));
  }
  return events;
}

std::multiset<std::string> Jsons(const std::vector<Event>& events) {
  std::multiset<std::string> out;
  for (Event e : events) {
    e.env = "prod";
    out.insert(EventToJson(e));
  }
  return out;
}

std::multiset<std::string> Jsons(const std::vector<Row>& rows) {
  std::multiset<std::string> out;
  for (const auto& r : rows) out.insert(r.json);
  return out;
}

// Counts the events of `env` with `audit_id` found through the auditID index.
size_t FoundByAuditId(Environment* env, const std::string& audit_id) {
  size_t found = 0;
  auto reader = env->NewReader();
  EXPECT_OK(reader->LookupAuditId(
      audit_id,
      [&](const EventBatch& b) -> absl::StatusOr<bool> {
        const StringColumn& col = b.Strings(Column::kAuditId);
        for (size_t r = 0; r < b.num_rows(); ++r) {
          found += col.codes[r] != kNullCode && col.dict[col.codes[r]] == audit_id;
        }
        return true;
      },
      nullptr));
  return found;
}

TEST(AppendTest, ConcurrentAppendersStoreEveryEventExactlyOnce) {
  TempDir dir;
  auto store = OpenStore(dir, "a");
  ASSERT_NE(store, nullptr);
  Environment* prod = store->Find("prod");
  constexpr int kThreads = 4;
  constexpr size_t kEvents = 2000, kBatch = 50;
  const std::vector<Event> events = DistinctEvents(7, kEvents);
  // Thread t appends batches starting at t * kBatch / 2, so each event reaches two threads at
  // about the same time (overlapping halves): dedupe must let exactly one of them store it.
  std::atomic<uint64_t> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t start = (t % 2) * kBatch / 2; start < kEvents; start += kBatch) {
        size_t end = std::min(kEvents, start + kBatch);
        std::vector<Event> batch(events.begin() + static_cast<ptrdiff_t>(start),
                                 events.begin() + static_cast<ptrdiff_t>(end));
        AppendResult r;
        EXPECT_OK(prod->Append(batch, &r));
        EXPECT_EQ(r.stored + r.duplicates, batch.size());
        stored += r.stored;
        duplicates += r.duplicates;
      }
    });
  }
  for (auto& t : threads) t.join();
  // Threads 0 and 2 cover [0, 2000); threads 1 and 3 cover [25, 2000): every event is offered
  // 4 times (the first 25: twice).
  EXPECT_EQ(stored.load(), kEvents);
  EXPECT_EQ(duplicates.load(), 4 * kEvents - 2 * (kBatch / 2) - kEvents);
  std::vector<Row> rows = ScanAll(prod->NewReader().get(), ScanRange());
  EXPECT_EQ(rows.size(), kEvents);
  EXPECT_EQ(Jsons(rows), Jsons(events));

  // Every auditID is found through the index, before and after merging.
  for (bool flushed : {false, true}) {
    if (flushed) {
      ASSERT_OK(prod->Flush());
    }
    for (size_t i = 0; i < kEvents; i += 97) {
      EXPECT_EQ(FoundByAuditId(prod, events[i].audit_id), 1u)
          << events[i].audit_id << (flushed ? " after Flush" : "");
    }
  }
  EXPECT_EQ(Jsons(ScanAll(prod->NewReader().get(), ScanRange())), Jsons(events));
}

TEST(AppendTest, ReusedBuilderCarriesNothingBetweenAppendsOrStores) {
  // One thread appends to two stores in turn, batches of different shapes (bodies or none,
  // one namespace or many): each store holds exactly its own events.
  TempDir dir;
  auto a = OpenStore(dir, "a");
  auto b = OpenStore(dir, "b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::vector<Event> to_a = DistinctEvents(11, 300), to_b = DistinctEvents(12, 300);
  for (auto& e : to_b) e.request_object.reset();
  for (size_t start = 0; start < 300; start += 60) {
    for (auto [store, events] : {std::pair{a.get(), &to_a}, std::pair{b.get(), &to_b}}) {
      std::vector<Event> batch(events->begin() + static_cast<ptrdiff_t>(start),
                               events->begin() + static_cast<ptrdiff_t>(start + 60));
      AppendResult r;
      ASSERT_OK(store->Find("prod")->Append(batch, &r));
      EXPECT_EQ(r.stored, 60u);
    }
  }
  EXPECT_EQ(Jsons(ScanAll(a->Find("prod")->NewReader().get(), ScanRange())), Jsons(to_a));
  EXPECT_EQ(Jsons(ScanAll(b->Find("prod")->NewReader().get(), ScanRange())), Jsons(to_b));
}

// A store with one environment, prod, for the AppendStream tests.
class AppendStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_, "a");
    ASSERT_NE(store_, nullptr);
    prod_ = store_->Find("prod");
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  Environment* prod_ = nullptr;
};

TEST_F(AppendStreamTest, PartsAreStoredAtCommitAsOneAppend) {
  const std::vector<Event> events = DistinctEvents(21, 900);
  std::unique_ptr<AppendStream> stream = prod_->BeginAppend();
  // Parts through one reused vector, overwritten after each Add: the stream keeps no reference.
  std::vector<Event> part;
  for (size_t start = 0; start < events.size(); start += 100) {
    part.assign(events.begin() + static_cast<ptrdiff_t>(start),
                events.begin() + static_cast<ptrdiff_t>(start + 100));
    if (start == 500) part.push_back(events[5]);  // a duplicate of an earlier part
    ASSERT_OK(stream->Add(part));
    for (Event& e : part) e = DistinctEvents(99, 1)[0];
  }
  // Nothing is visible before Commit.
  EXPECT_TRUE(ScanAll(prod_->NewReader().get(), ScanRange()).empty());
  AppendResult r;
  ASSERT_OK(stream->Commit(&r));
  EXPECT_EQ(r.stored, 900u);
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(Jsons(ScanAll(prod_->NewReader().get(), ScanRange())), Jsons(events));
  for (size_t i = 0; i < events.size(); i += 89) {
    EXPECT_EQ(FoundByAuditId(prod_, events[i].audit_id), 1u) << events[i].audit_id;
  }
  // A committed stream takes nothing more.
  EXPECT_THAT(stream->Add(events), testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                     ::testing::HasSubstr("Commit")));
  EXPECT_THAT(stream->Commit(&r), testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                    ::testing::HasSubstr("Commit")));
  // Its events are stored: appending them again stores none.
  ASSERT_OK(prod_->Append(events, &r));
  EXPECT_EQ(r.stored, 0u);
  EXPECT_EQ(r.duplicates, events.size());
}

TEST_F(AppendStreamTest, DestroyedWithoutCommitItStoresAndClaimsNothing) {
  const std::vector<Event> events = DistinctEvents(31, 400);
  {
    std::unique_ptr<AppendStream> stream = prod_->BeginAppend();
    ASSERT_OK(stream->Add(events));
  }
  EXPECT_TRUE(ScanAll(prod_->NewReader().get(), ScanRange()).empty());
  EXPECT_EQ(FoundByAuditId(prod_, events[0].audit_id), 0u);
  // Its claims were given back: the same events are stored now, not skipped as duplicates.
  AppendResult r;
  ASSERT_OK(prod_->Append(events, &r));
  EXPECT_EQ(r.stored, events.size());
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(Jsons(ScanAll(prod_->NewReader().get(), ScanRange())), Jsons(events));
}

// The whole segments `env` stores (narrow part and wide part joined), in key order.
std::vector<std::string> StoredSegments(Environment* env) {
  auto* impl = dynamic_cast<EnvironmentImpl*>(env);
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl->db()->NewIterator(rocksdb::ReadOptions(), impl->cf(EnvironmentImpl::kSegments)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const bool wide = it->key().size() > 0 && it->key()[it->key().size() - 1] == kWideSuffix;
    if (wide && !out.empty()) {
      out.back() += it->value().ToString();
    } else {
      out.push_back(it->value().ToString());
    }
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

// A small segment is appended at the fast zstd level (merges encode it again), a segment of
// kSmallSegmentRows rows or more at the level segments keep.
TEST(AppendTest, SmallSegmentsAreAppendedAtTheFastLevelLargeOnesAtTheKeptLevel) {
  EventGenerator gen(41);
  std::vector<Event> events;
  for (size_t i = 0; i < kSmallSegmentRows; ++i) {
    Event e = gen.Next();
    e.audit_id = absl::StrCat("lvl-", i);
    e.request_received_time = kDay0 + static_cast<TimeMicros>(i) * 1000;
    e.request_received_timestamp = FormatTimestamp(e.request_received_time);
    e.object_ref.emplace().ns = "one";  // one (hour, namespace) group
    events.push_back(std::move(e));
  }
  for (size_t rows : {size_t{1000}, size_t{kSmallSegmentRows}}) {
    TempDir dir;
    auto store = OpenStore(dir, "a");
    ASSERT_NE(store, nullptr);
    const std::span<const Event> batch(events.data(), rows);
    ASSERT_OK(store->Find("prod")->Append(batch, nullptr));
    SegmentBuilder builder;
    for (const Event& e : batch) builder.Add(e);
    const int level = rows < kSmallSegmentRows ? kSmallSegmentZstdLevel : kSegmentZstdLevel;
    const std::vector<std::string> stored = StoredSegments(store->Find("prod"));
    ASSERT_EQ(stored.size(), 1u) << rows;
    EXPECT_TRUE(stored[0] == builder.Finish(level).segment) << rows << " rows";
    for (const Event& e : batch) builder.Add(e);
    EXPECT_FALSE(
        stored[0] ==
        builder.Finish(level == kSegmentZstdLevel ? kSmallSegmentZstdLevel : kSegmentZstdLevel)
            .segment)
        << rows << " rows: the levels give the same bytes, the test shows nothing";
  }
}

}  // namespace
}  // namespace kq::storage
