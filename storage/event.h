// The Event model: one Kubernetes audit event (audit.k8s.io/v1 Event, also v1beta1), as decoded
// from JSON (storage/decoder.h) and written back (storage/event_json.h).
//
// Lossless by construction: every field the decoder does not model is kept as raw JSON in
// `unknown_fields` (for the event) or `unknown_fields` of the nested struct, bodies are kept as
// raw JSON text, timestamps keep their text exactly as written, and every optional field records
// whether it was present (std::optional), so writing an Event back gives JSON equal to the input
// (key order aside). Strings are held unescaped (UTF-8).
//
// Plain value types; no thread-safety concerns beyond those of std::string.
#ifndef KQ_STORAGE_EVENT_H_
#define KQ_STORAGE_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace kq::storage {

// authentication/v1 UserInfo. Every field is omitempty in Kubernetes, so each records presence.
struct UserInfo {
  std::optional<std::string> username;
  std::optional<std::string> uid;
  std::optional<std::vector<std::string>> groups;
  // map[string][]string, in input order.
  std::optional<std::vector<std::pair<std::string, std::vector<std::string>>>> extra;
  // Members not modelled above: raw JSON `"key":value` pairs joined by ',' ("" when none).
  std::string unknown_fields;

  bool operator==(const UserInfo&) const = default;
};

// audit/v1 ObjectReference.
struct ObjectRef {
  std::optional<std::string> resource;
  std::optional<std::string> ns;  // JSON "namespace"
  std::optional<std::string> name;
  std::optional<std::string> uid;
  std::optional<std::string> api_group;
  std::optional<std::string> api_version;
  std::optional<std::string> resource_version;
  std::optional<std::string> subresource;
  std::string unknown_fields;  // as in UserInfo

  bool operator==(const ObjectRef&) const = default;
};

// One audit event. Required by the decoder: level, auditID, stage, verb, requestURI (may be ""),
// user (object, may be {}), requestReceivedTimestamp (or, for v1beta1, the legacy "timestamp"),
// and stageTimestamp.
struct Event {
  // TypeMeta: present in log-backend lines, absent in webhook EventList items.
  std::optional<std::string> kind;
  std::optional<std::string> api_version;

  std::string level;     // "Metadata", "Request", "RequestResponse" ("None" is never emitted)
  std::string audit_id;  // client-controllable: not unique
  std::string stage;     // "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"
  std::optional<std::string> request_uri;  // always present in real events
  std::string verb;
  UserInfo user;
  std::optional<UserInfo> impersonated_user;
  std::optional<std::string> authentication_metadata;  // raw JSON object (k8s 1.35+)
  std::optional<std::vector<std::string>> source_ips;
  std::optional<std::string> user_agent;
  std::optional<ObjectRef> object_ref;
  std::optional<std::string> response_status;  // raw JSON object, as written
  std::optional<int64_t> code;                 // responseStatus.code, derived (not written)
  std::optional<std::string> request_object;   // raw JSON (object, or array for JSON patch)
  std::optional<std::string> response_object;  // raw JSON
  // Timestamps: the text exactly as written, and its value in UTC micros. A text of nullopt
  // means the field was absent (v1beta1 events may carry only the legacy "timestamp").
  std::optional<std::string> request_received_timestamp;
  TimeMicros request_received_time = 0;
  std::string stage_timestamp;
  TimeMicros stage_time = 0;
  std::optional<std::vector<std::pair<std::string, std::string>>> annotations;
  // Top-level members not modelled above (v1beta1 "timestamp" and "metadata", fields from newer
  // Kubernetes versions, collector additions): raw JSON `"key":value` pairs joined by ','.
  std::string unknown_fields;

  // Attribution, not part of the event JSON: set by the ingest pipeline and the store.
  std::string env;
  std::string cluster;

  // Size in bytes of the JSON this event was decoded from (0 when built in code).
  uint64_t raw_size = 0;

  // Convenience accessors; "" when absent.
  const std::string& Namespace() const;
  const std::string& Name() const;
  const std::string& Resource() const;
  // annotations[key] or nullptr.
  const std::string* Annotation(std::string_view key) const;

  bool operator==(const Event&) const = default;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_EVENT_H_
