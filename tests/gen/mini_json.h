// A small, strict JSON parser for the generator tests (simdjson is storage-only). Keeps object
// keys in document order so tests can check field order. Test-only; not for production use.
#ifndef KQ_TESTS_GEN_MINI_JSON_H_
#define KQ_TESTS_GEN_MINI_JSON_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kq::testing {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;                                  // kString
  std::vector<Json> items;                           // kArray
  std::vector<std::pair<std::string, Json>> fields;  // kObject, in document order

  // The member `key` of an object, or nullptr.
  const Json* Get(std::string_view key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  // The string member `key`, or "" when absent or not a string.
  std::string_view Str(std::string_view key) const {
    const Json* v = Get(key);
    return v != nullptr && v->type == Type::kString ? std::string_view(v->text) : "";
  }
};

// Parses exactly one JSON value spanning all of `text` (surrounding whitespace allowed).
// Returns nullopt on any syntax error.
std::optional<Json> ParseJson(std::string_view text);

}  // namespace kq::testing

#endif  // KQ_TESTS_GEN_MINI_JSON_H_
