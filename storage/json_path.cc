#include "storage/json_path.h"

#include <simdjson.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace kq::storage {
namespace {

namespace od = simdjson::ondemand;

absl::Status JsonError(simdjson::error_code e) {
  return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", simdjson::error_message(e)));
}

// Visits values reached by path[step..] from `v` (a value or a document). Sets *stop when the
// callback asked to stop.
template <typename V>
absl::Status Visit(V& v, std::span<const PathStep> path, size_t step,
                   const std::function<bool(const JsonValue&)>& fn, bool* stop) {
  od::json_type type;
  if (auto e = v.type().get(type); e != simdjson::SUCCESS) return JsonError(e);
  if (step == path.size()) {
    JsonValue out;
    simdjson::error_code e = simdjson::SUCCESS;
    switch (type) {
      case od::json_type::null:
        out.kind = JsonValue::Kind::kNull;
        break;
      case od::json_type::boolean:
        out.kind = JsonValue::Kind::kBool;
        e = v.get_bool().get(out.boolean);
        break;
      case od::json_type::string:
        out.kind = JsonValue::Kind::kString;
        e = v.get_string().get(out.text);
        break;
      case od::json_type::number: {
        od::number_type nt;
        e = v.get_number_type().get(nt);
        if (e == simdjson::SUCCESS && nt == od::number_type::signed_integer) {
          out.kind = JsonValue::Kind::kInt;
          e = v.get_int64().get(out.integer);
          out.number = static_cast<double>(out.integer);
        } else if (e == simdjson::SUCCESS) {
          out.kind = JsonValue::Kind::kDouble;
          e = v.get_double().get(out.number);
        }
        break;
      }
      case od::json_type::object: {
        out.kind = JsonValue::Kind::kObject;
        od::object obj;
        e = v.get_object().get(obj);
        if (e == simdjson::SUCCESS) e = obj.raw_json().get(out.text);
        break;
      }
      case od::json_type::array: {
        out.kind = JsonValue::Kind::kArray;
        od::array arr;
        e = v.get_array().get(arr);
        if (e == simdjson::SUCCESS) e = arr.raw_json().get(out.text);
        break;
      }
    }
    if (e != simdjson::SUCCESS) return JsonError(e);
    if (!fn(out)) *stop = true;
    return absl::OkStatus();
  }
  const PathStep& s = path[step];
  if (s.kind == PathStep::Kind::kKey) {
    if (type != od::json_type::object) return absl::OkStatus();
    od::object obj;
    if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS) return JsonError(e);
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) return JsonError(e);
      if (key != s.key) continue;
      od::value child;
      if (auto e = field.value().get(child); e != simdjson::SUCCESS) return JsonError(e);
      return Visit(child, path, step + 1, fn, stop);
    }
    return absl::OkStatus();
  }
  if (type != od::json_type::array) return absl::OkStatus();
  od::array arr;
  if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS) return JsonError(e);
  uint64_t index = 0;
  for (auto element : arr) {
    od::value child;
    if (auto e = element.get(child); e != simdjson::SUCCESS) return JsonError(e);
    if (s.kind == PathStep::Kind::kEach || index == s.index) {
      absl::Status st = Visit(child, path, step + 1, fn, stop);
      if (!st.ok() || *stop || s.kind == PathStep::Kind::kIndex) return st;
    }
    ++index;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VisitJsonPath(std::string_view json, std::span<const PathStep> path,
                           const std::function<bool(const JsonValue&)>& fn) {
  thread_local od::parser parser;
  thread_local std::string buffer;
  buffer.assign(json.data(), json.size());
  buffer.append(simdjson::SIMDJSON_PADDING, ' ');
  od::document doc;
  if (auto e = parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc);
      e != simdjson::SUCCESS) {
    return JsonError(e);
  }
  bool stop = false;
  return Visit(doc, path, 0, fn, &stop);
}

}  // namespace kq::storage
