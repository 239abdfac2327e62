// A strict JSON syntax check for raw JSON values the decoder keeps as text (bodies, unknown
// fields): simdjson On-Demand skips such values without validating their insides, so they are
// checked here before being stored. Internal to the storage module. Thread-safe (pure function).
#ifndef KQ_STORAGE_JSON_CHECK_H_
#define KQ_STORAGE_JSON_CHECK_H_

#include <string>
#include <string_view>

namespace kq::storage {

// True when `text` is exactly one JSON value (surrounding whitespace allowed) nested at most
// `max_depth` deep (a scalar has depth 0, [] has depth 1). UTF-8 is not checked here (the
// decoder validates the whole input first). On false, *error says what and where.
bool CheckJson(std::string_view text, int max_depth, std::string* error);

}  // namespace kq::storage

#endif  // KQ_STORAGE_JSON_CHECK_H_
