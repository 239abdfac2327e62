#include "storage/event_codec.h"

#include "common/coding.h"
#include "storage/fast_time.h"

namespace kq::storage {
namespace {

// Rest tags. Stored on disk: do not change.
enum RestTag : uint8_t {
  kKind = 0x01,
  kApiVersion = 0x02,
  kImpersonatedUser = 0x03,
  kAuthnMetadata = 0x04,
  kObjectUid = 0x05,
  kObjectResourceVersion = 0x06,
  kObjectUnknown = 0x07,
  kUserUnknown = 0x08,
  kUnknown = 0x09,
  kReceivedText = 0x0A,
  kStageText = 0x0B,
  kReceivedAbsent = 0x0C,
  kObjectRefPresent = 0x0D,
};

// UserInfo tags. Stored on disk: do not change.
enum UserTag : uint8_t {
  kUsername = 0x01,
  kUid = 0x02,
  kGroups = 0x03,
  kExtra = 0x04,
  kUserInfoUnknown = 0x05,
};

// Bytes of PutVarint64(v).
inline uint64_t VarintLength(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// PutLengthPrefixed (common/coding.h) for this file's hot paths (dedupe identity, rest column):
// inline, with the one-byte length of short strings written directly. Same bytes.
inline void PutLp(std::string* out, std::string_view s) {
  if (s.size() < 0x80) {
    out->push_back(static_cast<char>(s.size()));
  } else {
    PutVarint64(out, s.size());
  }
  out->append(s);
}

void PutTag(std::string* out, uint8_t tag, std::string_view value) {
  out->push_back(static_cast<char>(tag));
  PutLp(out, value);
}

void PutStrings(const std::vector<std::string>& values, std::string* out) {
  PutVarint64(out, values.size());
  for (const auto& v : values) PutLp(out, v);
}

bool GetStrings(std::string_view* in, std::vector<std::string>* out) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(in, &s)) return false;
    out->emplace_back(s);
  }
  return true;
}

}  // namespace

void EncodeAnnotations(const std::vector<std::pair<std::string, std::string>>& annotations,
                       std::string* out) {
  for (const auto& [k, v] : annotations) {
    PutLp(out, k);
    PutLp(out, v);
  }
}

bool DecodeAnnotations(std::string_view in, std::vector<std::pair<std::string, std::string>>* out) {
  while (!in.empty()) {
    std::string_view k, v;
    if (!GetLengthPrefixed(&in, &k) || !GetLengthPrefixed(&in, &v)) return false;
    out->emplace_back(std::string(k), std::string(v));
  }
  return true;
}

void EncodeExtra(const std::vector<std::pair<std::string, std::vector<std::string>>>& extra,
                 std::string* out) {
  for (const auto& [k, values] : extra) {
    PutLp(out, k);
    PutStrings(values, out);
  }
}

bool DecodeExtra(std::string_view in,
                 std::vector<std::pair<std::string, std::vector<std::string>>>* out) {
  while (!in.empty()) {
    std::string_view k;
    if (!GetLengthPrefixed(&in, &k)) return false;
    out->emplace_back(std::string(k), std::vector<std::string>());
    if (!GetStrings(&in, &out->back().second)) return false;
  }
  return true;
}

void EncodeUserInfo(const UserInfo& user, std::string* out) {
  if (user.username.has_value()) PutTag(out, kUsername, *user.username);
  if (user.uid.has_value()) PutTag(out, kUid, *user.uid);
  std::string tmp;
  if (user.groups.has_value()) {
    PutStrings(*user.groups, &tmp);
    PutTag(out, kGroups, tmp);
    tmp.clear();
  }
  if (user.extra.has_value()) {
    EncodeExtra(*user.extra, &tmp);
    PutTag(out, kExtra, tmp);
  }
  if (!user.unknown_fields.empty()) PutTag(out, kUserInfoUnknown, user.unknown_fields);
}

bool DecodeUserInfo(std::string_view in, UserInfo* user) {
  while (!in.empty()) {
    uint8_t tag = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    std::string_view v;
    if (!GetLengthPrefixed(&in, &v)) return false;
    switch (tag) {
      case kUsername:
        user->username.emplace(v);
        break;
      case kUid:
        user->uid.emplace(v);
        break;
      case kGroups:
        if (!GetStrings(&v, &user->groups.emplace()) || !v.empty()) return false;
        break;
      case kExtra:
        if (!DecodeExtra(v, &user->extra.emplace())) return false;
        break;
      case kUserInfoUnknown:
        user->unknown_fields.assign(v);
        break;
      default:
        return false;
    }
  }
  return true;
}

void EncodeRest(const Event& e, std::string* out, bool type_meta) {
  if (type_meta && e.kind.has_value()) PutTag(out, kKind, *e.kind);
  if (type_meta && e.api_version.has_value()) PutTag(out, kApiVersion, *e.api_version);
  if (e.impersonated_user.has_value()) {
    std::string tmp;
    EncodeUserInfo(*e.impersonated_user, &tmp);
    PutTag(out, kImpersonatedUser, tmp);
  }
  if (e.authentication_metadata.has_value()) {
    PutTag(out, kAuthnMetadata, *e.authentication_metadata);
  }
  if (e.object_ref.has_value()) {
    PutTag(out, kObjectRefPresent, "");
    if (e.object_ref->uid.has_value()) PutTag(out, kObjectUid, *e.object_ref->uid);
    if (e.object_ref->resource_version.has_value()) {
      PutTag(out, kObjectResourceVersion, *e.object_ref->resource_version);
    }
    if (!e.object_ref->unknown_fields.empty()) {
      PutTag(out, kObjectUnknown, e.object_ref->unknown_fields);
    }
  }
  if (!e.user.unknown_fields.empty()) PutTag(out, kUserUnknown, e.user.unknown_fields);
  if (!e.unknown_fields.empty()) PutTag(out, kUnknown, e.unknown_fields);
  if (!e.request_received_timestamp.has_value()) {
    PutTag(out, kReceivedAbsent, "");
  } else if (!IsCanonicalTimestamp(*e.request_received_timestamp, e.request_received_time)) {
    PutTag(out, kReceivedText, *e.request_received_timestamp);
  }
  if (!IsCanonicalTimestamp(e.stage_timestamp, e.stage_time))
    PutTag(out, kStageText, e.stage_timestamp);
}

namespace {
void PutOpt(const std::optional<std::string>& v, std::string* out) {
  if (!v.has_value()) {
    out->push_back('\0');
    return;
  }
  out->push_back('\1');
  PutLp(out, *v);
}
}  // namespace

void EncodeIdentity(const Event& e, std::string* out) {
  EncodeRest(e, out, /*type_meta=*/false);
  out->push_back('\2');  // end of the rest
  PutLp(out, e.audit_id);
  PutLp(out, e.level);
  PutLp(out, e.stage);
  PutLp(out, e.verb);
  PutLp(out, e.cluster);
  PutOpt(e.request_uri, out);
  PutOpt(e.user.username, out);
  PutOpt(e.user.uid, out);
  out->push_back(e.user.groups.has_value() ? '\1' : '\0');
  if (e.user.groups.has_value()) PutStrings(*e.user.groups, out);
  out->push_back(e.user.extra.has_value() ? '\1' : '\0');
  if (e.user.extra.has_value()) {
    std::string tmp;
    EncodeExtra(*e.user.extra, &tmp);
    PutLp(out, tmp);
  }
  out->push_back(e.source_ips.has_value() ? '\1' : '\0');
  if (e.source_ips.has_value()) PutStrings(*e.source_ips, out);
  PutOpt(e.user_agent, out);
  if (e.object_ref.has_value()) {
    const ObjectRef& r = *e.object_ref;
    for (const auto* f :
         {&r.ns, &r.resource, &r.subresource, &r.name, &r.api_group, &r.api_version}) {
      PutOpt(*f, out);
    }
  }
  PutOpt(e.response_status, out);
  out->push_back(e.annotations.has_value() ? '\1' : '\0');
  if (e.annotations.has_value()) {
    // lpstring of EncodeAnnotations, written in place: its length first.
    uint64_t len = 0;
    for (const auto& [k, v] : *e.annotations) {
      len += VarintLength(k.size()) + k.size() + VarintLength(v.size()) + v.size();
    }
    PutVarint64(out, len);
    EncodeAnnotations(*e.annotations, out);
  }
  PutOpt(e.request_object, out);
  PutOpt(e.response_object, out);
  PutVarint64(out, ZigZagEncode(e.request_received_time));
  PutVarint64(out, ZigZagEncode(e.stage_time));
}

bool DecodeRest(std::string_view in, Event* e, RestInfo* info) {
  auto ref = [&]() -> ObjectRef& {
    return e->object_ref.has_value() ? *e->object_ref : e->object_ref.emplace();
  };
  while (!in.empty()) {
    uint8_t tag = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    std::string_view v;
    if (!GetLengthPrefixed(&in, &v)) return false;
    switch (tag) {
      case kKind:
        e->kind.emplace(v);
        break;
      case kApiVersion:
        e->api_version.emplace(v);
        break;
      case kImpersonatedUser:
        if (!DecodeUserInfo(v, &e->impersonated_user.emplace())) return false;
        break;
      case kAuthnMetadata:
        e->authentication_metadata.emplace(v);
        break;
      case kObjectRefPresent:
        info->object_ref_present = true;
        ref();
        break;
      case kObjectUid:
        ref().uid.emplace(v);
        break;
      case kObjectResourceVersion:
        ref().resource_version.emplace(v);
        break;
      case kObjectUnknown:
        ref().unknown_fields.assign(v);
        break;
      case kUserUnknown:
        e->user.unknown_fields.assign(v);
        break;
      case kUnknown:
        e->unknown_fields.assign(v);
        break;
      case kReceivedText:
        e->request_received_timestamp.emplace(v);
        break;
      case kStageText:
        e->stage_timestamp.assign(v);
        break;
      case kReceivedAbsent:
        info->received_text_present = false;
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace kq::storage
