// AppendCombiner over a real store: many threads appending at once get every event stored once,
// their own counts back and their events unchanged; duplicates are counted exactly in total.
#include "server/append_combiner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/decoder.h"
#include "tests/server/stored_ids.h"
#include "tests/server/test_events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

std::vector<storage::Event> Events(const std::string& prefix, int n) {
  storage::Decoder decoder;
  std::vector<storage::Event> out(n);
  for (int i = 0; i < n; ++i) {
    EXPECT_OK(decoder.DecodeEvent(
        testing::MakeEventJson(absl::StrCat(prefix, "-", i), i % 60, absl::StrCat("ns-", i % 3)),
        &out[i]));
  }
  return out;
}

class AppendCombinerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    options.memory_budget_bytes = 32ull << 20;
    options.durability = storage::Durability::kBuffered;
    ASSERT_OK_AND_ASSIGN(store_, storage::Store::Open(options));
  }
  // auditID -> times stored in prod.
  std::map<std::string, int> Stored() { return testing::StoredIdCounts(store_->Find("prod")); }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(AppendCombinerTest, ConcurrentBatchesAreEachStoredOnceWithTheirOwnCounts) {
  AppendCombiner combiner(store_->Find("prod"), 1, 1000);
  constexpr int kThreads = 12, kBatches = 10, kPerBatch = 50;
  std::atomic<uint64_t> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::string prefix = absl::StrCat("t", t, "b", b);
        std::vector<storage::Event> events = Events(prefix, kPerBatch);
        storage::AppendResult result;
        ASSERT_OK(combiner.Append(events, &result));
        EXPECT_EQ(result.stored, static_cast<uint64_t>(kPerBatch));
        EXPECT_EQ(result.duplicates, 0u);
        // The caller's events are back in place, in order.
        ASSERT_EQ(events.size(), static_cast<size_t>(kPerBatch));
        for (int i = 0; i < kPerBatch; ++i) {
          EXPECT_EQ(events[i].audit_id, absl::StrCat(prefix, "-", i));
        }
        stored += result.stored;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), static_cast<uint64_t>(kThreads * kBatches * kPerBatch));
  std::map<std::string, int> ids = Stored();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kBatches * kPerBatch));
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
}

TEST_F(AppendCombinerTest, DuplicatesAcrossConcurrentBatchesAreCountedExactlyInTotal) {
  AppendCombiner combiner(store_->Find("prod"), 2, 100000);
  // Every thread sends the same 40 events, then its own 40.
  constexpr int kThreads = 8;
  std::atomic<uint64_t> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (const std::string& prefix : {std::string("shared"), absl::StrCat("own", t)}) {
        std::vector<storage::Event> events = Events(prefix, 40);
        storage::AppendResult result;
        ASSERT_OK(combiner.Append(events, &result));
        EXPECT_EQ(result.stored + result.duplicates, 40u);
        stored += result.stored;
        duplicates += result.duplicates;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), 40u + kThreads * 40u);
  EXPECT_EQ(duplicates.load(), (kThreads - 1) * 40u);
  EXPECT_EQ(Stored().size(), 40u + kThreads * 40u);
}

TEST_F(AppendCombinerTest, ABatchLargerThanAGroupIsStoredAlone) {
  AppendCombiner combiner(store_->Find("prod"), 1, 10);
  std::vector<storage::Event> events = Events("big", 25);
  storage::AppendResult result;
  ASSERT_OK(combiner.Append(events, &result));
  EXPECT_EQ(result.stored, 25u);
  EXPECT_EQ(Stored().size(), 25u);
}

}  // namespace
}  // namespace kq::server
