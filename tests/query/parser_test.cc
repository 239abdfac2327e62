#include "query/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "query/binder.h"
#include "tests/testing/status_matchers.h"

namespace kq::query {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

std::string Debug(std::string_view text) {
  absl::StatusOr<Query> q = Parse(text);
  if (!q.ok()) return "ERROR: " + std::string(q.status().message());
  return DebugString(*q);
}

std::string WhereDebug(std::string_view predicate) {
  absl::StatusOr<Query> q = Parse("events | where " + std::string(predicate));
  if (!q.ok()) return "ERROR: " + std::string(q.status().message());
  return DebugString(*std::get<Where>(q->ops.at(0).node).predicate);
}

TEST(ParserTest, GrammarHasNoCycles) { EXPECT_EQ(AnalyzeGrammar(), 0u); }

TEST(ParserTest, Precedence) {
  EXPECT_EQ(WhereDebug("a == 1 or b == 2 and c == 3"),
            "(or (== field:a int:1) (and (== field:b int:2) (== field:c int:3)))");
  EXPECT_EQ(WhereDebug("not a == 1 and b"), "(and (not (== field:a int:1)) field:b)");
  EXPECT_EQ(WhereDebug("a + b * c - d"), "(- (+ field:a (* field:b field:c)) field:d)");
  EXPECT_EQ(WhereDebug("(a or b) and c"), "(and (or field:a field:b) field:c)");
  EXPECT_EQ(WhereDebug("-x"), "(neg field:x)");
  EXPECT_EQ(WhereDebug("x > -5"), "(> field:x int:-5)");
  EXPECT_EQ(WhereDebug("x == --5"), "(== field:x int:5)");
}

TEST(ParserTest, Literals) {
  EXPECT_EQ(WhereDebug("x == \"a\\\"b\\n\""), "(== field:x str:\"a\\\"b\\n\")");
  EXPECT_EQ(WhereDebug("x == 'it''s'"),
            "ERROR: line 1, column 25: expected '|' and an operator, or the end of the query\n"
            "  events | where x == 'it''s'\n"
            "  " +
                std::string(24, ' ') + "^");
  EXPECT_EQ(WhereDebug("x matches regex @\"\\d+\""), "(matches regex field:x str:\"\\\\d+\")");
  EXPECT_EQ(WhereDebug("x == 1.5"), "(== field:x real:1.5)");
  EXPECT_EQ(WhereDebug("x == 2e3"), "(== field:x real:2000.0)");
  EXPECT_EQ(WhereDebug("x == true and y == false"),
            "(and (== field:x bool:true) (== field:y bool:false))");
  // 5m = 300 s, 1.5h = 5400 s, 500ms, 7d = 604800 s, 10us.
  EXPECT_EQ(WhereDebug("x in (5m, 1.5h, 500ms, 7d, 10us)"),
            "(in field:x ts:300000000us ts:5400000000us ts:500000us ts:604800000000us ts:10us)");
  // 2026-11-01 is day 20758 since the epoch (20758 * 86400 = 1793491200 s).
  EXPECT_EQ(WhereDebug("time > datetime(2026-11-01T00:00:00Z)"),
            "(> field:time dt:2026-11-01T00:00:00.000000Z)");
  EXPECT_EQ(WhereDebug("time > datetime(\"2026-11-01\")"),
            "(> field:time dt:2026-11-01T00:00:00.000000Z)");
}

TEST(ParserTest, Fields) {
  EXPECT_EQ(WhereDebug("objectRef.namespace == \"x\""), "(== field:objectRef.namespace str:\"x\")");
  EXPECT_EQ(WhereDebug("annotations[\"authorization.k8s.io/decision\"] == \"allow\""),
            "(== field:annotations[\"authorization.k8s.io/decision\"] str:\"allow\")");
  EXPECT_EQ(WhereDebug("sourceIPs[*] == \"10.0.0.1\""), "(== field:sourceIPs[*] str:\"10.0.0.1\")");
  EXPECT_EQ(WhereDebug("sourceIPs[0] == \"10.0.0.1\""), "(== field:sourceIPs[0] str:\"10.0.0.1\")");
  EXPECT_EQ(WhereDebug("requestObject.spec.containers[*].securityContext.privileged == true"),
            "(== field:requestObject.spec.containers[*].securityContext.privileged bool:true)");
  EXPECT_EQ(WhereDebug("[\"odd key\"].x == 1"), "(== field:[\"odd key\"].x int:1)");
  EXPECT_EQ(WhereDebug("any(requestObject.subjects, kind == \"ServiceAccount\" and $.namespace "
                       "== \"kube-system\")"),
            "(any field:requestObject.subjects (and (== field:kind str:\"ServiceAccount\") (== "
            "field:$.namespace str:\"kube-system\")))");
}

TEST(ParserTest, StringOperators) {
  EXPECT_EQ(WhereDebug("a has \"x\" or a !has_cs \"y\""),
            "(or (has field:a str:\"x\") (!has_cs field:a str:\"y\"))");
  EXPECT_EQ(WhereDebug("a contains_cs \"x\""), "(contains_cs field:a str:\"x\")");
  EXPECT_EQ(WhereDebug("a !startswith \"x\""), "(!startswith field:a str:\"x\")");
  EXPECT_EQ(WhereDebug("a endswith_cs \"x\""), "(endswith_cs field:a str:\"x\")");
  EXPECT_EQ(WhereDebug("a =~ \"x\" and b !~ \"y\""),
            "(and (=~ field:a str:\"x\") (!~ field:b str:\"y\"))");
  EXPECT_EQ(WhereDebug("a !in~ (\"x\", \"y\")"), "(!in~ field:a str:\"x\" str:\"y\")");
  EXPECT_EQ(WhereDebug("code !between (200 .. 299)"), "(!between field:code int:200 int:299)");
  EXPECT_EQ(WhereDebug("isnull(code)"), "(call isnull field:code)");
  EXPECT_EQ(WhereDebug("hasx == 1"), "(== field:hasx int:1)");
}

TEST(ParserTest, Operators) {
  EXPECT_EQ(Debug("events(\"dev\") | where verb == \"delete\" | project user, n = strlen(name) "
                  "| project-away n | extend x = 1 | summarize n = count(), dcount(user) by "
                  "verb, b = bin(time, 5m) | sort by n desc, verb asc | take 5 | limit 3 | top 2 "
                  "by n | distinct verb | count | dedup by auditID, stage"),
            "events(\"dev\")\n"
            "| where (== field:verb str:\"delete\")\n"
            "| project (_ field:user) (n (call strlen field:name))\n"
            "| project-away n\n"
            "| extend (x int:1)\n"
            "| summarize (n (call count)) (_ (call dcount field:user)) by (_ field:verb) (b "
            "(call bin field:time ts:300000000us))\n"
            "| sort by (field:n desc) (field:verb asc)\n"
            "| take 5\n"
            "| take 3\n"
            "| top 2 by (field:n desc)\n"
            "| distinct (_ field:verb)\n"
            "| count\n"
            "| dedup by field:auditID field:stage");
  EXPECT_EQ(Debug("events | summarize by verb"), "events\n| summarize by (_ field:verb)");
  EXPECT_EQ(Debug("archive ( \"prod\" ) | count"), "archive(\"prod\")\n| count");
  // A field named archive is still a field.
  EXPECT_EQ(Debug("events | where archive == 1"), "events\n| where (== field:archive int:1)");
  EXPECT_EQ(Debug("  events // all of them\n  | take 1 // one\n"), "events\n| take 1");
}

TEST(ParserTest, RoundTrip) {
  const char* queries[] = {
      "events",
      "events(\"dev\") | take 10",
      "archive(\"prod\") | where verb == \"delete\" | count",
      "archive | take 1",
      "events | where time > ago(24h) and verb == \"delete\" and resource == \"secrets\" | "
      "summarize n = count() by user, ns | sort by n desc | take 10",
      "events | where a == 1 or b == 2 and not c == 3",
      "events | where x == -5 and y == -1.25e-7 and z == -30s and w == 1500us",
      "events | where (a - (b - c)) == ((a - b) - c)",
      "events | where -(x) > 0 and not not y",
      "events | where name in~ (\"A\", \"b\") and code !in (401, 403) and code between (200 .. "
      "299) and code !between (1 .. 2)",
      "events | where user.groups[*] == \"system:masters\" and annotations[\"a.b/c\"] =~ \"x\"",
      "events | where any(requestObject.subjects, kind == \"ServiceAccount\" and $.namespace == "
      "\"kube-system\")",
      "events | where any(user.groups, $ startswith \"system:\")",
      "events | where requestURI matches regex \"^/api/v1/namespaces/[^/]+/pods\"",
      "events | where s == \"quote\\\" backslash\\\\ newline\\n tab\\t\"",
      "events | where [\"weird key\"][\"and\"].or == 1",
      "events | where x.and == 1",
      "events | where time between (datetime(2026-01-01) .. datetime(2026-01-02T03:04:05.5Z))",
      "events | project a = tolower(user), b = strlen(name) * 2 % 7, verb",
      "events | extend parts = split(requestURI, \"/\") | project-away parts, [\"odd name\"]",
      "events | summarize count(), c = countif(code >= 400), percentile(latency, 95), "
      "make_set(verb), arg_max(time, user) by bin(time, 1h), ns",
      "events | top 3 by time asc, user desc | distinct user, verb",
      "events | dedup by auditID | count",
      "events | where extract(\"command=([^&]+)\", 1, requestURI) has \"cat\"",
      "events | where isnotnull(code) and isnull(responseObject) and now() - time < 1d",
      "events | where a has_cs \"x\" and b !contains \"y\" and c endswith \"z\" and d !~ \"w\"",
  };
  for (const char* text : queries) {
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(Query q, Parse(text));
    std::string printed = ToString(q);
    ASSERT_OK_AND_ASSIGN(Query again, Parse(printed));
    EXPECT_EQ(DebugString(q), DebugString(again)) << printed;
    EXPECT_EQ(printed, ToString(again));
  }
}

TEST(ParserTest, ErrorsPointAtTheSpot) {
  EXPECT_THAT(Parse("events | where verb =="),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 1, column 23: expected an expression\n"
                       "  events | where verb ==\n"
                       "                        ^"));
  EXPECT_THAT(Parse("events\n| where verb = \"get\""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2, column 14: expected '|' and an operator, or the end "
                                 "of the query (to compare, write ==)\n"
                                 "  | where verb = \"get\"\n"
                                 "               ^")));
  EXPECT_THAT(Parse("events | frobnicate"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1, column 10: expected an operator (where, project")));
  EXPECT_THAT(Parse("evnts"), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("line 1, column 1: expected 'events'")));
  EXPECT_THAT(
      Parse("events | where verb == \"get"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 24: unterminated string")));
  EXPECT_THAT(Parse("events | where (a == 1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 23: expected ')'")));
  EXPECT_THAT(Parse("events | sort time"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 15: expected 'by'")));
  EXPECT_THAT(Parse("events | take many"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    HasSubstr("column 15: expected a row count")));
  EXPECT_THAT(Parse("events | where x matches \"a\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 'regex'")));
  EXPECT_THAT(Parse("events | where x between (1, 2)"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected '..'")));
  EXPECT_THAT(Parse("events | where time > datetime(yesterday)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column 32: invalid datetime 'yesterday'")));
  EXPECT_THAT(
      Parse("events | where x == 99999999999999999999"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("integer literal out of range")));
  EXPECT_THAT(Parse("events | where any(1, true)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("first argument of any() must be a field path")));
  EXPECT_THAT(
      Parse("events | where a.1 == 2"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a field name after '.'")));
  EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 1")));
}

TEST(ParserTest, Limits) {
  std::string deep = "events | where " + std::string(40, '(') + "x" + std::string(40, ')');
  EXPECT_THAT(Parse(deep), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("nests parentheses or brackets too deeply")));
  std::string ok = "events | where " + std::string(30, '(') + "x" + std::string(30, ')');
  EXPECT_TRUE(Parse(ok).ok());

  std::string chain = "events | where x == 0";
  for (int i = 0; i < 200; ++i) chain += " and x == 0";
  EXPECT_THAT(Parse(chain), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("expression nested too deeply")));
  std::string nots = "events | where ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_THAT(Parse(nots + "x"), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("expression nested too deeply")));

  std::string huge = "events | where x == \"" + std::string(70000, 'a') + "\"";
  EXPECT_THAT(Parse(huge),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the limit is 65536")));
}

// Mutations of valid queries (deleted, duplicated, swapped and random bytes) never crash the
// parser: each gives a query or an InvalidArgument with a position.
TEST(ParserTest, MutatedQueriesNeverCrash) {
  const std::string seeds[] = {
      "events | where time > ago(24h) and verb == \"delete\" | summarize n = count() by user",
      "events(\"dev\") | where any(requestObject.subjects, kind == \"User\") | top 5 by time",
      "events | where a[\"x\"][*] in~ (\"a\", 'b') and c between (1 .. 2.5e3) | project-away "
      "x",
      "events | extend c = extract(@\"(\\d+)\", 1, requestURI) | dedup by c | sort by c asc"};
  const char kAlphabet[] = "()[]{}|.,=!~<>\"'@$*-+/%\\ \n\tabc019_";
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q = seeds[next() % std::size(seeds)];
    for (int m = 1 + next() % 4; m > 0 && !q.empty(); --m) {
      size_t at = next() % q.size();
      switch (next() % 4) {
        case 0:
          q.erase(at, 1 + next() % 5);
          break;
        case 1:
          q.insert(at, 1, kAlphabet[next() % (sizeof(kAlphabet) - 1)]);
          break;
        case 2:
          q.insert(at, q.substr(next() % q.size(), next() % 8));
          break;
        default:
          q[at] = static_cast<char>(next() % 256);
          break;
      }
    }
    absl::StatusOr<Query> parsed = Parse(q);
    if (parsed.ok()) {
      ASSERT_OK_AND_ASSIGN(Query again, Parse(ToString(*parsed)));
      EXPECT_EQ(DebugString(*parsed), DebugString(again)) << q;
      absl::StatusOr<BoundQuery> bound = Bind(*parsed, q, "prod");
      EXPECT_TRUE(bound.ok() || bound.status().code() == absl::StatusCode::kInvalidArgument);
    } else {
      ++errors;
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(errors, 1000);
}

}  // namespace
}  // namespace kq::query
