// Queries over archived ranges without restoring: events archived by a retention run, then read
// with the query source archive("prod") through the same reader factory kqd and `kq --data` use.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "query/engine.h"
#include "retention/archive.h"
#include "retention/enforcer.h"
#include "server/store_readers.h"
#include "storage/store.h"
#include "tests/retention/test_store.h"
#include "tests/testing/collecting_sink.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::CollectingSink;

using ::kq::testing::IsOk;
using ::kq::testing::StatusIs;
using ::kq::testing::TempDir;
using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;
constexpr TimeMicros kD0 = 19723 * kDay;  // 2024-01-01T00:00:00Z

storage::Event MakeEvent(std::string_view ns, TimeMicros t, int n) {
  storage::Event e;
  e.level = "Metadata";
  e.audit_id = absl::StrCat("id-", Sv(ns), "-", t, "-", n);
  e.stage = "ResponseComplete";
  e.verb = n % 2 == 0 ? "delete" : "update";
  e.request_uri = absl::StrCat("/api/v1/namespaces/", Sv(ns), "/secrets/s", n);
  e.user.username = "alice";
  e.object_ref.emplace();
  e.object_ref->resource = "secrets";
  e.object_ref->ns = std::string(ns);
  e.object_ref->name = absl::StrCat("s", n);
  e.request_received_timestamp = FormatTimestamp(t);
  e.request_received_time = t;
  e.stage_timestamp = FormatTimestamp(t + 1000);
  e.stage_time = t + 1000;
  return e;
}

// A StatusOr that is OK and whose value matches.
MATCHER_P(Holds, inner, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

class ArchiveQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, OpenTestStore(dir_.Sub("data"), &clock_));
    // 3 days x 3 namespaces ("" is cluster-scoped) x 4 events; events 0 and 2 are deletes.
    std::vector<storage::Event> events;
    for (int d = 0; d < 3; ++d) {
      for (std::string ns : {"a", "b", ""}) {
        for (int i = 0; i < 4; ++i) events.push_back(MakeEvent(ns, kD0 + d * kDay + i * 1000, i));
      }
    }
    ASSERT_OK(store_->Find("prod")->Append(events, nullptr));
    ASSERT_OK(store_->Find("prod")->Flush());
    readers_ = std::make_unique<server::StoreReaderFactory>(store_.get(), archive_root_);
  }

  // Archives everything: the prod default archives at 90 days.
  void RunRetention() {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(dir_.Sub("ledger"), "prod", &clock_));
    RetentionConfig config = RetentionConfig::Defaults();
    EnforcerOptions eo;
    eo.archive_root = archive_root_;
    eo.clock = &clock_;
    Enforcer enforcer(config.Find("prod"), store_->Find("prod"), ledger.get(), eo);
    clock_.Set(kD0 + 100 * kDay);
    ASSERT_OK(enforcer.Run().status());
  }

  absl::StatusOr<int64_t> Count(std::string_view text) {
    query::QueryOptions options;
    options.clock = &clock_;
    CollectingSink sink;
    KQ_RETURN_IF_ERROR(query::RunQuery(*readers_, text, options, sink, nullptr));
    if (sink.rows_.size() != 1 || sink.rows_[0].size() != 1 ||
        !std::holds_alternative<int64_t>(sink.rows_[0][0])) {
      return absl::InternalError("not one count");
    }
    return std::get<int64_t>(sink.rows_[0][0]);
  }

  // Each row as text: cells joined by " | ", nulls as "null" (so "" and null differ).
  absl::StatusOr<std::vector<std::string>> Rows(std::string_view text) {
    query::QueryOptions options;
    options.clock = &clock_;
    CollectingSink sink;
    KQ_RETURN_IF_ERROR(query::RunQuery(*readers_, text, options, sink, nullptr));
    std::vector<std::string> out;
    for (const query::Row& row : sink.rows_) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        const query::Value& v = row[c];
        if (!line.empty()) line += " | ";
        if (const auto* s = std::get_if<std::string>(&v)) line += *s;
        if (const auto* d = std::get_if<query::Datetime>(&v)) line += FormatTimestamp(d->micros);
        if (const auto* j = std::get_if<query::Json>(&v)) line += j->text;
        if (const auto* i = std::get_if<int64_t>(&v)) line += std::to_string(*i);
        if (std::holds_alternative<std::monostate>(v)) line += "null";
      }
      out.push_back(line);
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> Names(std::string_view text) {
    query::QueryOptions options;
    options.clock = &clock_;
    CollectingSink sink;
    KQ_RETURN_IF_ERROR(query::RunQuery(*readers_, text, options, sink, nullptr));
    std::vector<std::string> out;
    for (const query::Row& r : sink.rows_) out.push_back(std::get<std::string>(r[0]));
    return out;
  }

  TempDir dir_;
  std::string archive_root_ = dir_.Sub("archive");
  FakeClock clock_{kD0 + kDay / 2};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<server::StoreReaderFactory> readers_;
};

TEST_F(ArchiveQueryTest, ArchivedEventsQueriedFromTheArchiveEqualTheOriginals) {
  const std::string kDeletesInA = R"(| where verb == "delete" and ns == "a" | count)";
  // Before: in the store, nothing archived yet.
  EXPECT_THAT(Count("events(\"prod\") " + kDeletesInA), Holds(6));
  EXPECT_THAT(Count("archive(\"prod\") | count"), Holds(0));
  EXPECT_THAT(Count(R"(events("prod") | where isnull(cluster) | count)"), Holds(36));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> originals,
                       Rows(R"(events("prod") | where ns == "a")"));
  ASSERT_EQ(originals.size(), 12u);

  RunRetention();
  EXPECT_THAT(Count("events(\"prod\") | count"), Holds(0));
  // Whole events, every default column and the event JSON, equal the originals.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> archived,
                       Rows(R"(archive("prod") | where ns == "a")"));
  EXPECT_EQ(archived, originals);
  // No cluster: null, as in the store, in filters too.
  EXPECT_THAT(Count(R"(archive("prod") | where isnull(cluster) | count)"), Holds(36));
  EXPECT_THAT(Count("archive(\"prod\") " + kDeletesInA), Holds(6));
  EXPECT_THAT(Count("archive(\"prod\") | count"), Holds(36));
  EXPECT_THAT(Count(R"(archive("prod") | where ns == "" and name == "s3" | count)"), Holds(3));
  // The store's query path and the archive's agree on order too: newest first across days.
  EXPECT_THAT(Names(R"(archive("prod") | where ns == "b" | top 2 by time desc | project name)"),
              Holds(::testing::ElementsAre("s3", "s2")));
}

TEST_F(ArchiveQueryTest, TimeFilterOnTheFakeClockAndExplainShowsPartsPruned) {
  RunRetention();  // now is day 100
  // ago(99d) = kD0 + 1 day; time > it: day 1 without its first event (3 per namespace) and
  // all of day 2 (4 per namespace), in 3 namespaces.
  EXPECT_THAT(Count("archive(\"prod\") | where time > ago(99d) | count"), Holds(21));
  EXPECT_THAT(Count(R"(archive("prod") | where time > ago(99d) and ns == "a" | count)"), Holds(7));

  query::QueryOptions options;
  options.clock = &clock_;
  ASSERT_OK_AND_ASSIGN(
      std::string plan,
      query::Explain(*readers_, R"(archive("prod") | where time > ago(99d) and ns == "a" | count)",
                     options));
  // 9 partitions of one part each; only ns=a of days 1 and 2 are read.
  EXPECT_THAT(plan, HasSubstr("environment: prod (archive)"));
  EXPECT_THAT(plan, HasSubstr("archive parts: 9 listed, 7 pruned"));
  EXPECT_THAT(plan, HasSubstr(", 2 read"));
}

TEST_F(ArchiveQueryTest, AnAlteredPartFailsTheQueryAndUnknownEnvironmentsAreRefused) {
  RunRetention();
  std::string part = PartitionDir(archive_root_, "prod", kD0, "a") + "/part-1.jsonl.zst";
  ASSERT_TRUE(std::filesystem::exists(part));
  {
    std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
    std::streamoff middle = static_cast<std::streamoff>(std::filesystem::file_size(part) / 2);
    f.seekg(middle);
    char c = static_cast<char>(f.get());
    f.seekp(middle);
    f.put(static_cast<char>(c ^ 0x01));
  }
  EXPECT_THAT(Count("archive(\"prod\") | count"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("altered")));
  // Pruned away, the altered part is not read.
  EXPECT_THAT(Count(R"(archive("prod") | where ns == "b" | count)"), Holds(12));
  EXPECT_THAT(Count("archive(\"staging\") | count"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("staging")));
}

TEST(ArchiveSourceTest, AFactoryWithoutArchivesSaysSo) {
  class NoArchives : public query::ReaderFactory {
   public:
    absl::StatusOr<std::unique_ptr<storage::Reader>> Open(std::string_view) override {
      return absl::NotFoundError("none");
    }
  };
  NoArchives readers;
  CollectingSink sink;
  EXPECT_THAT(query::RunQuery(readers, R"(archive("prod") | count)", {}, sink, nullptr),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("archive(\"prod\")")));
}

}  // namespace
}  // namespace kq::retention
