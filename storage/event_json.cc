#include "storage/event_json.h"

#include "common/json_escape.h"

namespace kq::storage {
namespace {

// Writes `"key":` preceded by a comma unless it is the first member.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);  // modelled keys need no escaping
    out_->append("\":");
  }
  void String(std::string_view key, const std::string& value) {
    Key(key);
    AppendJsonQuoted(value, out_);
  }
  void OptString(std::string_view key, const std::optional<std::string>& value) {
    if (value.has_value()) String(key, *value);
  }
  void Raw(std::string_view key, const std::optional<std::string>& raw) {
    if (!raw.has_value()) return;
    Key(key);
    out_->append(*raw);
  }
  void StringList(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    AppendList(values, out_);
  }
  void Unknown(const std::string& members) {
    if (members.empty()) return;
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->append(members);
  }
  void End() { out_->push_back('}'); }

  static void AppendList(const std::vector<std::string>& values, std::string* out) {
    out->push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonQuoted(values[i], out);
    }
    out->push_back(']');
  }

  std::string* out() { return out_; }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void AppendUserInfoJson(const UserInfo& user, std::string* out) {
  ObjectWriter w(out);
  w.OptString("username", user.username);
  w.OptString("uid", user.uid);
  if (user.groups.has_value()) w.StringList("groups", *user.groups);
  if (user.extra.has_value()) {
    w.Key("extra");
    out->push_back('{');
    bool first = true;
    for (const auto& [key, values] : *user.extra) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonQuoted(key, out);
      out->push_back(':');
      ObjectWriter::AppendList(values, out);
    }
    out->push_back('}');
  }
  w.Unknown(user.unknown_fields);
  w.End();
}

void AppendObjectRefJson(const ObjectRef& ref, std::string* out) {
  ObjectWriter w(out);
  w.OptString("resource", ref.resource);
  w.OptString("namespace", ref.ns);
  w.OptString("name", ref.name);
  w.OptString("uid", ref.uid);
  w.OptString("apiGroup", ref.api_group);
  w.OptString("apiVersion", ref.api_version);
  w.OptString("resourceVersion", ref.resource_version);
  w.OptString("subresource", ref.subresource);
  w.Unknown(ref.unknown_fields);
  w.End();
}

void AppendEventJson(const Event& e, std::string* out, bool type_meta) {
  ObjectWriter w(out);
  if (type_meta) {
    w.OptString("kind", e.kind);
    w.OptString("apiVersion", e.api_version);
  }
  w.String("level", e.level);
  w.String("auditID", e.audit_id);
  w.String("stage", e.stage);
  w.OptString("requestURI", e.request_uri);
  w.String("verb", e.verb);
  w.Key("user");
  AppendUserInfoJson(e.user, out);
  if (e.impersonated_user.has_value()) {
    w.Key("impersonatedUser");
    AppendUserInfoJson(*e.impersonated_user, out);
  }
  w.Raw("authenticationMetadata", e.authentication_metadata);
  if (e.source_ips.has_value()) w.StringList("sourceIPs", *e.source_ips);
  w.OptString("userAgent", e.user_agent);
  if (e.object_ref.has_value()) {
    w.Key("objectRef");
    AppendObjectRefJson(*e.object_ref, out);
  }
  w.Raw("responseStatus", e.response_status);
  w.Raw("requestObject", e.request_object);
  w.Raw("responseObject", e.response_object);
  w.OptString("requestReceivedTimestamp", e.request_received_timestamp);
  w.String("stageTimestamp", e.stage_timestamp);
  if (e.annotations.has_value()) {
    w.Key("annotations");
    out->push_back('{');
    bool first = true;
    for (const auto& [key, value] : *e.annotations) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonQuoted(key, out);
      out->push_back(':');
      AppendJsonQuoted(value, out);
    }
    out->push_back('}');
  }
  w.Unknown(e.unknown_fields);
  w.End();
}

std::string EventToJson(const Event& event) {
  std::string out;
  out.reserve(event.raw_size > 0 ? event.raw_size + 64 : 1024);
  AppendEventJson(event, &out);
  return out;
}

}  // namespace kq::storage
