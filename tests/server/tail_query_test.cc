#include "server/tail_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/worker_pool.h"
#include "tests/testing/status_matchers.h"

namespace kq::server {
namespace {

using ::kq::testing::StatusIs;

TEST(TailQueryTest, OnlyWhereStagesAfterTheSource) {
  EXPECT_OK(CheckTailQuery("events"));
  EXPECT_OK(CheckTailQuery("events | where verb == \"delete\""));
  EXPECT_OK(CheckTailQuery("events|where ns == 'a|b' |  where\tuser != \"x | take 1\""));
  EXPECT_THAT(CheckTailQuery("events | take 10"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("stage 2")));
  EXPECT_THAT(CheckTailQuery("events | where x == 1 | summarize count()"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("stage 3")));
  EXPECT_FALSE(CheckTailQuery("events | wherever").ok());
}

TEST(WorkerPoolTest, RunsEverythingQueuedAndRefusesBeyondTheBound) {
  std::atomic<int> ran{0};
  std::mutex gate;
  gate.lock();
  {
    WorkerPool pool(1, 2);
    ASSERT_TRUE(pool.Submit([&] {
      std::lock_guard<std::mutex> l(gate);
      ran++;
    }));
    // The one thread may or may not have picked up the first task yet; fill the queue.
    int accepted = 1;
    while (pool.Submit([&] { ran++; })) accepted++;
    // 1 running + 2 queued, or 2 queued when the thread has not taken the first yet.
    EXPECT_GE(accepted, 2);
    EXPECT_LE(accepted, 3);
    gate.unlock();
    pool.Shutdown();
    EXPECT_EQ(ran.load(), accepted);
    EXPECT_FALSE(pool.Submit([] {}));
  }
}

}  // namespace
}  // namespace kq::server
