// The fixture of the retention enforcer tests: a real store (RocksDB in a temporary directory)
// with a fake clock, an event maker, and readers of the store and the archive.
#ifndef KQ_TESTS_RETENTION_ENFORCER_FIXTURE_H_
#define KQ_TESTS_RETENTION_ENFORCER_FIXTURE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/archive.h"
#include "retention/enforcer.h"
#include "storage/store.h"
#include "tests/retention/test_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {

using ::kq::testing::IsOk;

inline constexpr TimeMicros kDay = kMicrosPerDay;
inline constexpr TimeMicros kD0 = 19723 * kDay;  // 2024-01-01T00:00:00Z

inline storage::Event MakeEvent(std::string_view ns, TimeMicros t, int n) {
  storage::Event e;
  e.kind = "Event";
  e.api_version = "audit.k8s.io/v1";
  e.level = "RequestResponse";
  e.audit_id = absl::StrCat("id-", Sv(ns), "-", t, "-", n);
  e.stage = "ResponseComplete";
  e.verb = "update";
  e.request_uri = absl::StrCat("/api/v1/namespaces/", Sv(ns), "/configmaps/c", n);
  e.user.username = "alice";
  e.object_ref.emplace();
  e.object_ref->resource = "configmaps";
  e.object_ref->ns = std::string(ns);
  e.object_ref->name = absl::StrCat("c", n);
  e.request_object = absl::StrCat(R"({"kind":"ConfigMap","data":{"k":")", n, R"("}})");
  e.response_object = absl::StrCat(R"({"kind":"ConfigMap","metadata":{"uid":"u)", n, R"("}})");
  e.request_received_timestamp = FormatTimestamp(t);
  e.request_received_time = t;
  e.stage_timestamp = FormatTimestamp(t + 1000);
  e.stage_time = t + 1000;
  return e;
}

// Per (day, namespace): events in the store, and how many still carry bodies.
struct DayCount {
  uint64_t events = 0;
  uint64_t with_bodies = 0;
  bool operator==(const DayCount&) const = default;
};
using Counts = std::map<std::pair<TimeMicros, std::string>, DayCount>;

class EnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, OpenTestStore(dir_.Sub("data"), &clock_));
    prod_ = store_->Find("prod");
    dev_ = store_->Find("dev");
    ASSERT_NE(prod_, nullptr);
    ASSERT_NE(dev_, nullptr);
  }

  // `per_ns` events for each namespace on each day in [first, last].
  void Ingest(storage::Environment* env, TimeMicros first, TimeMicros last,
              const std::vector<std::string>& namespaces, int per_ns, bool flush = true) {
    std::vector<storage::Event> events;
    for (TimeMicros day = first; day <= last; day += kDay) {
      for (const std::string& ns : namespaces) {
        for (int i = 0; i < per_ns; ++i) {
          events.push_back(MakeEvent(ns, day + (i + 1) * kMicrosPerHour, i));
        }
      }
    }
    storage::AppendResult result;
    ASSERT_THAT(env->Append(events, &result), IsOk());
    ASSERT_EQ(result.stored, events.size());
    if (flush) {
      ASSERT_THAT(env->Flush(), IsOk());
    }
  }

  Counts CountStore(storage::Environment* env) {
    Counts counts;
    std::unique_ptr<storage::Reader> reader = env->NewReader();
    storage::ScanStats stats;
    absl::Status s = reader->Scan(
        storage::ScanRange{},
        [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
          const storage::IntColumn& time = batch.Ints(storage::Column::kTime);
          for (size_t row = 0; row < batch.num_rows(); ++row) {
            TimeMicros day = time.values[row] / kDay * kDay;
            DayCount& c = counts[{day, std::string(batch.ns())}];
            ++c.events;
            absl::StatusOr<std::string> req = batch.RequestObject(row);
            if (!req.ok()) return req.status();
            if (!req->empty()) ++c.with_bodies;
          }
          return true;
        },
        &stats);
    EXPECT_THAT(s, IsOk());
    return counts;
  }

  std::unique_ptr<Ledger> OpenLedger(std::string_view env, bool sync = true) {
    absl::StatusOr<std::unique_ptr<Ledger>> l =
        Ledger::Open(dir_.Sub(absl::StrCat("ledger-", Sv(env))), std::string(env), &clock_, sync);
    EXPECT_THAT(l.status(), IsOk());
    return std::move(l).value();
  }

  // The events of `env` in [from, to) (of namespace `ns`; "" = all) as the store gives them
  // back, to compare with the archive.
  std::vector<ArchiveEvent> ReadStore(storage::Environment* env, TimeMicros from, TimeMicros to,
                                      const std::string& ns) {
    std::vector<ArchiveEvent> out;
    std::unique_ptr<storage::Reader> reader = env->NewReader();
    storage::ScanRange range;
    range.from = from;
    range.to = to;
    if (!ns.empty()) range.namespaces = {ns};
    storage::ScanStats stats;
    EXPECT_THAT(reader->Scan(
                    range,
                    [&](const storage::EventBatch& b) -> absl::StatusOr<bool> {
                      const storage::IntColumn& time = b.Ints(storage::Column::kTime);
                      for (size_t row = 0; row < b.num_rows(); ++row) {
                        absl::StatusOr<std::string> json = b.EventJson(row);
                        if (!json.ok()) return json.status();
                        out.push_back({*json, time.values[row]});
                      }
                      return true;
                    },
                    &stats),
                IsOk());
    return out;
  }

  // Every archived event JSON of `env`, with repeats.
  std::multiset<std::string> ReadArchived(std::string_view env) {
    std::multiset<std::string> out;
    EXPECT_THAT(ReadArchive(Options().archive_root, env, INT64_MIN, INT64_MAX, {},
                            [&](std::string_view json) -> absl::StatusOr<bool> {
                              out.insert(std::string(json));
                              return true;
                            }),
                IsOk());
    return out;
  }

  EnforcerOptions Options() {
    EnforcerOptions o;
    o.archive_root = dir_.Sub("archive");
    o.clock = &clock_;
    return o;
  }

  kq::testing::TempDir dir_;
  FakeClock clock_{kD0};
  std::unique_ptr<storage::Store> store_;
  storage::Environment* prod_ = nullptr;
  storage::Environment* dev_ = nullptr;
  RetentionConfig config_ = RetentionConfig::Defaults();
};

}  // namespace kq::retention

#endif  // KQ_TESTS_RETENTION_ENFORCER_FIXTURE_H_
