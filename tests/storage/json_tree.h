// A tiny JSON parser for tests: builds a tree whose equality is JSON-value equality (object key
// order ignored, numbers compared by their text). Independent of the code under test.
#ifndef KQ_TESTS_STORAGE_JSON_TREE_H_
#define KQ_TESTS_STORAGE_JSON_TREE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kq::testing {

struct JsonTree {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;  // number text, string value, or "true"/"false"
  std::vector<JsonTree> items;
  std::map<std::string, JsonTree> members;

  bool operator==(const JsonTree&) const = default;
  std::string DebugString() const;
};

// nullopt when `json` is not exactly one valid JSON value (or has duplicate keys).
std::optional<JsonTree> ParseJsonTree(std::string_view json);

}  // namespace kq::testing

#endif  // KQ_TESTS_STORAGE_JSON_TREE_H_
