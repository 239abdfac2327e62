// Small helpers shared by the end-to-end tests.
#ifndef KQ_TESTS_E2E_E2E_UTIL_H_
#define KQ_TESTS_E2E_E2E_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/testing/temp_dir.h"

namespace kq::testing {

// The path of a built binary: build/bin/<name>.
inline std::string Bin(const char* name) { return (BinDir() / name).string(); }

// The non-empty lines of `text`.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

// The value of "auditID" in an event's JSON text (the generator writes it without spaces).
inline std::string AuditIdOf(const std::string& json) {
  const std::string key = "\"auditID\":\"";
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace kq::testing

#endif  // KQ_TESTS_E2E_E2E_UTIL_H_
