#include "query/binder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "query/parser.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::query {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<BoundQuery> ParseAndBind(std::string_view text) {
  absl::StatusOr<Query> q = Parse(text);
  if (!q.ok()) return q.status();
  return Bind(*q, text, "prod");
}

TEST(BinderTest, OutputSchemas) {
  ASSERT_OK_AND_ASSIGN(BoundQuery q, ParseAndBind("events(\"dev\") | summarize n = count(), "
                                                  "avg(code), make_set(verb) by user, "
                                                  "bin(time, 5m)"));
  EXPECT_EQ(q.env, "dev");
  ASSERT_EQ(q.output.columns.size(), 5u);
  EXPECT_EQ(q.output.columns[0].name, "user");
  EXPECT_EQ(q.output.columns[1].name, "time");
  EXPECT_EQ(q.output.columns[1].type, ValueType::kDatetime);
  EXPECT_EQ(q.output.columns[2].type, ValueType::kInt);
  EXPECT_EQ(q.output.columns[3].name, "avg_code");
  EXPECT_EQ(q.output.columns[3].type, ValueType::kDouble);
  EXPECT_EQ(q.output.columns[4].name, "set_verb");
  EXPECT_EQ(q.output.columns[4].type, ValueType::kDynamic);

  ASSERT_OK_AND_ASSIGN(q, ParseAndBind("events | where verb == \"get\""));
  EXPECT_EQ(q.env, "prod");
  EXPECT_EQ(q.output.columns.back().name, "_event");
  EXPECT_EQ(q.output.columns.back().type, ValueType::kEvent);
  EXPECT_EQ(q.output.event_column, static_cast<int>(q.output.columns.size()) - 1);

  ASSERT_OK_AND_ASSIGN(q, ParseAndBind("events | project a = 1, a = 2, strlen(user)"));
  EXPECT_EQ(q.output.columns[0].name, "a");
  EXPECT_EQ(q.output.columns[1].name, "a1");
  EXPECT_EQ(q.output.columns[2].name, "Column1");
}

TEST(BinderTest, TypeErrors) {
  EXPECT_THAT(
      ParseAndBind("events | where code + \"x\" > 1"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot apply + to int and string")));
  EXPECT_THAT(ParseAndBind("events | where bin(time, 5) > now()"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("argument 2 of bin() must be a timespan")));
  EXPECT_THAT(
      ParseAndBind("events | where extract(verb, 1, user) == \"\""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("extract() needs a constant regex")));
  EXPECT_THAT(ParseAndBind("events | where extract(\"(a)\", 2, user) == \"\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only 1 capture group")));
  EXPECT_THAT(
      ParseAndBind("events | where strlen(user, 1) > 0"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("strlen() takes 1 argument, not 2")));
  EXPECT_THAT(ParseAndBind("events | where any(verb, $ == \"x\")"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("any() needs an array")));
  EXPECT_THAT(ParseAndBind("events | where user.usrname == \"x\""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown field of user 'usrname'; did you mean 'username'?")));
  EXPECT_THAT(ParseAndBind("events | where nss == \"x\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("did you mean 'ns'?")));
  EXPECT_THAT(ParseAndBind("events | project n = count()"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is an aggregate")));
  EXPECT_THAT(ParseAndBind("events | summarize n = count() by user | sort by usr"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown column 'usr'; did you mean 'user'?")));
  EXPECT_THAT(ParseAndBind("events | project user | where decision == \"allow\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown column 'decision'")));
}

TEST(BinderTest, EventFieldsStayReachableUntilProjected) {
  EXPECT_OK(
      ParseAndBind("events | take 5 | where stage == \"ResponseComplete\" and "
                   "requestObject.spec.hostNetwork == true | project-away user"));
  EXPECT_OK(
      ParseAndBind("events | sort by time asc | dedup by auditID | extend x = strlen(name) "
                   "| where x > 3 and annotations[\"a/b\"] == \"c\""));
}

// Every query shown in the language reference parses and binds.
TEST(BinderTest, DocumentationExamples) {
  std::string doc = testing::ReadFileOrDie(testing::SourceDir() / "docs/query-language.md");
  int checked = 0;
  bool in_code = false;
  std::string query;
  auto finish = [&] {
    if (query.rfind("events", 0) == 0) {
      EXPECT_OK(ParseAndBind(query)) << query;
      ++checked;
    }
    query.clear();
  };
  for (absl::string_view line : absl::StrSplit(doc, '\n')) {
    if (line.substr(0, 3) == "```") {
      finish();
      in_code = !in_code;
      continue;
    }
    if (!in_code) continue;
    std::string l(line);
    if (l.empty()) {
      finish();
      continue;
    }
    if (l.rfind("//", 0) == 0) continue;
    if (!query.empty() && l.rfind("events", 0) == 0) finish();
    query += l + "\n";
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace kq::query
