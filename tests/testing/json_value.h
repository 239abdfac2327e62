// A small, strict JSON parser for tests (RFC 8259), independent of the code under test:
// simdjson is storage-only, and tests must not read their expectations through the decoder they
// test. Used by the storage tests (round trips compared as JSON values), the generator tests
// (key order, field checks) and the retention tests (the policy conformance suites).
//
// A JsonValue keeps object members in document order, each value's source text (`raw`, so a
// test can splice an object from a file into another document unchanged), and compares by JSON
// value: object member order ignored, numbers compared by their text. Duplicate object keys,
// trailing commas, bad escapes, control characters in strings, leading zeros and the like are
// errors. Plain value type; thread-compatible.
#ifndef KQ_TESTS_TESTING_JSON_VALUE_H_
#define KQ_TESTS_TESTING_JSON_VALUE_H_

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kq::testing {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;                                    // kBool
  double number = 0;                                       // kNumber
  std::string str;                                         // kString, unescaped
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in document order
  std::string raw;                                         // the value's text as written

  bool IsNull() const { return kind == Kind::kNull; }
  // The member `key` of an object, or nullptr.
  const JsonValue* Find(std::string_view key) const;
  // The member `key`; a shared null value when absent (so chains never crash).
  const JsonValue& operator[](std::string_view key) const;
  // The string member `key`, or "" when absent or not a string.
  std::string_view Str(std::string_view key) const;
  // String items of an array (non-strings are skipped); empty for null.
  std::vector<std::string> Strings() const;

  // JSON-value equality: member order ignored, numbers by text ("2.50" != "2.5").
  bool operator==(const JsonValue& other) const;
  // Compact JSON (members in document order), for failure messages.
  std::string DebugString() const;
};

// Parses exactly one JSON value spanning all of `text` (surrounding whitespace allowed).
// InvalidArgument "JSON: <what> at offset N" otherwise.
[[nodiscard]] absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// For GoogleTest's messages.
void PrintTo(const JsonValue& value, std::ostream* os);

}  // namespace kq::testing

#endif  // KQ_TESTS_TESTING_JSON_VALUE_H_
