// Operations on query values (query/result.h Value): types, comparison, hashing, text and JSON
// forms, and the string predicates of the language. Pure functions; thread-safe.
#ifndef KQ_QUERY_VALUE_H_
#define KQ_QUERY_VALUE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "query/result.h"
#include "storage/json_path.h"

namespace kq::query {

ValueType TypeOf(const Value& v);
std::string_view TypeName(ValueType t);
inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// A JSON value reached by a path, as a query value (objects and arrays become Json text).
Value FromJson(const storage::JsonValue& j);

// Equality as `==` sees it: ints and doubles compare numerically; a Json scalar never equals a
// typed value; null equals nothing (not even null).
bool ValuesEqual(const Value& a, const Value& b);
// Ordering for < <= > >= on comparable values (numbers with numbers, strings with strings,
// datetimes, timespans); nullopt when not comparable (then the comparison is false).
std::optional<int> CompareValues(const Value& a, const Value& b);
// A total order for sorting: nulls last, then by type, then by value.
int SortCompare(const Value& a, const Value& b);
// Hash for grouping; consistent with Value's operator== (null groups with null).
size_t HashValue(const Value& v);
struct ValueHash {
  size_t operator()(const Value& v) const { return HashValue(v); }
};
struct RowHash {
  size_t operator()(const Row& r) const {
    size_t h = r.size();
    for (const Value& v : r) h = h * 0x100000001B3ull ^ HashValue(v);
    return h;
  }
};

// The value as plain text (strings unquoted, datetimes RFC 3339, Json as its text); "" for null.
std::string ToText(const Value& v);
// The value as JSON (strings quoted, datetimes as RFC 3339 strings, Json as it is).
std::string ToJson(const Value& v);

// The language's string predicates. `ci`: ASCII case-insensitive.
bool StrEquals(std::string_view a, std::string_view b, bool ci);
bool StrContains(std::string_view hay, std::string_view needle, bool ci);
bool StrStartsWith(std::string_view s, std::string_view prefix, bool ci);
bool StrEndsWith(std::string_view s, std::string_view suffix, bool ci);
// KQL `has`: `term` occurs in `s` bounded by non-alphanumeric characters (or the ends).
bool StrHas(std::string_view s, std::string_view term, bool ci);
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);

}  // namespace kq::query

#endif  // KQ_QUERY_VALUE_H_
