// The in-memory reader Tail uses, driven through the real query engine.
#include "server/memory_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/decoder.h"
#include "tests/server/test_events.h"
#include "tests/testing/collecting_sink.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::kq::testing::CollectingSink;

class MemoryReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    options.memory_budget_bytes = 32ull << 20;
    ASSERT_OK_AND_ASSIGN(store_, storage::Store::Open(options));
    storage::Decoder decoder;
    struct Spec {
      const char* id;
      int second;
      const char* ns;
      const char* verb;
      const char* env;
    };
    // Out of time order on purpose; two in dev.
    const Spec specs[] = {{"m1", 30, "team-a", "get", "prod"},
                          {"m2", 10, "team-b", "delete", "prod"},
                          {"m3", 20, "team-b", "get", "prod"},
                          {"m4", 5, "team-a", "delete", "dev"},
                          {"m5", 40, "team-c", "list", "prod"}};
    for (const auto& s : specs) {
      storage::Event e;
      ASSERT_OK(decoder.DecodeEvent(testing::MakeEventJson(s.id, s.second, s.ns, s.verb), &e));
      e.env = s.env;
      e.cluster = "c1";
      events_.push_back(std::move(e));
    }
  }

  std::vector<query::Row> Run(const std::string& text) {
    MemoryReaderFactory readers(store_.get(), events_);
    CollectingSink sink;
    query::QueryOptions options;
    absl::Status s = query::RunQuery(readers, text, options, sink, nullptr);
    EXPECT_OK(s) << text;
    return sink.rows_;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::vector<storage::Event> events_;
};

TEST_F(MemoryReaderTest, FiltersOnDictionaryColumnsPerEnvironment) {
  EXPECT_EQ(Run("events | where verb == \"delete\"").size(), 1u);  // m2 (m4 is dev)
  EXPECT_EQ(Run("events(\"dev\") | where verb == \"delete\"").size(), 1u);
  EXPECT_EQ(Run("events | where ns == \"team-b\"").size(), 2u);
  EXPECT_EQ(Run("events | where ns == \"team-b\" and verb == \"get\"").size(), 1u);
  EXPECT_EQ(Run("events | where user == \"alice\"").size(), 4u);
  EXPECT_EQ(Run("events | where cluster == \"c1\"").size(), 4u);
}

TEST_F(MemoryReaderTest, BatchesByNamespaceRowsInTimeOrderWithTheirJson) {
  std::vector<query::Row> rows = Run("events");
  ASSERT_EQ(rows.size(), 4u);
  std::vector<std::string> ids;
  for (const auto& row : rows) {
    const auto* json = std::get_if<query::Json>(&row.back());
    ASSERT_NE(json, nullptr);
    size_t at = json->text.find("\"auditID\":\"");
    ASSERT_NE(at, std::string::npos);
    ids.push_back(json->text.substr(at + 11, 2));
  }
  // All four fall in one hour bucket, so batches come by namespace (team-a: m1; team-b: m2 at
  // :10, m3 at :20; team-c: m5), rows in time order within each, as storage::Reader promises.
  EXPECT_EQ(ids, (std::vector<std::string>{"m1", "m2", "m3", "m5"}));
}

TEST_F(MemoryReaderTest, UnknownEnvironmentIsNotFound) {
  MemoryReaderFactory readers(store_.get(), events_);
  EXPECT_THAT(readers.Open("staging").status(),
              testing::StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("staging")));
}

}  // namespace
}  // namespace kq::server
