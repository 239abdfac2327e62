#include "query/value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "common/json_escape.h"
#include "common/time.h"

namespace kq::query {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool CharEq(char a, char b, bool ci) { return ci ? Lower(a) == Lower(b) : a == b; }

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::optional<double> AsNumber(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Shortest of %.15g / %.17g that reads back as the same double.
std::string FormatReal(double d) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", d);
  if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

}  // namespace

ValueType TypeOf(const Value& v) {
  switch (v.index()) {
    case 0:
      return ValueType::kNull;
    case 1:
      return ValueType::kBool;
    case 2:
      return ValueType::kInt;
    case 3:
      return ValueType::kDouble;
    case 4:
      return ValueType::kString;
    case 5:
      return ValueType::kDatetime;
    case 6:
      return ValueType::kTimespan;
    default:
      return ValueType::kDynamic;
  }
}

std::string_view TypeName(ValueType t) {
  switch (t) {
    case ValueType::kNull:
      return "null";
    case ValueType::kBool:
      return "bool";
    case ValueType::kInt:
      return "int";
    case ValueType::kDouble:
      return "real";
    case ValueType::kString:
      return "string";
    case ValueType::kDatetime:
      return "datetime";
    case ValueType::kTimespan:
      return "timespan";
    case ValueType::kDynamic:
      return "dynamic";
    case ValueType::kEvent:
      return "event";
  }
  return "?";
}

Value FromJson(const storage::JsonValue& j) {
  using K = storage::JsonValue::Kind;
  switch (j.kind) {
    case K::kNull:
      return std::monostate();
    case K::kBool:
      return j.boolean;
    case K::kInt:
      return j.integer;
    case K::kDouble:
      return j.number;
    case K::kString:
      return std::string(j.text);
    case K::kObject:
    case K::kArray:
      return Json{std::string(j.text)};
  }
  return std::monostate();
}

bool ValuesEqual(const Value& a, const Value& b) {
  if (IsNull(a) || IsNull(b)) return false;
  if (a.index() == b.index()) return a == b;
  std::optional<double> x = AsNumber(a), y = AsNumber(b);
  return x && y && *x == *y;
}

std::optional<int> CompareValues(const Value& a, const Value& b) {
  if (IsNull(a) || IsNull(b)) return std::nullopt;
  std::optional<double> x = AsNumber(a), y = AsNumber(b);
  if (x && y) {
    if (a.index() == 2 && b.index() == 2) return Cmp(std::get<int64_t>(a), std::get<int64_t>(b));
    return Cmp(*x, *y);
  }
  if (a.index() != b.index()) return std::nullopt;
  switch (a.index()) {
    case 1:
      return Cmp(std::get<bool>(a), std::get<bool>(b));
    case 4:
      return Cmp(std::get<std::string>(a), std::get<std::string>(b));
    case 5:
      return Cmp(std::get<Datetime>(a).micros, std::get<Datetime>(b).micros);
    case 6:
      return Cmp(std::get<Timespan>(a).micros, std::get<Timespan>(b).micros);
    default:
      return std::nullopt;
  }
}

int SortCompare(const Value& a, const Value& b) {
  bool an = IsNull(a), bn = IsNull(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  if (std::optional<int> c = CompareValues(a, b)) return *c;
  if (a.index() != b.index()) return Cmp(a.index(), b.index());
  return Cmp(std::get<Json>(a).text, std::get<Json>(b).text);
}

size_t HashValue(const Value& v) {
  size_t h = v.index() * 0x9E3779B97F4A7C15ull;
  switch (v.index()) {
    case 1:
      return h ^ std::get<bool>(v);
    case 2:
      return h ^ std::hash<int64_t>()(std::get<int64_t>(v));
    case 3:
      return h ^ std::hash<double>()(std::get<double>(v));
    case 4:
      return h ^ std::hash<std::string>()(std::get<std::string>(v));
    case 5:
      return h ^ std::hash<int64_t>()(std::get<Datetime>(v).micros);
    case 6:
      return h ^ std::hash<int64_t>()(std::get<Timespan>(v).micros);
    case 7:
      return h ^ std::hash<std::string>()(std::get<Json>(v).text);
    default:
      return h;
  }
}

std::string ToText(const Value& v) {
  switch (v.index()) {
    case 0:
      return "";
    case 1:
      return std::get<bool>(v) ? "true" : "false";
    case 2:
      return std::to_string(std::get<int64_t>(v));
    case 3:
      return FormatReal(std::get<double>(v));
    case 4:
      return std::get<std::string>(v);
    case 5:
      return FormatTimestamp(std::get<Datetime>(v).micros);
    case 6:
      return FormatDuration(std::get<Timespan>(v).micros);
    default:
      return std::get<Json>(v).text;
  }
}

std::string ToJson(const Value& v) {
  switch (v.index()) {
    case 0:
      return "null";
    case 3: {
      double d = std::get<double>(v);
      return std::isfinite(d) ? FormatReal(d) : "null";
    }
    case 4:
    case 5:
    case 6:
      return JsonQuote(ToText(v));
    default:
      return ToText(v);
  }
}

bool StrEquals(std::string_view a, std::string_view b, bool ci) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!CharEq(a[i], b[i], ci)) return false;
  }
  return true;
}

bool StrStartsWith(std::string_view s, std::string_view prefix, bool ci) {
  return s.size() >= prefix.size() && StrEquals(s.substr(0, prefix.size()), prefix, ci);
}

bool StrEndsWith(std::string_view s, std::string_view suffix, bool ci) {
  return s.size() >= suffix.size() && StrEquals(s.substr(s.size() - suffix.size()), suffix, ci);
}

bool StrContains(std::string_view hay, std::string_view needle, bool ci) {
  if (!ci) return hay.find(needle) != std::string_view::npos;
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (StrEquals(hay.substr(i, needle.size()), needle, true)) return true;
  }
  return false;
}

bool StrHas(std::string_view s, std::string_view term, bool ci) {
  if (term.empty()) return true;
  for (size_t i = 0; i + term.size() <= s.size(); ++i) {
    if (i > 0 && IsAlnum(s[i - 1])) continue;
    if (i + term.size() < s.size() && IsAlnum(s[i + term.size()])) continue;
    if (StrEquals(s.substr(i, term.size()), term, ci)) return true;
  }
  return false;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace kq::query
