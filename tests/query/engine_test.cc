// RunQuery and Explain against a real Store: the planner-pruned path against an independent
// oracle and against an unpruned scan (differential), needles, top-N early stop, explain,
// and the limits (rows, deadline, cancellation, errors before any read).
#include "query/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "query/store_readers.h"
#include "query/value.h"
#include "storage/store.h"
#include "tests/testing/collecting_sink.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::query {
namespace {

using ::kq::testing::CollectingSink;

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

// Counts Open() calls, to prove that bad queries fail before any data is touched.
class CountingReaders : public ReaderFactory {
 public:
  explicit CountingReaders(ReaderFactory* inner) : inner_(inner) {}
  absl::StatusOr<std::unique_ptr<storage::Reader>> Open(std::string_view env) override {
    ++opens;
    return inner_->Open(env);
  }
  int opens = 0;

 private:
  ReaderFactory* inner_;
};

constexpr TimeMicros kStart = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z

const char* kNamespaces[] = {"team-a", "team-b", "kube-system", "payments", ""};
const char* kVerbs[] = {"get", "list", "create", "delete", "patch"};
const char* kUsers[] = {"alice",          "bob",    "carol", "system:serviceaccount:ci:deployer",
                        "system:node:n1", "mallory"};
const char* kResources[] = {"pods", "secrets", "configmaps", "deployments"};

storage::Event MakeEvent(int i, std::mt19937& rng, int hours = 72) {
  auto pick = [&](auto& arr) { return arr[rng() % std::size(arr)]; };
  storage::Event e;
  e.level = "Metadata";
  e.audit_id = absl::StrCat("id-", i);
  e.stage = "ResponseComplete";
  e.verb = pick(kVerbs);
  e.user.username = pick(kUsers);
  e.user.groups = std::vector<std::string>{"system:authenticated"};
  if (rng() % 4 == 0) e.user.groups->push_back("system:masters");
  e.source_ips = std::vector<std::string>{absl::StrCat("10.0.0.", rng() % 5)};
  storage::ObjectRef ref;
  ref.resource = pick(kResources);
  std::string ns = pick(kNamespaces);
  if (!ns.empty()) ref.ns = ns;
  ref.name = absl::StrCat("obj-", rng() % 20);
  e.object_ref = ref;
  e.request_uri = absl::StrCat("/api/v1/", *ref.resource);
  static const int kCodes[] = {200, 201, 403, 404, 0};
  int code = kCodes[rng() % std::size(kCodes)];
  if (code != 0) {
    e.code = code;
    e.response_status = absl::StrCat("{\"metadata\":{},\"code\":", code, "}");
  }
  e.request_received_time = kStart + static_cast<TimeMicros>(rng() % (hours * 3600)) * 1'000'000;
  e.request_received_timestamp = FormatTimestamp(e.request_received_time);
  e.stage_time = e.request_received_time + 1000;
  e.stage_timestamp = FormatTimestamp(e.stage_time);
  return e;
}

// A random predicate: its query text and an oracle evaluating it on an Event.
struct Pred {
  std::string text;
  std::function<bool(const storage::Event&)> eval;
};

Pred RandomAtom(std::mt19937& rng) {
  auto pick = [&](auto& arr) { return std::string(arr[rng() % std::size(arr)]); };
  switch (rng() % 9) {
    case 0: {
      TimeMicros t = kStart + static_cast<TimeMicros>(rng() % (80 * 3600)) * 1'000'000;
      bool greater = rng() % 2 == 0;
      return {absl::StrCat("time ", greater ? ">=" : "<", " datetime(", FormatTimestamp(t), ")"),
              [t, greater](const storage::Event& e) {
                return greater ? e.request_received_time >= t : e.request_received_time < t;
              }};
    }
    case 1: {
      std::string ns = pick(kNamespaces);
      return {absl::StrCat("ns == \"", ns, "\""),
              [ns](const storage::Event& e) { return e.Namespace() == ns; }};
    }
    case 2: {
      std::string a = pick(kNamespaces), b = pick(kNamespaces);
      return {absl::StrCat("ns in (\"", a, "\", \"", b, "\")"),
              [a, b](const storage::Event& e) { return e.Namespace() == a || e.Namespace() == b; }};
    }
    case 3: {
      std::string v = pick(kVerbs);
      return {absl::StrCat("verb == \"", v, "\""),
              [v](const storage::Event& e) { return e.verb == v; }};
    }
    case 4: {
      std::string u = pick(kUsers);
      return {absl::StrCat("user == \"", u, "\""),
              [u](const storage::Event& e) { return e.user.username == u; }};
    }
    case 5: {
      static const int kCodes[] = {200, 201, 403, 404};
      int c = kCodes[rng() % 4];
      return {absl::StrCat("code == ", c),
              [c](const storage::Event& e) { return e.code && *e.code == c; }};
    }
    case 6: {
      std::string name = absl::StrCat("obj-", rng() % 20);
      return {absl::StrCat("name == \"", name, "\""),
              [name](const storage::Event& e) { return e.Name() == name; }};
    }
    case 7:
      return {"user.groups[*] == \"system:masters\"", [](const storage::Event& e) {
                const auto& g = *e.user.groups;
                return std::find(g.begin(), g.end(), "system:masters") != g.end();
              }};
    default: {
      std::string r = pick(kResources);
      return {absl::StrCat("resource startswith \"", r.substr(0, 3), "\""),
              [r](const storage::Event& e) { return e.Resource().rfind(r.substr(0, 3), 0) == 0; }};
    }
  }
}

Pred RandomPred(std::mt19937& rng, int depth) {
  if (depth == 0 || rng() % 3 == 0) return RandomAtom(rng);
  Pred a = RandomPred(rng, depth - 1), b = RandomPred(rng, depth - 1);
  switch (rng() % 3) {
    case 0:
      return {absl::StrCat("(", a.text, " and ", b.text, ")"),
              [a, b](const storage::Event& e) { return a.eval(e) && b.eval(e); }};
    case 1:
      return {absl::StrCat("(", a.text, " or ", b.text, ")"),
              [a, b](const storage::Event& e) { return a.eval(e) || b.eval(e); }};
    default:
      return {absl::StrCat("not ", a.text), [a](const storage::Event& e) { return !a.eval(e); }};
  }
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.data_dir = dir_.path().string();
    options.durability = storage::Durability::kBuffered;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(store_, storage::Store::Open(options));
    readers_ = std::make_unique<StoreReaders>(store_.get());
  }

  // `hours`: the events' times spread over that many hours from kStart.
  void Load(int n, bool flush_half, int hours = 72) {
    std::mt19937 rng(42);
    for (int i = 0; i < n; ++i) events_.push_back(MakeEvent(i, rng, hours));
    storage::Environment* env = store_->Find("prod");
    size_t half = events_.size() / 2;
    storage::AppendResult result;
    ASSERT_OK(env->Append(std::span(events_).subspan(0, half), &result));
    if (flush_half) {
      ASSERT_OK(env->Flush());
    }
    ASSERT_OK(env->Append(std::span(events_).subspan(half), &result));
  }

  std::vector<std::string> Ids(const std::string& query, QueryStats* stats = nullptr) {
    CollectingSink sink;
    QueryOptions options;
    options.clock = &clock_;
    absl::Status s = RunQuery(*readers_, query, options, sink, stats);
    EXPECT_OK(s) << query;
    std::vector<std::string> ids;
    for (const Row& r : sink.rows_) ids.push_back(std::get<std::string>(r.at(0)));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  testing::TempDir dir_;
  FakeClock clock_{kStart + 4 * kMicrosPerDay};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StoreReaders> readers_;
  std::vector<storage::Event> events_;
};

TEST_F(EngineTest, RandomFiltersMatchOracleAndUnprunedScan) {
  Load(3000, true);
  std::mt19937 rng(7);
  for (int round = 0; round < 150; ++round) {
    Pred p = RandomPred(rng, 3);
    SCOPED_TRACE(p.text);
    std::vector<std::string> want;
    for (const storage::Event& e : events_) {
      if (p.eval(e)) want.push_back(e.audit_id);
    }
    std::sort(want.begin(), want.end());
    // `or false` hides every conjunct from the planner: a full scan with no hints.
    std::vector<std::string> pruned = Ids("events | where " + p.text + " | project auditID");
    std::vector<std::string> full =
        Ids("events | where (" + p.text + ") or false | project auditID");
    ASSERT_EQ(pruned, want);
    ASSERT_EQ(full, want);
  }
}

// Grouped counts equal an oracle over the events, whether a batch is counted in a dense array
// (few key tuples, enough rows) or by hashing, with and without a filter before.
TEST_F(EngineTest, SummarizeCountsMatchOracle) {
  Load(6000, true, /*hours=*/2);  // hundreds of rows per (hour, namespace) segment
  auto opt = [](const std::optional<std::string>& s) { return s ? *s : std::string("null"); };
  auto code = [](const storage::Event& e) {
    return e.code ? std::to_string(*e.code) : std::string("null");
  };
  auto bin = [](TimeMicros t, TimeMicros span) {
    TimeMicros r = t % span;
    return std::to_string(t - (r < 0 ? r + span : r));
  };
  struct Case {
    std::string keys;
    std::function<std::string(const storage::Event&)> key;
  };
  std::vector<Case> cases = {
      {"verb, user", [&](const storage::Event& e) { return e.verb + "|" + opt(e.user.username); }},
      {"bin(time, 1h), code",
       [&](const storage::Event& e) {
         return bin(e.request_received_time, kMicrosPerHour) + "|" + code(e);
       }},
      {"ns, code", [&](const storage::Event& e) { return opt(e.object_ref->ns) + "|" + code(e); }},
      {"code", [&](const storage::Event& e) { return code(e); }},
      // Time bins: from the rows where each bin starts (12 edges per hour bucket), with a span
      // that does not divide the hour, and from the time column (3,600 edges: too many).
      {"bin(time, 5m)",
       [&](const storage::Event& e) { return bin(e.request_received_time, 5 * kMicrosPerMinute); }},
      {"bin(time, 7m), verb",
       [&](const storage::Event& e) {
         return bin(e.request_received_time, 7 * kMicrosPerMinute) + "|" + e.verb;
       }},
      {"bin(time, 1s)",
       [&](const storage::Event& e) { return bin(e.request_received_time, kMicrosPerSecond); }},
      {"bin(time, 1d)",
       [&](const storage::Event& e) { return bin(e.request_received_time, kMicrosPerDay); }},
  };
  auto cell = [](const Value& v) -> std::string {
    if (IsNull(v)) return "null";
    if (const auto* d = std::get_if<Datetime>(&v)) return std::to_string(d->micros);
    return ToText(v);
  };
  std::mt19937 rng(11);
  for (size_t round = 0; round < 4 * cases.size(); ++round) {
    const Case& c = cases[round % cases.size()];
    Pred p = round < cases.size() ? Pred{"true", [](const storage::Event&) { return true; }}
                                  : RandomPred(rng, 1);
    std::string query =
        absl::StrCat("events | where ", p.text, " | summarize n = count() by ", c.keys);
    SCOPED_TRACE(query);
    std::map<std::string, int64_t> want, got;
    for (const storage::Event& e : events_) {
      if (p.eval(e)) ++want[c.key(e)];
    }
    CollectingSink sink;
    QueryOptions options;
    options.clock = &clock_;
    ASSERT_OK(RunQuery(*readers_, query, options, sink, nullptr));
    for (const Row& r : sink.rows_) {
      std::string key;
      for (size_t i = 0; i + 1 < r.size(); ++i) key += (i > 0 ? "|" : "") + cell(r[i]);
      ASSERT_TRUE(got.emplace(key, std::get<int64_t>(r.back())).second) << "group twice: " << key;
    }
    ASSERT_EQ(got, want);
  }
}

TEST_F(EngineTest, NeedleLookupsMatchScans) {
  Load(1000, true);
  for (const char* id : {"id-0", "id-499", "id-500", "id-999"}) {
    EXPECT_EQ(Ids(absl::StrCat("events | where auditID == \"", id, "\" | project auditID")),
              std::vector<std::string>{id});
  }
  std::vector<std::string> want;
  for (const auto& e : events_) {
    if (e.Name() == "obj-3" && e.verb == "delete") want.push_back(e.audit_id);
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Ids("events | where name == \"obj-3\" and verb == \"delete\" | project auditID"), want);
}

TEST_F(EngineTest, TopByTimeStopsEarlyAndIsExact) {
  Load(3000, true);
  std::vector<const storage::Event*> sorted;
  for (const auto& e : events_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
    return a->request_received_time > b->request_received_time;
  });
  std::vector<std::string> want;
  for (int i = 0; i < 5; ++i) want.push_back(sorted[i]->audit_id);
  std::sort(want.begin(), want.end());
  QueryStats stats;
  EXPECT_EQ(Ids("events | sort by time desc | take 5 | project auditID", &stats), want);
  // 72 hourly buckets: the newest few are enough.
  EXPECT_LT(stats.rows_scanned, events_.size() / 4);

  std::vector<std::string> oldest;
  for (int i = 0; i < 5; ++i) oldest.push_back(sorted[sorted.size() - 1 - i]->audit_id);
  std::sort(oldest.begin(), oldest.end());
  EXPECT_EQ(Ids("events | top 5 by time asc | project auditID", &stats), oldest);
  EXPECT_LT(stats.rows_scanned, events_.size() / 4);
}

TEST_F(EngineTest, TopByTimeOverALookup) {
  Load(3000, true);
  std::vector<const storage::Event*> named;
  for (const auto& e : events_) {
    if (e.Name() == "obj-7") named.push_back(&e);
  }
  std::stable_sort(named.begin(), named.end(), [](auto* a, auto* b) {
    return a->request_received_time > b->request_received_time;
  });
  std::vector<std::string> want;
  for (int i = 0; i < 3; ++i) want.push_back(named[i]->audit_id);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Ids("events | where name == \"obj-7\" | sort by time desc | take 3 | project auditID"),
            want);
}

TEST_F(EngineTest, ExplainShowsThePlan) {
  Load(1000, true);
  QueryOptions options;
  options.clock = &clock_;
  ASSERT_OK_AND_ASSIGN(
      std::string plan,
      Explain(*readers_,
              "events | where time >= datetime(2026-11-02) and ns == \"team-a\" and verb in "
              "(\"get\", \"list\") | summarize count() by user",
              options));
  EXPECT_THAT(plan, HasSubstr("time: 2026-11-02T00:00:00.000000Z .. +inf"));
  EXPECT_THAT(plan, HasSubstr("namespaces: \"team-a\""));
  EXPECT_THAT(plan, HasSubstr("prune by summaries: verb in (\"get\", \"list\")"));
  EXPECT_THAT(plan, HasSubstr("summarize (on column batches) -> user, count_"));
  EXPECT_THAT(plan, HasSubstr("segments: "));

  ASSERT_OK_AND_ASSIGN(plan, Explain(*readers_, "events | where auditID == \"id-7\"", options));
  EXPECT_THAT(plan, HasSubstr("lookup: auditID == \"id-7\" (index, no scan)"));

  ASSERT_OK_AND_ASSIGN(plan, Explain(*readers_, "events | where user == \"nobody\"", options));
  EXPECT_THAT(plan, ::testing::ContainsRegex("segments: [1-9][0-9]* in range, [1-9][0-9]* pruned"));

  ASSERT_OK_AND_ASSIGN(plan,
                       Explain(*readers_, "events | where ns == \"a\" and ns == \"b\"", options));
  EXPECT_THAT(plan, HasSubstr("read nothing"));
}

TEST_F(EngineTest, Limits) {
  Load(100, false);
  QueryOptions options;
  options.clock = &clock_;
  CollectingSink sink;
  options.max_rows = 10;
  EXPECT_THAT(RunQuery(*readers_, "events | project auditID", options, sink, nullptr),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("more than 10 rows")));
  EXPECT_EQ(sink.rows_.size(), 10u);
  EXPECT_OK(RunQuery(*readers_, "events | take 10", options, sink, nullptr));

  options.max_rows = 1'000'000;
  options.deadline = clock_.Now() - 1;
  EXPECT_THAT(RunQuery(*readers_, "events | count", options, sink, nullptr),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));

  options.deadline = INT64_MAX;
  std::atomic<bool> cancelled{true};
  options.cancelled = &cancelled;
  EXPECT_THAT(RunQuery(*readers_, "events | count", options, sink, nullptr),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("cancelled")));
}

TEST_F(EngineTest, ErrorsComeBeforeAnyRead) {
  Load(10, false);
  CountingReaders counting(readers_.get());
  QueryOptions options;
  options.clock = &clock_;
  CollectingSink sink;
  for (const char* bad : {"events | where vrb == 1", "events | where", "events | take -1",
                          "events | summarize count() by nosuch(user)"}) {
    EXPECT_THAT(RunQuery(counting, bad, options, sink, nullptr),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1, column")))
        << bad;
  }
  EXPECT_EQ(counting.opens, 0);
  EXPECT_THAT(RunQuery(counting, "events(\"nope\") | count", options, sink, nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no environment 'nope'")));
}

TEST_F(EngineTest, StatsAndSchema) {
  Load(200, true);
  CollectingSink sink;
  QueryOptions options;
  options.clock = &clock_;
  QueryStats stats;
  ASSERT_OK(RunQuery(*readers_, "events | summarize n = count(), u = dcount(user) by verb", options,
                     sink, &stats));
  ASSERT_EQ(sink.columns_.size(), 3u);
  EXPECT_EQ(sink.columns_[0].name, "verb");
  EXPECT_EQ(sink.columns_[0].type, ValueType::kString);
  EXPECT_EQ(sink.columns_[1].type, ValueType::kInt);
  int64_t total = 0;
  for (const Row& r : sink.rows_) total += std::get<int64_t>(r[1]);
  EXPECT_EQ(total, 200);
  EXPECT_EQ(stats.rows_scanned, 200u);
  EXPECT_EQ(stats.rows_returned, sink.rows_.size());

  CollectingSink events;
  ASSERT_OK(RunQuery(*readers_, "events | where auditID == \"id-5\"", options, events, &stats));
  ASSERT_EQ(events.columns_.back().name, "_event");
  EXPECT_EQ(events.columns_.back().type, ValueType::kEvent);
  ASSERT_EQ(events.rows_.size(), 1u);
  EXPECT_THAT(std::get<Json>(events.rows_[0].back()).text, HasSubstr("\"auditID\":\"id-5\""));
}

}  // namespace
}  // namespace kq::query
