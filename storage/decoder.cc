#include "storage/decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "common/time.h"
#include "storage/fast_time.h"
#include "storage/json_check.h"

namespace kq::storage {
namespace {

namespace od = simdjson::ondemand;

const char* TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

std::string SimdjsonReason(simdjson::error_code e) {
  switch (e) {
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "malformed or truncated JSON (unbalanced braces or brackets)";
    case simdjson::UNCLOSED_STRING:
      return "malformed or truncated JSON (unterminated string)";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "JSON nested too deeply";
    case simdjson::EMPTY:
      return "empty input";
    case simdjson::UNESCAPED_CHARS:
      return "invalid JSON: control character inside a string";
    case simdjson::STRING_ERROR:
      return "invalid JSON: bad string escape";
    case simdjson::NUMBER_ERROR:
      return "invalid JSON: bad number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "invalid JSON: bad literal";
    default:
      return absl::StrCat("invalid JSON (", simdjson::error_message(e), ")");
  }
}

// Bit per modelled top-level key, for duplicate detection.
enum KeyBit : uint32_t {
  kKind = 1u << 0,
  kApiVersion = 1u << 1,
  kLevel = 1u << 2,
  kAuditId = 1u << 3,
  kStage = 1u << 4,
  kRequestUri = 1u << 5,
  kVerb = 1u << 6,
  kUser = 1u << 7,
  kImpersonated = 1u << 8,
  kAuthnMeta = 1u << 9,
  kSourceIps = 1u << 10,
  kUserAgent = 1u << 11,
  kObjectRef = 1u << 12,
  kResponseStatus = 1u << 13,
  kRequestObject = 1u << 14,
  kResponseObject = 1u << 15,
  kReceivedTs = 1u << 16,
  kStageTs = 1u << 17,
  kAnnotations = 1u << 18,
};

// Whether `key` is `literal`. The length is a constant, so the compiler compares in place
// instead of calling memcmp: the decoder matches every key of every event this way.
template <size_t N>
bool KeyIs(std::string_view key, const char (&literal)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), literal, N - 1) == 0;
}

// The value of `*o`, made present (an absent one is constructed, a present one kept with its
// buffers: decoding into a reused Event then allocates little).
template <typename T>
T& Engage(std::optional<T>* o) {
  if (!o->has_value()) o->emplace();
  return **o;
}

// Decodes one event document. Not reentrant; owned by Decoder::Impl.
class EventReader {
 public:
  explicit EventReader(const DecodeOptions& options) : options_(options) {}

  // On failure returns false with error_ set.
  // *event is overwritten, its buffers reused; on failure its contents are unspecified.
  bool Read(const char* data, size_t len, size_t capacity, Event* event);
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string reason) {
    if (error_.empty()) error_ = std::move(reason);
    return false;
  }
  bool FailJson(simdjson::error_code e, std::string_view where) {
    if (e == simdjson::INCORRECT_TYPE) {
      return Fail(absl::StrCat("field ", Sv(where), ": wrong type"));
    }
    if (where.empty()) return Fail(SimdjsonReason(e));
    return Fail(absl::StrCat(SimdjsonReason(e), " in field ", Sv(where)));
  }
  bool String(od::value v, std::string_view field, std::string* out);
  bool OptString(od::value v, std::string_view field, std::optional<std::string>* out);
  bool StringList(od::value v, std::string_view field, std::vector<std::string>* out);
  bool Raw(od::value v, std::string_view field, int depth, std::string_view* out);
  bool AppendUnknown(std::string_view key, od::value v, int depth,
                     std::vector<std::string>* seen_keys, std::string* unknown);
  bool User(od::value v, std::string_view field, UserInfo* user);
  bool ObjRef(od::value v, ObjectRef* ref);
  bool Annotations(od::value v, std::vector<std::pair<std::string, std::string>>* out);
  bool Timestamp(std::string_view field, const std::string& text, TimeMicros* out);
  bool ResponseCode(std::string_view raw, std::optional<int64_t>* code);

  // "<prefix>.<key>" in *buffer, reused from event to event: field paths are only read in error
  // messages, so they must not cost an allocation per field.
  static std::string_view JoinPath(std::string* buffer, std::string_view prefix,
                                   std::string_view key) {
    buffer->assign(prefix);
    buffer->push_back('.');
    buffer->append(key);
    return *buffer;
  }

  const DecodeOptions& options_;
  od::parser parser_;
  od::parser sub_parser_;
  const char* buffer_end_ = nullptr;  // end of the padded input buffer
  std::string error_;
  std::string user_path_, extra_path_, ref_path_, annotation_path_;  // JoinPath buffers
};

bool EventReader::String(od::value v, std::string_view field, std::string* out) {
  std::string_view s;
  if (auto e = v.get_string().get(s); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) {
      od::json_type t;
      if (v.type().get(t) == simdjson::SUCCESS) {
        return Fail(absl::StrCat("field ", Sv(field), ": expected a string, got ", TypeName(t)));
      }
    }
    return FailJson(e, field);
  }
  out->assign(s.data(), s.size());
  return true;
}

bool EventReader::OptString(od::value v, std::string_view field, std::optional<std::string>* out) {
  return String(v, field, &Engage(out));
}

bool EventReader::StringList(od::value v, std::string_view field, std::vector<std::string>* out) {
  od::array arr;
  if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) {
      return Fail(absl::StrCat("field ", Sv(field), ": expected an array of strings"));
    }
    return FailJson(e, field);
  }
  size_t n = 0;  // elements decoded; those of *out beyond are left from earlier use
  for (auto element : arr) {
    od::value item;
    if (auto e = element.get(item); e != simdjson::SUCCESS) return FailJson(e, field);
    if (n == out->size()) out->emplace_back();
    if (!String(item, field, &(*out)[n])) return false;
    ++n;
  }
  out->resize(n);
  return true;
}

bool EventReader::Raw(od::value v, std::string_view field, int depth, std::string_view* out) {
  od::json_type t;
  if (auto e = v.type().get(t); e != simdjson::SUCCESS) return FailJson(e, field);
  simdjson::error_code e = simdjson::SUCCESS;
  if (t == od::json_type::object) {
    od::object obj;
    e = v.get_object().get(obj);
    if (e == simdjson::SUCCESS) e = obj.raw_json().get(*out);
  } else if (t == od::json_type::array) {
    od::array arr;
    e = v.get_array().get(arr);
    if (e == simdjson::SUCCESS) e = arr.raw_json().get(*out);
  } else {
    *out = v.raw_json_token();
  }
  if (e != simdjson::SUCCESS) return FailJson(e, field);
  while (!out->empty() && (out->back() == ' ' || out->back() == '\n' || out->back() == '\r' ||
                           out->back() == '\t')) {
    out->remove_suffix(1);
  }
  std::string why;
  if (!CheckJson(*out, options_.max_depth - depth, &why)) {
    if (why.starts_with("nesting too deep")) {
      return Fail(absl::StrCat("field ", Sv(field), ": nesting deeper than ", options_.max_depth,
                               " levels"));
    }
    return Fail(absl::StrCat("field ", Sv(field), ": invalid JSON: ", why));
  }
  return true;
}

bool EventReader::AppendUnknown(std::string_view key, od::value v, int depth,
                                std::vector<std::string>* seen_keys, std::string* unknown) {
  for (const std::string& k : *seen_keys) {
    if (k == key) return Fail(absl::StrCat("duplicate key \"", Sv(key), "\""));
  }
  seen_keys->emplace_back(key);
  std::string_view raw;
  if (!Raw(v, key, depth, &raw)) return false;
  if (!unknown->empty()) unknown->push_back(',');
  AppendJsonQuoted(key, unknown);
  unknown->push_back(':');
  unknown->append(raw.data(), raw.size());
  return true;
}

bool EventReader::User(od::value v, std::string_view field, UserInfo* user) {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) {
      return Fail(absl::StrCat("field ", Sv(field), ": expected an object"));
    }
    return FailJson(e, field);
  }
  uint32_t seen = 0;
  std::vector<std::string> unknown_keys;
  user->unknown_fields.clear();
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) return FailJson(e, field);
    std::string_view k = key;  // valid while the document is (the parser's string buffer)
    od::value val;
    if (auto e = f.value().get(val); e != simdjson::SUCCESS) return FailJson(e, field);
    uint32_t bit = KeyIs(k, "username") ? 1
                   : KeyIs(k, "uid")    ? 2
                   : KeyIs(k, "groups") ? 4
                   : KeyIs(k, "extra")  ? 8
                                        : 0;
    if (bit != 0) {
      if (seen & bit) return Fail(absl::StrCat("duplicate key \"", Sv(field), ".", Sv(k), "\""));
      seen |= bit;
    }
    std::string_view path = JoinPath(&user_path_, field, k);
    if (bit == 1) {
      if (!OptString(val, path, &user->username)) return false;
    } else if (bit == 2) {
      if (!OptString(val, path, &user->uid)) return false;
    } else if (bit == 4) {
      if (!StringList(val, path, &Engage(&user->groups))) return false;
    } else if (bit == 8) {
      od::object extra;
      if (auto e = val.get_object().get(extra); e != simdjson::SUCCESS) {
        return e == simdjson::INCORRECT_TYPE
                   ? Fail(absl::StrCat("field ", Sv(path), ": expected an object"))
                   : FailJson(e, path);
      }
      auto& entries = Engage(&user->extra);
      size_t n = 0;  // entries decoded; those beyond are left from earlier use
      for (auto ef : extra) {
        std::string_view ek;
        if (auto e = ef.unescaped_key().get(ek); e != simdjson::SUCCESS) return FailJson(e, path);
        for (size_t i = 0; i < n; ++i) {
          if (entries[i].first == ek) {
            return Fail(absl::StrCat("duplicate key \"", Sv(path), ".", Sv(ek), "\""));
          }
        }
        if (n == entries.size()) entries.emplace_back();
        auto& [ekey, values] = entries[n];
        ekey.assign(ek.data(), ek.size());  // the key's bytes live until the next value
        od::value ev;
        if (auto e = ef.value().get(ev); e != simdjson::SUCCESS) return FailJson(e, path);
        if (!StringList(ev, JoinPath(&extra_path_, path, ekey), &values)) return false;
        ++n;
      }
      entries.resize(n);
    } else {
      if (!AppendUnknown(k, val, 2, &unknown_keys, &user->unknown_fields)) return false;
    }
  }
  if (!(seen & 1)) user->username.reset();
  if (!(seen & 2)) user->uid.reset();
  if (!(seen & 4)) user->groups.reset();
  if (!(seen & 8)) user->extra.reset();
  return true;
}

bool EventReader::ObjRef(od::value v, ObjectRef* ref) {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) return Fail("field objectRef: expected an object");
    return FailJson(e, "objectRef");
  }
  static constexpr std::string_view kKeys[] = {
      "resource",   "namespace",       "name",       "uid", "apiGroup",
      "apiVersion", "resourceVersion", "subresource"};
  std::optional<std::string>* const targets[] = {&ref->resource,
                                                 &ref->ns,
                                                 &ref->name,
                                                 &ref->uid,
                                                 &ref->api_group,
                                                 &ref->api_version,
                                                 &ref->resource_version,
                                                 &ref->subresource};
  uint32_t seen = 0;  // bit i: kKeys[i]
  std::vector<std::string> unknown_keys;
  ref->unknown_fields.clear();
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return FailJson(e, "objectRef");
    }
    std::string_view k = key;
    od::value val;
    if (auto e = f.value().get(val); e != simdjson::SUCCESS) return FailJson(e, "objectRef");
    size_t i = 0;
    while (i < std::size(kKeys) && kKeys[i] != k) ++i;
    if (i == std::size(kKeys)) {
      if (!AppendUnknown(k, val, 2, &unknown_keys, &ref->unknown_fields)) return false;
      continue;
    }
    const uint32_t bit = 1u << i;
    if (seen & bit) return Fail(absl::StrCat("duplicate key \"objectRef.", Sv(k), "\""));
    seen |= bit;
    if (!OptString(val, JoinPath(&ref_path_, "objectRef", k), targets[i])) return false;
  }
  for (size_t i = 0; i < std::size(kKeys); ++i) {
    if (!(seen & (1u << i))) targets[i]->reset();
  }
  return true;
}

bool EventReader::Annotations(od::value v, std::vector<std::pair<std::string, std::string>>* out) {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) return Fail("field annotations: expected an object");
    return FailJson(e, "annotations");
  }
  size_t n = 0;  // entries decoded; those of *out beyond are left from earlier use
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return FailJson(e, "annotations");
    }
    for (size_t i = 0; i < n; ++i) {
      if ((*out)[i].first == key) {
        return Fail(absl::StrCat("duplicate key \"annotations.", Sv(key), "\""));
      }
    }
    if (n == out->size()) out->emplace_back();
    auto& [k, value] = (*out)[n];
    k.assign(key.data(), key.size());  // the key's bytes live in the parser until the next value
    od::value val;
    if (auto e = f.value().get(val); e != simdjson::SUCCESS) return FailJson(e, "annotations");
    if (!String(val, JoinPath(&annotation_path_, "annotations", k), &value)) return false;
    ++n;
  }
  out->resize(n);
  return true;
}

bool EventReader::Timestamp(std::string_view field, const std::string& text, TimeMicros* out) {
  if (ParseCanonicalTimestamp(text, out)) return true;
  absl::StatusOr<TimeMicros> t = ParseTimestamp(text);
  if (!t.ok()) {
    return Fail(absl::StrCat("field ", Sv(field), ": invalid timestamp \"", text, "\""));
  }
  *out = *t;
  return true;
}

bool EventReader::ResponseCode(std::string_view raw, std::optional<int64_t>* code) {
  if (raw.empty() || raw.front() != '{') return Fail("field responseStatus: expected an object");
  od::document doc;
  size_t capacity = static_cast<size_t>(buffer_end_ - raw.data());
  if (auto e = sub_parser_.iterate(raw.data(), raw.size(), capacity).get(doc);
      e != simdjson::SUCCESS) {
    return FailJson(e, "responseStatus");
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) {
    return FailJson(e, "responseStatus");
  }
  bool seen = false;
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return FailJson(e, "responseStatus");
    }
    if (key != "code") continue;
    if (seen) return Fail("duplicate key \"responseStatus.code\"");
    seen = true;
    int64_t c;
    if (f.value().get_int64().get(c) != simdjson::SUCCESS) {
      return Fail("field responseStatus.code: expected an integer");
    }
    *code = c;
  }
  return true;
}

bool EventReader::Read(const char* data, size_t len, size_t capacity, Event* event) {
  error_.clear();
  // Fields set only when present start cleared; absent optional fields are reset at the end.
  event->code.reset();
  event->unknown_fields.clear();
  event->env.clear();
  event->cluster.clear();
  event->request_received_time = 0;
  event->raw_size = len;
  buffer_end_ = data + capacity;
  od::document doc;
  if (auto e = parser_.iterate(data, len, capacity).get(doc); e != simdjson::SUCCESS) {
    return FailJson(e, "");
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) {
    if (e == simdjson::INCORRECT_TYPE) return Fail("not a JSON object");
    return FailJson(e, "");
  }
  uint32_t seen = 0;
  std::vector<std::string> unknown_keys;
  std::optional<std::string> legacy_timestamp;
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) return FailJson(e, "");
    od::value val;
    if (auto e = f.value().get(val); e != simdjson::SUCCESS) return FailJson(e, key);
    uint32_t bit = 0;
    bool ok = true;
    // Dispatch on the key; the most frequent keys first.
    if (KeyIs(key, "level")) {
      bit = kLevel, ok = !(seen & bit) && String(val, key, &event->level);
    } else if (KeyIs(key, "auditID")) {
      bit = kAuditId, ok = !(seen & bit) && String(val, key, &event->audit_id);
    } else if (KeyIs(key, "stage")) {
      bit = kStage, ok = !(seen & bit) && String(val, key, &event->stage);
    } else if (KeyIs(key, "requestURI")) {
      bit = kRequestUri, ok = !(seen & bit) && OptString(val, key, &event->request_uri);
    } else if (KeyIs(key, "verb")) {
      bit = kVerb, ok = !(seen & bit) && String(val, key, &event->verb);
    } else if (KeyIs(key, "user")) {
      bit = kUser, ok = !(seen & bit) && User(val, key, &event->user);
    } else if (KeyIs(key, "sourceIPs")) {
      bit = kSourceIps;
      if (!(seen & bit)) ok = StringList(val, key, &Engage(&event->source_ips));
    } else if (KeyIs(key, "userAgent")) {
      bit = kUserAgent, ok = !(seen & bit) && OptString(val, key, &event->user_agent);
    } else if (KeyIs(key, "objectRef")) {
      bit = kObjectRef;
      if (!(seen & bit)) ok = ObjRef(val, &Engage(&event->object_ref));
    } else if (KeyIs(key, "responseStatus")) {
      bit = kResponseStatus;
      std::string_view raw;
      if (!(seen & bit)) {
        ok = Raw(val, key, 1, &raw) && ResponseCode(raw, &event->code);
        Engage(&event->response_status).assign(raw);
      }
    } else if (KeyIs(key, "requestObject") || KeyIs(key, "responseObject")) {
      bool request = KeyIs(key, "requestObject");
      bit = request ? kRequestObject : kResponseObject;
      std::string_view raw;
      if (!(seen & bit)) {
        ok = Raw(val, key, 1, &raw);
        Engage(request ? &event->request_object : &event->response_object).assign(raw);
      }
    } else if (KeyIs(key, "requestReceivedTimestamp")) {
      bit = kReceivedTs;
      if (!(seen & bit)) {
        ok = OptString(val, key, &event->request_received_timestamp) &&
             Timestamp(key, *event->request_received_timestamp, &event->request_received_time);
      }
    } else if (KeyIs(key, "stageTimestamp")) {
      bit = kStageTs;
      ok = !(seen & bit) && String(val, key, &event->stage_timestamp) &&
           Timestamp(key, event->stage_timestamp, &event->stage_time);
    } else if (KeyIs(key, "annotations")) {
      bit = kAnnotations;
      if (!(seen & bit)) ok = Annotations(val, &Engage(&event->annotations));
    } else if (KeyIs(key, "kind")) {
      bit = kKind, ok = !(seen & bit) && OptString(val, key, &event->kind);
    } else if (KeyIs(key, "apiVersion")) {
      bit = kApiVersion, ok = !(seen & bit) && OptString(val, key, &event->api_version);
    } else if (KeyIs(key, "impersonatedUser")) {
      bit = kImpersonated;
      if (!(seen & bit)) ok = User(val, key, &Engage(&event->impersonated_user));
    } else if (KeyIs(key, "authenticationMetadata")) {
      bit = kAuthnMeta;
      std::string_view raw;
      if (!(seen & bit)) {
        ok = Raw(val, key, 1, &raw);
        Engage(&event->authentication_metadata).assign(raw);
      }
    } else {
      std::string k(key);
      size_t before = event->unknown_fields.size();
      ok = AppendUnknown(k, val, 1, &unknown_keys, &event->unknown_fields);
      if (ok && k == "timestamp") {
        // v1beta1: the legacy second-precision event time, a fallback for the receive time.
        std::string_view kept(event->unknown_fields);
        kept.remove_prefix(before + (before > 0 ? 1 : 0) + sizeof("\"timestamp\":") - 1);
        if (kept.size() >= 2 && kept.front() == '"') {
          legacy_timestamp.emplace(kept.substr(1, kept.size() - 2));
        }
      }
    }
    if (bit != 0 && (seen & bit)) {
      return Fail(absl::StrCat("duplicate key \"", Sv(key), "\""));
    }
    if (!ok) return false;
    seen |= bit;
  }
  if (!error_.empty()) return false;
  if (doc.current_location().error() == simdjson::SUCCESS) {
    return Fail("unexpected content after the event object");
  }
  static constexpr std::pair<uint32_t, const char*> kRequired[] = {
      {kLevel, "level"}, {kAuditId, "auditID"}, {kStage, "stage"},
      {kVerb, "verb"},   {kUser, "user"},       {kStageTs, "stageTimestamp"},
  };
  for (const auto& [bit, name] : kRequired) {
    if (!(seen & bit)) return Fail(absl::StrCat("missing required field \"", name, "\""));
  }
  auto reset_absent = [seen](uint32_t bit, auto* field) {
    if (!(seen & bit)) field->reset();
  };
  reset_absent(kKind, &event->kind);
  reset_absent(kApiVersion, &event->api_version);
  reset_absent(kRequestUri, &event->request_uri);
  reset_absent(kImpersonated, &event->impersonated_user);
  reset_absent(kAuthnMeta, &event->authentication_metadata);
  reset_absent(kSourceIps, &event->source_ips);
  reset_absent(kUserAgent, &event->user_agent);
  reset_absent(kObjectRef, &event->object_ref);
  reset_absent(kResponseStatus, &event->response_status);
  reset_absent(kRequestObject, &event->request_object);
  reset_absent(kResponseObject, &event->response_object);
  reset_absent(kReceivedTs, &event->request_received_timestamp);
  reset_absent(kAnnotations, &event->annotations);
  if (!(seen & kReceivedTs)) {
    if (!legacy_timestamp.has_value()) {
      return Fail("missing required field \"requestReceivedTimestamp\"");
    }
    if (!Timestamp("timestamp", *legacy_timestamp, &event->request_received_time)) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

struct Decoder::Impl {
  explicit Impl(DecodeOptions o) : options(o), reader(options) {}

  // Copies `json` into the padded buffer and decodes it; "" or the reason.
  std::string Decode(std::string_view json, Event* event) {
    if (json.size() > options.max_event_bytes) {
      return absl::StrCat("event is ", json.size(), " bytes, larger than the limit of ",
                          options.max_event_bytes, " bytes");
    }
    if (const void* nul = std::memchr(json.data(), 0, json.size()); nul != nullptr) {
      return absl::StrCat("contains a NUL byte at offset ",
                          static_cast<const char*>(nul) - json.data());
    }
    if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer.data(), json.data(), json.size());
    std::memset(buffer.data() + json.size(), ' ', simdjson::SIMDJSON_PADDING);
    if (!reader.Read(buffer.data(), json.size(), buffer.size(), event)) return reader.error();
    return "";
  }

  DecodeError MakeError(uint64_t index, bool is_line, std::string reason,
                        std::string_view raw) const {
    DecodeError err;
    err.index = index;
    err.is_line = is_line;
    err.reason = is_line ? absl::StrCat("line ", index, ": ", reason)
                         : absl::StrCat("item ", index, ": ", reason);
    err.raw.assign(raw.data(), std::min(raw.size(), options.max_error_raw_bytes));
    return err;
  }

  DecodeOptions options;
  EventReader reader;
  std::string buffer;
  od::parser list_parser;
  std::string list_buffer;
};

Decoder::Decoder(DecodeOptions options) : impl_(std::make_unique<Impl>(options)) {}
Decoder::~Decoder() = default;

absl::Status Decoder::DecodeEvent(std::string_view json, Event* event) {
  std::string reason = impl_->Decode(json, event);
  if (reason.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(reason);
}

size_t Decoder::DecodeLinesInto(std::string_view* text, uint64_t* line_number,
                                std::span<Event> events, std::vector<DecodeError>* errors) {
  size_t decoded = 0;
  while (decoded < events.size() && !text->empty()) {
    ++*line_number;
    const size_t nl = text->find('\n');
    const std::string_view line = text->substr(0, nl);
    text->remove_prefix(nl == std::string_view::npos ? text->size() : nl + 1);
    const std::string_view trimmed = TrimSpace(line);
    if (trimmed.empty()) continue;
    std::string reason = impl_->Decode(trimmed, &events[decoded]);
    if (reason.empty()) {
      ++decoded;
      continue;
    }
    if (nl == std::string_view::npos && reason.starts_with("malformed or truncated")) {
      reason += " (the last line has no newline: truncated?)";
    }
    errors->push_back(impl_->MakeError(*line_number, true, std::move(reason), line));
  }
  return decoded;
}

void Decoder::DecodeLines(std::string_view text, std::vector<Event>* events,
                          std::vector<DecodeError>* errors) {
  uint64_t line_number = 0;
  size_t size = events->size();
  // One Event per line (the last may lack its newline); failed lines leave theirs unused.
  events->resize(size + static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  while (!text.empty()) {
    size += DecodeLinesInto(&text, &line_number, std::span<Event>(*events).subspan(size), errors);
  }
  events->resize(size);
}

void Decoder::DecodeBody(std::string_view body, std::vector<Event>* events,
                         std::vector<DecodeError>* errors) {
  std::string_view trimmed = TrimSpace(body);
  if (trimmed.empty()) return;
  if (trimmed.front() != '{') {
    DecodeLines(body, events, errors);
    return;
  }
  // Parse the body as one document: an EventList, or one (possibly pretty-printed) event.
  Impl& m = *impl_;
  if (trimmed.size() > (size_t{4} << 30)) {
    errors->push_back(m.MakeError(0, false, "body larger than 4 GiB", trimmed));
    return;
  }
  m.list_buffer.assign(trimmed.data(), trimmed.size());
  m.list_buffer.append(simdjson::SIMDJSON_PADDING, ' ');
  od::document doc;
  od::object obj;
  std::vector<std::string_view> items;
  std::vector<std::pair<uint64_t, std::string>> item_errors;
  bool is_list = false;
  bool whole_ok = false;
  if (simdjson::validate_utf8(trimmed.data(), trimmed.size()) &&
      m.list_parser.iterate(m.list_buffer.data(), trimmed.size(), m.list_buffer.size()).get(doc) ==
          simdjson::SUCCESS &&
      doc.get_object().get(obj) == simdjson::SUCCESS) {
    whole_ok = true;
    for (auto f : obj) {
      std::string_view key;
      if (f.unescaped_key().get(key) != simdjson::SUCCESS) {
        whole_ok = false;
        break;
      }
      if (key != "items") continue;
      od::array arr;
      if (f.value().get_array().get(arr) != simdjson::SUCCESS) {
        whole_ok = false;
        break;
      }
      is_list = true;
      uint64_t index = 0;
      for (auto element : arr) {
        od::value v;
        od::object item;
        std::string_view raw;
        if (element.get(v) != simdjson::SUCCESS || v.get_object().get(item) != simdjson::SUCCESS ||
            item.raw_json().get(raw) != simdjson::SUCCESS) {
          item_errors.emplace_back(index, "not a JSON object");
          items.emplace_back();
        } else {
          items.push_back(raw);
        }
        ++index;
      }
    }
    if (whole_ok && doc.current_location().error() == simdjson::SUCCESS) whole_ok = false;
  }
  if (!is_list || !whole_ok) {
    if (!is_list && whole_ok) {
      // One event, perhaps pretty-printed over several lines.
      events->emplace_back();
      std::string reason = m.Decode(trimmed, &events->back());
      if (reason.empty()) return;
      events->pop_back();
      errors->push_back(m.MakeError(0, false, std::move(reason), trimmed));
      return;
    }
    if (is_list) {
      errors->push_back(m.MakeError(0, false, "EventList body is not valid JSON", trimmed));
      return;
    }
    DecodeLines(body, events, errors);
    return;
  }
  events->reserve(events->size() + items.size());
  size_t next_error = 0;
  for (uint64_t i = 0; i < items.size(); ++i) {
    if (next_error < item_errors.size() && item_errors[next_error].first == i) {
      errors->push_back(m.MakeError(i, false, item_errors[next_error].second, ""));
      ++next_error;
      continue;
    }
    events->emplace_back();
    std::string reason = m.Decode(items[i], &events->back());
    if (!reason.empty()) {
      events->pop_back();
      errors->push_back(m.MakeError(i, false, std::move(reason), items[i]));
    }
  }
}

}  // namespace kq::storage
