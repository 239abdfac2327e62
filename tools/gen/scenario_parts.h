// Cluster::Parts: the steps the scenario builders share, and the builders themselves
// (scenarios_system.cc: cluster components; scenarios_people.cc: people, CI and attackers).
// Internal to tools/gen. One Parts lives for one Cluster::Build() call; not thread-safe.
#ifndef KQ_TOOLS_GEN_SCENARIO_PARTS_H_
#define KQ_TOOLS_GEN_SCENARIO_PARTS_H_

#include <string>
#include <string_view>

#include "common/json_escape.h"
#include "tools/gen/bodies.h"
#include "tools/gen/cast.h"
#include "tools/gen/scenarios.h"
#include "tools/gen/text.h"

namespace kq::gen {

inline constexpr std::string_view kAmp = "\\u0026";  // '&' as Go's JSON encoder writes it

template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&items)[N]) {
  return items[rng.Below(N)];
}

// Shared steps of the scenario builders. Holds the per-request state.
struct Cluster::Parts {
  const Cluster& c;
  Rng& rng;
  Rng body;  // bodies draw from their own stream so that skipping them changes nothing else
  bool bodies;
  RequestSpec* s;

  void As(const Principal& p) {
    s->user_json = p.user_json;
    s->user_agent = p.user_agent;
    s->source_ips_json = p.source_ips_json;
    s->reason = p.reason;
  }

  // Sets the objectRef and the URI path (no query) of a resource request.
  void Object(std::string_view verb, std::string_view resource, std::string_view group,
              std::string_view version, std::string_view ns, std::string_view name,
              std::string_view subresource = {}) {
    s->verb = verb;
    s->has_object_ref = true;
    s->resource = resource;
    s->api_group = group;
    s->api_version = version;
    s->ns = ns;
    s->name = name;
    s->subresource = subresource;
    if (group.empty()) {
      s->uri = "/api/";
      s->uri.append(version);
    } else {
      s->uri = "/apis/";
      s->uri.append(group);
      s->uri.push_back('/');
      s->uri.append(version);
    }
    if (!ns.empty()) {
      s->uri.append("/namespaces/");
      s->uri.append(ns);
    }
    s->uri.push_back('/');
    s->uri.append(resource);
    if (!name.empty()) {
      s->uri.push_back('/');
      s->uri.append(name);
    }
    if (!subresource.empty()) {
      s->uri.push_back('/');
      s->uri.append(subresource);
    }
    s->level = PolicyLevel(true, resource, subresource, verb);
    s->code = verb == "create" ? 201 : 200;
  }

  void NonResource(std::string_view path) {
    s->verb = "get";
    s->uri = path;
    s->level = PolicyLevel(false, {}, {}, "get");
  }

  // objectRef.uid and resourceVersion, as decoded from an update's body.
  void BodyRef(std::string_view uid) {
    s->uid = uid;
    if (s->uid.empty()) AppendUuid(rng, &s->uid);
    c.AppendResourceVersion(s->received, &s->resource_version);
  }

  // The apiserver's processing time for `verb`; a few slow requests get latency annotations.
  void Finish(TimeMicros latency = 0) {
    if (latency == 0) {
      const std::string_view v = s->verb;
      if (v == "get") {
        latency = rng.Between(600, 9'000);
      } else if (v == "list") {
        latency = rng.Chance(0.007) ? rng.Between(500'000, 2'500'000) : rng.Between(2'000, 60'000);
      } else {
        latency = rng.Chance(0.003) ? rng.Between(500'000, 1'200'000) : rng.Between(3'000, 35'000);
      }
    }
    if (latency >= 500'000 && !(s->stages & kStarted)) {
      const TimeMicros etcd = latency * 17 / 20;
      s->pre_annotations.append("\"apiserver.latency.k8s.io/etcd\":\"");
      AppendGoDuration(etcd, &s->pre_annotations);
      s->pre_annotations.append("\",\"apiserver.latency.k8s.io/response-write\":\"");
      AppendGoDuration(latency / 40, &s->pre_annotations);
      s->pre_annotations.append("\",\"apiserver.latency.k8s.io/serialize-response-object\":\"");
      AppendGoDuration(latency / 12, &s->pre_annotations);
      s->pre_annotations.append("\",\"apiserver.latency.k8s.io/total\":\"");
      AppendGoDuration(latency, &s->pre_annotations);
      s->pre_annotations.append("\",");
    }
    s->completed = s->received + latency;
  }

  void Forbid(std::string_view message_user) {
    s->code = 403;
    s->decision = "forbid";
    s->reason.clear();
    std::string message;
    if (!s->name.empty()) {
      message.append(s->resource);
      if (!s->api_group.empty()) {
        message.push_back('.');
        message.append(s->api_group);
      }
      message.append(" \"");
      message.append(s->name);
      message.append("\" is forbidden");
    } else {
      message.append(s->resource);
      message.append(" is forbidden");
    }
    message.append(": User \"");
    message.append(message_user);
    message.append("\" cannot ");
    message.append(s->verb);
    message.append(" resource \"");
    message.append(s->resource);
    message.append("\" in API group \"");
    message.append(s->api_group);
    if (s->ns.empty()) {
      message.append("\" at the cluster scope");
    } else {
      message.append("\" in the namespace \"");
      message.append(s->ns);
      message.push_back('"');
    }
    Failure(message, "Forbidden");
  }

  void Failure(std::string_view message, std::string_view reason) {
    s->status_json = "\"status\":\"Failure\",\"message\":";
    AppendJsonQuoted(message, &s->status_json);
    s->status_json.append(",\"reason\":\"");
    s->status_json.append(reason);
    s->status_json.append("\",\"details\":{");
    if (!s->name.empty()) {
      s->status_json.append("\"name\":\"");
      s->status_json.append(s->name);
      s->status_json.append("\",");
    }
    if (!s->api_group.empty()) {
      s->status_json.append("\"group\":\"");
      s->status_json.append(s->api_group);
      s->status_json.append("\",");
    }
    s->status_json.append("\"kind\":\"");
    s->status_json.append(s->resource);
    s->status_json.append("\"},");
  }

  // "?allowWatchBookmarks=true&...&watch=true" of a client-go reflector; returns its timeout.
  TimeMicros WatchQuery(std::string_view selector) {
    const int64_t timeout = rng.Between(300, 599);  // client-go: minWatchTimeout * (1 + rand)
    s->uri.append("?allowWatchBookmarks=true");
    if (!selector.empty()) {
      s->uri.append(kAmp);
      s->uri.append(selector);
    }
    s->uri.append(kAmp);
    s->uri.append("resourceVersion=");
    c.AppendResourceVersion(s->received - rng.Between(0, 600) * kMicrosPerSecond, &s->uri);
    s->uri.append(kAmp);
    s->uri.append("timeout=");
    AppendGoDuration(timeout * kMicrosPerSecond, &s->uri);
    s->uri.append(kAmp);
    s->uri.append("timeoutSeconds=");
    AppendUint(static_cast<uint64_t>(timeout), &s->uri);
    s->uri.append(kAmp);
    s->uri.append("watch=true");
    return timeout * kMicrosPerSecond;
  }

  void LongRunning(TimeMicros start_delay, TimeMicros duration, int started_code) {
    s->started = s->received + start_delay;
    s->completed = s->started + duration;
    s->started_code = started_code;
    s->code = started_code;
  }

  void PodName(const Workload& w, std::string* out) {
    out->assign(w.name);
    out->push_back('-');
    out->append(w.template_hash);
    out->push_back('-');
    AppendNameSuffix(rng, 5, out);
  }

  const Principal& Person(bool admins_only) {
    if (admins_only) return c.people_[rng.Below(2)];
    return c.people_[rng.Below(c.people_.size())];
  }

  // Reason for a person acting in a namespace: admins through their group's binding,
  // developers through a RoleBinding of "edit" in that namespace.
  void PersonReason(const Principal& p, std::string_view ns) {
    if (!p.reason.empty()) return;
    const std::string_view json = p.user_json;
    const std::string_view group = json.substr(json.find("\"groups\":[\"") + 11);
    const std::string_view group_name = group.substr(0, group.find('"'));
    s->reason = "RBAC: allowed by RoleBinding \"";
    s->reason.append(group_name);
    s->reason.append("-edit/");
    s->reason.append(ns);
    s->reason.append("\" of ClusterRole \"edit\" to Group \"");
    s->reason.append(group_name);
    s->reason.push_back('"');
  }

  void PodSecurity(std::string_view policy) {
    s->post_annotations.append(",\"pod-security.kubernetes.io/enforce-policy\":\"");
    s->post_annotations.append(policy);
    s->post_annotations.push_back('"');
  }

  void NodeLease();
  void NodeStatus();
  void KubeletRead();
  void LeaderLease();
  void SystemWatch();
  void OperatorWatch();
  void ControllerRead();
  void ControllerWrite();
  void ControllerEvent();
  void OperatorReconcile();
  void SchedulerBind();
  void PodCreate(bool privileged);
  void PodDelete(const Principal& actor);
  void CiDeployment();
  void CiConfig();
  void HumanRead(const Principal& actor);
  void HumanForbidden();
  void HumanExec();
  void HumanLogs();
  void NonResourceRequest();
  void Anonymous();
  void ClusterAdminBinding();
  void SecretEnumeration();
  void Impersonation();
};

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_SCENARIO_PARTS_H_
