// Path look-ups inside JSON text (event JSON, request and response bodies), for the query
// engine, which must not include simdjson itself.
//
// CONTRACT between storage (implements, with simdjson On-Demand) and query (calls).
#ifndef KQ_STORAGE_JSON_PATH_H_
#define KQ_STORAGE_JSON_PATH_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kq::storage {

// One step of a path: an object key, an array index, or every element of an array ([*]).
struct PathStep {
  enum class Kind { kKey, kIndex, kEach };
  Kind kind = Kind::kKey;
  std::string key;     // kKey
  uint64_t index = 0;  // kIndex
};

// A value reached by a path. For kString, `text` is the unescaped string; for kObject and
// kArray, `text` is the raw JSON of the value (so a caller can visit into it again). The views
// are valid only during the callback.
struct JsonValue {
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string_view text;
};

// Calls `fn` for every value `path` reaches in `json` (kEach fans out over array elements;
// missing keys, out-of-range indexes and type mismatches reach nothing). `fn` returns false to
// stop early. An empty path visits the whole document. Malformed JSON: InvalidArgument.
[[nodiscard]] absl::Status VisitJsonPath(std::string_view json, std::span<const PathStep> path,
                                         const std::function<bool(const JsonValue&)>& fn);

}  // namespace kq::storage

#endif  // KQ_STORAGE_JSON_PATH_H_
