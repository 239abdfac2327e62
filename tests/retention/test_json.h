// A tiny JSON reader for tests that read the conformance suites under corpus/conformance.
// simdjson is storage-only and retention must not depend on storage's decoder to read its
// own expectations, so tests parse those files with this ~150-line reader instead.
//
// Every value keeps its raw source text (`raw`), so a test can splice an object from the file
// into a YAML flow document unchanged (JSON is valid YAML).
#ifndef KQ_TESTS_RETENTION_TEST_JSON_H_
#define KQ_TESTS_RETENTION_TEST_JSON_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kq::testing {

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string str;  // unescaped, for kString
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
  std::string raw;  // the value's text as written

  bool IsNull() const { return kind == Kind::kNull; }
  // The member `key` of an object, or nullptr.
  const Json* Find(std::string_view key) const;
  // The member `key`; a shared null value when absent (so chains never crash).
  const Json& operator[](std::string_view key) const;
  // String items of an array (non-strings are skipped); empty for null.
  std::vector<std::string> Strings() const;
};

[[nodiscard]] absl::StatusOr<Json> ParseJson(std::string_view text);

}  // namespace kq::testing

#endif  // KQ_TESTS_RETENTION_TEST_JSON_H_
