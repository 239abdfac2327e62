// GoogleTest matchers and macros for absl::Status (abseil 20220623 ships none).
//   EXPECT_THAT(store->Append(...), IsOk());
//   EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
//   ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options));
#ifndef KQ_TESTS_TESTING_STATUS_MATCHERS_H_
#define KQ_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kq::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::kq::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = ::kq::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(s.message().data(), s.message().size()), result_listener);
}

}  // namespace kq::testing

#define KQ_TESTING_CONCAT_INNER_(a, b) a##b
#define KQ_TESTING_CONCAT_(a, b) KQ_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::kq::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::kq::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(KQ_TESTING_CONCAT_(kq_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // KQ_TESTS_TESTING_STATUS_MATCHERS_H_
