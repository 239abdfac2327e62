// RequestSpec: one simulated API request, and how it is written as audit.k8s.io/v1 events.
//
// A scenario (scenarios.h) fills a RequestSpec; RenderEvent() writes one stage of it as one
// Event JSON object, fields in Go struct order (kind, apiVersion, level, auditID, stage, ...).
// String views point into the Cluster (scenarios.h) that built the spec, which must outlive
// it. Fields documented as "JSON" hold text already escaped as Go's encoder writes it
// (`&` as `\u0026`). Not thread-safe; a Generator reuses one spec for every request.
#ifndef KQ_TOOLS_GEN_REQUEST_H_
#define KQ_TOOLS_GEN_REQUEST_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace kq::gen {

enum class Level : uint8_t { kMetadata, kRequest, kRequestResponse };
std::string_view LevelName(Level level);

// Stage bits: which stages a request's events carry.
enum StageBit : uint8_t {
  kReceived = 1,  // RequestReceived
  kStarted = 2,   // ResponseStarted (long-running requests only)
  kComplete = 4,  // ResponseComplete
};

// The level the generator's audit policy gives a request, in the spirit of the Kubernetes
// documentation's example policy:
//   1. non-resource requests (no objectRef): Metadata;
//   2. secrets, leases, tokenreviews, serviceaccounts/token and the connect subresources
//      (exec, attach, portforward, proxy, log): Metadata;
//   3. get, list, watch: Metadata;
//   4. writes of pods and deployments (no subresource): RequestResponse;
//   5. every other write: Request.
Level PolicyLevel(bool has_object_ref, std::string_view resource, std::string_view subresource,
                  std::string_view verb);

struct RequestSpec {
  // Clears every field so the spec can be filled again without reallocating.
  void Reset();

  Level level = Level::kMetadata;
  uint8_t stages = kComplete;  // StageBit mask
  std::string audit_id;
  std::string_view verb;
  std::string uri;                     // JSON
  std::string_view user_json;          // JSON object
  std::string_view impersonated_json;  // JSON object, empty when absent
  std::string_view source_ips_json;    // JSON array
  std::string_view user_agent;         // JSON string contents

  bool has_object_ref = false;
  std::string_view resource;
  std::string ns;
  std::string name;
  std::string uid;               // objectRef.uid; only set with a request body
  std::string resource_version;  // objectRef.resourceVersion; only set with a request body
  std::string_view api_group;
  std::string_view api_version;
  std::string_view subresource;

  int code = 200;
  int started_code = 200;   // responseStatus.code of the ResponseStarted event
  std::string status_json;  // JSON: `"status":...,"message":...,"reason":...,"details":{...},`

  std::string_view decision = "allow";
  std::string reason;  // plain text; quoted when written
  // Go writes map keys sorted, so other annotations go before or after the authorization ones.
  std::string pre_annotations;   // JSON: `"key":"value",` pairs sorting before "authorization"
  std::string post_annotations;  // JSON: `,"key":"value"` pairs sorting after "authorization"

  TimeMicros received = 0;
  TimeMicros started = 0;
  TimeMicros completed = 0;

  std::string request_body;   // JSON, written in ResponseComplete when level >= Request
  std::string response_body;  // JSON, written in ResponseComplete when level == RequestResponse
};

// Appends the event of `spec` at `stage` (one StageBit) to `out` as one JSON object with no
// trailing newline. With `type_meta` false the event has no kind/apiVersion, as inside a
// webhook EventList.
void RenderEvent(const RequestSpec& spec, StageBit stage, bool type_meta, std::string* out);

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_REQUEST_H_
