// Crash, isolation and corruption tests of the store, with real processes and files.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/storage/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

namespace fs = std::filesystem;
using ::kq::testing::Row;
using ::kq::testing::ScanAll;
using ::kq::testing::SimpleEvent;
using ::kq::testing::TempDir;
using ::testing::HasSubstr;

constexpr TimeMicros kDay0 = 1714521600LL * kMicrosPerSecond;  // 2024-05-01T00:00:00Z
constexpr int kBatch = 40;

StoreOptions Options(const TempDir& dir) {
  StoreOptions options;
  options.data_dir = dir.path().string();
  options.memory_budget_bytes = 32ull << 20;
  return options;
}

std::string EventId(int round, uint64_t batch, int i) {
  return absl::StrCat("r", round, "-b", batch, "-", i);
}

// The child: appends batches forever, writing each acknowledged batch number to `fd`.
[[noreturn]] void AppendForever(const TempDir& dir, int round, int fd) {
  auto store = Store::Open(Options(dir));
  if (!store.ok()) _exit(2);
  Environment* prod = (*store)->Find("prod");
  for (uint64_t b = 0;; ++b) {
    std::vector<Event> events;
    for (int i = 0; i < kBatch; ++i) {
      TimeMicros t = kDay0 + static_cast<TimeMicros>(b % 500) * 7 * kMicrosPerSecond + i;
      events.push_back(SimpleEvent(EventId(round, b, i), t, i % 3 ? "a" : "b"));
    }
    if (!prod->Append(events, nullptr).ok()) _exit(3);
    if (::write(fd, &b, sizeof(b)) != sizeof(b)) _exit(4);
  }
}

TEST(DurabilityTest, AcknowledgedEventsSurviveKill9ExactlyOnce) {
  TempDir dir;
  std::mt19937 rng(20241126);
  std::map<int, std::set<uint64_t>> acked;  // round -> acknowledged batches
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      AppendForever(dir, round, fds[1]);
    }
    ::close(fds[1]);
    // Let it acknowledge a random number of batches, then kill it mid-write.
    size_t target = std::uniform_int_distribution<size_t>(1, 40)(rng);
    uint64_t b;
    while (acked[round].size() < target && ::read(fds[0], &b, sizeof(b)) == sizeof(b)) {
      acked[round].insert(b);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    while (::read(fds[0], &b, sizeof(b)) == sizeof(b)) acked[round].insert(b);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    ASSERT_GE(acked[round].size(), target);

    // Reopen: every acknowledged event of every round so far is there exactly once.
    auto store = Store::Open(Options(dir));
    ASSERT_TRUE(store.ok()) << store.status();
    std::map<std::string, int> seen;
    for (const Row& r : ScanAll((*store)->Find("prod")->NewReader().get(), ScanRange())) {
      ++seen[r.audit_id];
    }
    for (const auto& [seen_round, batches] : acked) {
      for (uint64_t batch : batches) {
        for (int i = 0; i < kBatch; ++i) {
          auto it = seen.find(EventId(seen_round, batch, i));
          ASSERT_NE(it, seen.end()) << "lost " << EventId(seen_round, batch, i);
          ASSERT_EQ(it->second, 1) << EventId(seen_round, batch, i);
        }
      }
    }
    for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << id;
    // The auditID index finds them too: its keys of recent appends live in runs (never moved
    // into the index by these short-lived children), recovered at open.
    auto reader = (*store)->Find("prod")->NewReader();
    for (uint64_t batch : acked[round]) {
      for (int i : {0, kBatch - 1}) {
        const std::string id = EventId(round, batch, i);
        size_t rows = 0;
        ASSERT_OK(reader->LookupAuditId(
            id,
            [&](const EventBatch& found) -> absl::StatusOr<bool> {
              rows += found.num_rows();
              return true;
            },
            nullptr));
        ASSERT_EQ(rows, 1u) << "looking up " << id;
      }
    }
  }
}

TEST(DurabilityTest, AnotherProcessGetsLockedByPid) {
  TempDir dir;
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = Store::Open(Options(dir));
    char c = store.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) _exit(2);
    (void)::read(release[0], &c, 1);  // hold the lock until the parent is done
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto second = Store::Open(Options(dir));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("locked by pid ", pid)));
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
  // The lock went with the process.
  EXPECT_TRUE(Store::Open(Options(dir)).ok());
}

struct FileState {
  uintmax_t size;
  fs::file_time_type mtime;
  bool operator==(const FileState&) const = default;
};

std::map<std::string, FileState> Listing(const fs::path& dir) {
  std::map<std::string, FileState> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out[e.path().filename().string()] = {e.file_size(), e.last_write_time()};
  }
  return out;
}

TEST(DurabilityTest, DevWorkNeverTouchesProdFiles) {
  TempDir dir;
  TempDir other_disk;
  StoreOptions options = Options(dir);
  options.environments = {{"prod", ""}, {"dev", other_disk.Sub("dev-data")}};
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  Environment* prod = (*store)->Find("prod");
  Environment* dev = (*store)->Find("dev");
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(SimpleEvent(absl::StrCat("p", i), kDay0 + i, "a"));
  ASSERT_OK(prod->Append(events, nullptr));
  ASSERT_OK(prod->Flush());
  EXPECT_FALSE(fs::exists(dir.path() / "dev"));
  auto before = Listing(dir.path() / "prod");
  // Writes, queries, retention and a wipe on dev.
  for (auto& e : events) e.audit_id = "d" + e.audit_id;
  ASSERT_OK(dev->Append(events, nullptr));
  EXPECT_EQ(ScanAll(dev->NewReader().get(), ScanRange()).size(), 100u);
  ASSERT_OK(dev->DropBodies(INT64_MIN, INT64_MAX, {}));
  ASSERT_OK(dev->DeleteRange(INT64_MIN, INT64_MAX, {}));
  ASSERT_OK(dev->Flush());
  EXPECT_TRUE(ScanAll(dev->NewReader().get(), ScanRange()).empty());
  EXPECT_TRUE(fs::exists(other_disk.path() / "dev-data" / "KQLOCK"));
  EXPECT_EQ(Listing(dir.path() / "prod"), before);
  std::vector<Row> rows = ScanAll(prod->NewReader().get(), ScanRange());
  ASSERT_EQ(rows.size(), 100u);
  for (const Row& r : rows) EXPECT_EQ(r.audit_id[0], 'p');
}

// Overwrites `n` bytes in the middle of `path`.
void Scribble(const fs::path& path, size_t n) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  off_t size = static_cast<off_t>(fs::file_size(path));
  std::string junk(n, '\x5a');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), size / 2), static_cast<ssize_t>(n));
  ::close(fd);
}

TEST(DurabilityTest, CorruptSegmentFileIsDataLossNamingTheFile) {
  TempDir dir;
  {
    auto store = Store::Open(Options(dir));
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<Event> events;
    for (int i = 0; i < 5000; ++i) {
      events.push_back(SimpleEvent(absl::StrCat("id-", i), kDay0 + i * 1000, "a"));
    }
    ASSERT_OK((*store)->Find("prod")->Append(events, nullptr));
    ASSERT_OK((*store)->Find("prod")->Flush());
  }
  int scribbled = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "prod")) {
    if (e.path().extension() == ".sst" && e.file_size() > 20000) {
      Scribble(e.path(), 4096);
      ++scribbled;
    }
  }
  ASSERT_GT(scribbled, 0);
  auto store = Store::Open(Options(dir));
  absl::Status st;
  if (!store.ok()) {
    st = store.status();
  } else {
    st = (*store)->Find("prod")->NewReader()->Scan(
        ScanRange(), [](const EventBatch&) -> absl::StatusOr<bool> { return true; }, nullptr);
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(".sst"));
}

TEST(DurabilityTest, CorruptCurrentFileIsDataLossAtOpen) {
  TempDir dir;
  { ASSERT_TRUE(Store::Open(Options(dir)).ok()); }
  ::kq::testing::WriteFileOrDie(dir.path() / "prod" / "CURRENT", "garbage");
  auto store = Store::Open(Options(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("prod"));
}

}  // namespace
}  // namespace kq::storage
