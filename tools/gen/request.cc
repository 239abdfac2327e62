#include "tools/gen/request.h"

#include "common/json_escape.h"
#include "tools/gen/text.h"

namespace kq::gen {
namespace {

bool IsRead(std::string_view verb) { return verb == "get" || verb == "list" || verb == "watch"; }

void AppendField(std::string_view key, std::string_view value, std::string* out) {
  out->push_back('"');
  out->append(key);
  out->append("\":\"");
  out->append(value);
  out->push_back('"');
}

void AppendObjectRef(const RequestSpec& spec, bool with_body_fields, std::string* out) {
  out->append(",\"objectRef\":{");
  AppendField("resource", spec.resource, out);
  if (!spec.ns.empty()) {
    out->push_back(',');
    AppendField("namespace", spec.ns, out);
  }
  if (!spec.name.empty()) {
    out->push_back(',');
    AppendField("name", spec.name, out);
  }
  if (with_body_fields && !spec.uid.empty()) {
    out->push_back(',');
    AppendField("uid", spec.uid, out);
  }
  if (!spec.api_group.empty()) {
    out->push_back(',');
    AppendField("apiGroup", spec.api_group, out);
  }
  out->push_back(',');
  AppendField("apiVersion", spec.api_version, out);
  if (with_body_fields && !spec.resource_version.empty()) {
    out->push_back(',');
    AppendField("resourceVersion", spec.resource_version, out);
  }
  if (!spec.subresource.empty()) {
    out->push_back(',');
    AppendField("subresource", spec.subresource, out);
  }
  out->push_back('}');
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kMetadata:
      return "Metadata";
    case Level::kRequest:
      return "Request";
    case Level::kRequestResponse:
      return "RequestResponse";
  }
  return "Metadata";
}

Level PolicyLevel(bool has_object_ref, std::string_view resource, std::string_view subresource,
                  std::string_view verb) {
  if (!has_object_ref) return Level::kMetadata;
  if (resource == "secrets" || resource == "leases" || resource == "tokenreviews" ||
      subresource == "token" || subresource == "exec" || subresource == "attach" ||
      subresource == "portforward" || subresource == "proxy" || subresource == "log") {
    return Level::kMetadata;
  }
  if (IsRead(verb)) return Level::kMetadata;
  if ((resource == "pods" || resource == "deployments") && subresource.empty()) {
    return Level::kRequestResponse;
  }
  return Level::kRequest;
}

void RequestSpec::Reset() {
  level = Level::kMetadata;
  stages = kComplete;
  audit_id.clear();
  verb = {};
  uri.clear();
  user_json = {};
  impersonated_json = {};
  source_ips_json = {};
  user_agent = {};
  has_object_ref = false;
  resource = {};
  ns.clear();
  name.clear();
  uid.clear();
  resource_version.clear();
  api_group = {};
  api_version = {};
  subresource = {};
  code = 200;
  started_code = 200;
  status_json.clear();
  decision = "allow";
  reason.clear();
  pre_annotations.clear();
  post_annotations.clear();
  received = started = completed = 0;
  request_body.clear();
  response_body.clear();
}

void RenderEvent(const RequestSpec& spec, StageBit stage, bool type_meta, std::string* out) {
  const bool complete = stage == kComplete;
  const bool bodies = complete && spec.level != Level::kMetadata;
  out->push_back('{');
  if (type_meta) out->append("\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",");
  AppendField("level", LevelName(spec.level), out);
  out->push_back(',');
  AppendField("auditID", spec.audit_id, out);
  out->push_back(',');
  AppendField("stage",
              stage == kReceived  ? "RequestReceived"
              : stage == kStarted ? "ResponseStarted"
                                  : "ResponseComplete",
              out);
  out->push_back(',');
  AppendField("requestURI", spec.uri, out);
  out->push_back(',');
  AppendField("verb", spec.verb, out);
  out->append(",\"user\":");
  out->append(spec.user_json);
  if (!spec.impersonated_json.empty()) {
    out->append(",\"impersonatedUser\":");
    out->append(spec.impersonated_json);
  }
  out->append(",\"sourceIPs\":");
  out->append(spec.source_ips_json);
  if (!spec.user_agent.empty()) {
    out->push_back(',');
    AppendField("userAgent", spec.user_agent, out);
  }
  // uid and resourceVersion are copied from the decoded request body, after RequestReceived.
  if (spec.has_object_ref) AppendObjectRef(spec, stage != kReceived, out);
  if (stage != kReceived) {
    out->append(",\"responseStatus\":{\"metadata\":{},");
    out->append(spec.status_json);
    out->append("\"code\":");
    AppendUint(static_cast<uint64_t>(stage == kStarted ? spec.started_code : spec.code), out);
    out->push_back('}');
  }
  if (bodies && !spec.request_body.empty()) {
    out->append(",\"requestObject\":");
    out->append(spec.request_body);
  }
  if (bodies && spec.level == Level::kRequestResponse && !spec.response_body.empty()) {
    out->append(",\"responseObject\":");
    out->append(spec.response_body);
  }
  out->append(",\"requestReceivedTimestamp\":\"");
  AppendMicroTime(spec.received, out);
  out->append("\",\"stageTimestamp\":\"");
  AppendMicroTime(stage == kReceived  ? spec.received
                  : stage == kStarted ? spec.started
                                      : spec.completed,
                  out);
  out->push_back('"');
  // The authorization filter runs after RequestReceived is emitted, so that stage carries no
  // annotations.
  if (stage != kReceived) {
    out->append(",\"annotations\":{");
    out->append(spec.pre_annotations);
    AppendField("authorization.k8s.io/decision", spec.decision, out);
    out->append(",\"authorization.k8s.io/reason\":");
    AppendJsonQuoted(spec.reason, out);
    out->append(spec.post_annotations);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace kq::gen
