// Scenario builders for the cluster's own components: kubelets, control plane, controllers,
// operators.
#include "tools/gen/scenario_parts.h"

namespace kq::gen {

void Cluster::Parts::NodeLease() {
  const Node& node = c.nodes_[rng.Below(c.nodes_.size())];
  As(node.kubelet);
  s->reason.clear();  // the Node authorizer gives no reason
  Object("update", "leases", "coordination.k8s.io", "v1", "kube-node-lease", node.name);
  s->uri.append("?timeout=10s");
  BodyRef(node.lease_uid);
  Finish(rng.Between(1'500, 9'000));
}

void Cluster::Parts::NodeStatus() {
  const Node& node = c.nodes_[rng.Below(c.nodes_.size())];
  As(node.kubelet);
  s->reason.clear();
  Object("patch", "nodes", "", "v1", "", node.name, "status");
  s->uri.append("?timeout=10s");
  Finish(rng.Between(3'000, 20'000));
  if (bodies) AppendNodeStatusPatch(body, s->received, &s->request_body);
}

void Cluster::Parts::KubeletRead() {
  const Node& node = c.nodes_[rng.Below(c.nodes_.size())];
  As(node.kubelet);
  s->reason.clear();
  switch (rng.Below(3)) {
    case 0: {
      const Workload& w = c.PickWorkload(rng, false);
      std::string pod;
      PodName(w, &pod);
      Object("get", "pods", "", "v1", w.ns, pod);
      break;
    }
    case 1:
      Object("get", "nodes", "", "v1", "", node.name);
      s->uri.append("?resourceVersion=0");
      s->uri.append(kAmp);
      s->uri.append("timeout=10s");
      break;
    default:
      Object("get", "csinodes", "storage.k8s.io", "v1", "", node.name);
      break;
  }
  Finish();
}

void Cluster::Parts::LeaderLease() {
  const uint64_t who = rng.Below(3 + c.operators_.size());
  std::string_view ns = "kube-system";
  std::string_view lease;
  if (who < 2) {
    As(c.controller_manager_);
    lease = "kube-controller-manager";
  } else if (who < 3) {
    As(c.scheduler_);
    lease = "kube-scheduler";
  } else {
    As(c.operators_[who - 3]);
    ns = kOperators[who - 3].ns;
    lease = c.operator_leases_[who - 3];
  }
  const bool update = rng.Chance(0.8);
  Object(update ? "update" : "get", "leases", "coordination.k8s.io", "v1", ns, lease);
  s->uri.append("?timeout=5s");
  if (update) BodyRef({});
  Finish();
}

void Cluster::Parts::SystemWatch() {
  static constexpr std::string_view kProxySelector =
      "labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2F"
      "service-proxy-name";
  const Node& node = c.nodes_[rng.Below(c.nodes_.size())];
  std::string_view selector;
  switch (rng.Below(5)) {
    case 0:
      As(node.kube_proxy);
      Object("watch", "endpointslices", "discovery.k8s.io", "v1", "", "");
      selector = kProxySelector;
      break;
    case 1:
      As(node.kube_proxy);
      Object("watch", "services", "", "v1", "", "");
      selector = kProxySelector;
      break;
    case 2: {
      As(c.coredns_[rng.Below(c.coredns_.size())]);
      static constexpr std::string_view kWatched[][3] = {
          {"endpointslices", "discovery.k8s.io", "v1"},
          {"services", "", "v1"},
          {"namespaces", "", "v1"}};
      const auto& r = Pick(rng, kWatched);
      Object("watch", r[0], r[1], r[2], "", "");
      break;
    }
    case 3: {
      As(node.kubelet);
      s->reason.clear();
      const Workload& w = c.PickWorkload(rng, false);
      Object("watch", "configmaps", "", "v1", w.ns, "");
      s->name = "kube-root-ca.crt";  // a fieldSelector on metadata.name sets objectRef.name
      selector = "fieldSelector=metadata.name%3Dkube-root-ca.crt";
      break;
    }
    default: {
      As(c.controller_manager_);
      const ControllerDef& def = Pick(rng, kControllers);
      Object("watch", def.resource, def.group, def.version, "", "");
      break;
    }
  }
  const TimeMicros timeout = WatchQuery(selector);
  LongRunning(rng.Between(800, 4'000), timeout + rng.Between(0, 3'000), 200);
}

void Cluster::Parts::OperatorWatch() {
  const size_t i = rng.Below(c.operators_.size());
  const OperatorDef& def = kOperators[i];
  As(c.operators_[i]);
  if (rng.Chance(0.5)) {
    Object("watch", def.resource, def.group, def.version, "", "");
  } else {
    static constexpr std::string_view kWatched[][3] = {
        {"secrets", "", "v1"}, {"configmaps", "", "v1"}, {"pods", "", "v1"}};
    const auto& r = Pick(rng, kWatched);
    Object("watch", r[0], r[1], r[2], "", "");
  }
  const TimeMicros timeout = WatchQuery({});
  LongRunning(rng.Between(800, 4'000), timeout + rng.Between(0, 3'000), 200);
}

void Cluster::Parts::ControllerRead() {
  const size_t i = rng.Below(c.controllers_.size());
  const ControllerDef& def = kControllers[i];
  As(c.controllers_[i]);
  const Workload& w = c.PickWorkload(rng, false);
  const std::string_view ns = def.namespaced ? w.ns : std::string_view();
  if (rng.Chance(0.35)) {
    // Controllers list pods by label when they count a workload's replicas.
    Object("list", "pods", "", "v1", ns, "");
    s->uri.append("?labelSelector=app.kubernetes.io%2Fname%3D");
    s->uri.append(w.name);
  } else if (def.namespaced) {
    std::string name(w.name);
    if (def.resource == "replicasets") {
      name.push_back('-');
      name.append(w.template_hash);
    }
    Object("get", def.resource, def.group, def.version, ns, name);
  } else {
    Object("get", def.resource, def.group, def.version, "",
           c.nodes_[rng.Below(c.nodes_.size())].name);
  }
  Finish();
}

void Cluster::Parts::ControllerWrite() {
  const size_t i = rng.Below(c.controllers_.size());
  const ControllerDef& def = kControllers[i];
  As(c.controllers_[i]);
  const Workload& w = c.PickWorkload(rng, false);
  std::string name(def.namespaced ? w.name
                                  : std::string_view(c.nodes_[rng.Below(c.nodes_.size())].name));
  if (def.resource == "replicasets") {
    name.push_back('-');
    name.append(w.template_hash);
  }
  Object("update", def.resource, def.group, def.version, def.namespaced ? w.ns : "", name,
         "status");
  BodyRef(def.resource == "replicasets" ? std::string_view(w.replicaset_uid) : std::string_view());
  if (rng.Chance(0.04)) {
    std::string message = "Operation cannot be fulfilled on ";
    message.append(def.resource);
    if (!def.group.empty()) {
      message.push_back('.');
      message.append(def.group);
    }
    message.append(" \"");
    message.append(name);
    message.append(
        "\": the object has been modified; please apply your changes to the latest "
        "version and try again");
    s->code = 409;
    Failure(message, "Conflict");
  }
  Finish();
  if (!bodies) return;
  if (def.resource == "replicasets") {
    AppendReplicaSetStatus(s->ns, s->name, s->uid, s->resource_version,
                           static_cast<int>(2 + body.Below(4)), &s->request_body);
  } else {
    std::string api_version(def.group);
    if (!api_version.empty()) api_version.push_back('/');
    api_version.append(def.version);
    AppendCustomStatus(api_version, def.kind, s->ns, s->name, s->uid, s->resource_version,
                       s->received, &s->request_body);
  }
}

void Cluster::Parts::ControllerEvent() {
  static constexpr std::string_view kEvents[][4] = {
      {"replicaset-controller", "ReplicaSet", "SuccessfulCreate", "Created pod: "},
      {"replicaset-controller", "ReplicaSet", "SuccessfulDelete", "Deleted pod: "},
      {"deployment-controller", "Deployment", "ScalingReplicaSet", "Scaled up replica set "},
      {"default-scheduler", "Pod", "Scheduled", "Successfully assigned pod "},
  };
  const auto& e = Pick(rng, kEvents);
  const Workload& w = c.PickWorkload(rng, false);
  if (e[0] == "default-scheduler") {
    As(c.scheduler_);
  } else {
    As(c.controllers_[e[0] == "replicaset-controller" ? 0 : 1]);
  }
  Object("create", "events", "", "v1", w.ns, "");
  Finish();
  if (!bodies) return;
  std::string object(w.name);
  object.push_back('-');
  object.append(w.template_hash);
  std::string pod;
  PodName(w, &pod);
  std::string message(e[3]);
  message.append(e[1] == "Deployment" ? std::string_view(object) : std::string_view(pod));
  if (e[1] == "Pod") object = pod;
  if (e[1] == "Deployment") object = w.name;
  AppendCoreEvent(body, w.ns, e[1], object, e[2], e[0], message, s->received, &s->request_body);
}

void Cluster::Parts::OperatorReconcile() {
  const size_t i = rng.Below(c.operators_.size());
  const OperatorDef& def = kOperators[i];
  As(c.operators_[i]);
  const Workload& w = c.PickWorkload(rng, true);
  const uint64_t what = rng.Below(10);
  if (what < 5) {
    Object("get", def.resource, def.group, def.version, w.ns, w.name);
  } else if (what < 7 || def.resource == "deployments") {
    Object("list", def.resource, def.group, def.version, w.ns, "");
    s->uri.append("?limit=500");
  } else {
    Object("update", def.resource, def.group, def.version, w.ns, w.name, "status");
    BodyRef({});
  }
  Finish();
  if (bodies && s->verb == "update") {
    std::string api_version(def.group);
    api_version.push_back('/');
    api_version.append(def.version);
    AppendCustomStatus(api_version, def.kind, s->ns, s->name, s->uid, s->resource_version,
                       s->received, &s->request_body);
  }
}

void Cluster::Parts::SchedulerBind() {
  As(c.scheduler_);
  const Workload& w = c.PickWorkload(rng, false);
  std::string pod;
  PodName(w, &pod);
  const Node& node = c.nodes_[3 + rng.Below(c.nodes_.size() - 3)];
  Object("create", "pods", "", "v1", w.ns, pod, "binding");
  Finish();
  if (bodies) AppendBinding(s->ns, s->name, node.name, &s->request_body);
}

void Cluster::Parts::PodCreate(bool privileged) {
  const Workload* w = &c.PickWorkload(rng, false);
  std::string pod;
  if (privileged) {
    // An attacker with a stolen token, or a contractor with a "node shell" tool, in web.
    const bool attacker = rng.Chance(0.6);
    As(attacker ? c.compromised_ : c.people_[kContractor]);
    for (const Workload& candidate : c.workloads_) {
      if (candidate.name == "frontend") w = &candidate;
    }
    if (!attacker) PersonReason(c.people_[kContractor], w->ns);
    pod = rng.Chance(0.5) ? "node-shell-" : "debug-";
    AppendNameSuffix(rng, 5, &pod);
    Object("create", "pods", "", "v1", w->ns, "");
    s->uri.append("?fieldManager=kubectl-run");
  } else {
    As(c.controllers_[0]);
    PodName(*w, &pod);
    Object("create", "pods", "", "v1", w->ns, "");  // generateName: no name in objectRef
  }
  PodSecurity(privileged || w->ns == "kube-system" ? "privileged:latest" : "restricted:latest");
  Finish();
  if (!bodies) return;
  std::string owner(w->name);
  owner.push_back('-');
  owner.append(w->template_hash);
  PodParams p;
  p.ns = w->ns;
  p.name = pod;
  if (privileged) {
    p.app = "shell";
    p.image = "docker.io/library/alpine:3.18";
    p.node = c.nodes_[3 + body.Below(c.nodes_.size() - 3)].name;
    p.privileged = true;
  } else {
    p.app = w->name;
    p.image = w->image;
    p.service_account = w->service_account;
    p.owner_kind = "ReplicaSet";
    p.owner_name = owner;
    p.owner_uid = w->replicaset_uid;
    p.template_hash = w->template_hash;
  }
  AppendPod(body, p, &s->request_body);
  std::string uid;
  AppendUuid(body, &uid);
  std::string rv;
  c.AppendResourceVersion(s->received, &rv);
  p.uid = uid;
  p.resource_version = rv;
  p.created = s->received;
  p.with_status = true;
  AppendPod(body, p, &s->response_body);
}

void Cluster::Parts::PodDelete(const Principal& actor) {
  As(actor);
  const bool person = actor.username.find('@') != std::string::npos;
  const Workload& w = c.PickWorkload(rng, person);
  std::string pod;
  PodName(w, &pod);
  const uint64_t what = person ? rng.Below(10) : 0;
  if (what < 7) {
    Object("delete", "pods", "", "v1", w.ns, pod);
  } else if (what < 9) {
    Object("delete", "deployments", "apps", "v1", w.ns, w.name);
  } else {
    std::string name(w.name);
    name.append("-config");
    Object("delete", "configmaps", "", "v1", w.ns, name);
  }
  if (person) PersonReason(actor, w.ns);
  Finish();
  if (!bodies) return;
  AppendDeleteOptions(&s->request_body);
  if (s->level != Level::kRequestResponse) return;
  std::string uid;
  AppendUuid(body, &uid);
  std::string rv;
  c.AppendResourceVersion(s->received, &rv);
  if (s->resource == "pods") {
    PodParams p;
    p.ns = w.ns;
    p.name = pod;
    p.app = w.name;
    p.image = w.image;
    p.node = c.nodes_[3 + body.Below(c.nodes_.size() - 3)].name;
    p.service_account = w.service_account;
    p.uid = uid;
    p.resource_version = rv;
    p.created = s->received - body.Between(60, 30 * 86400) * kMicrosPerSecond;
    p.with_status = true;
    AppendPod(body, p, &s->response_body);
  } else {
    s->response_body =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
        "\"details\":{\"name\":\"" +
        s->name + "\",\"group\":\"apps\",\"kind\":\"deployments\",\"uid\":\"" + uid + "\"}}";
  }
}

void Cluster::Parts::NonResourceRequest() {
  const uint64_t what = rng.Below(20);
  if (what < 7) {
    As(c.prometheus_);
    NonResource("/metrics");
  } else if (what < 14) {
    As(rng.Chance(0.5) ? c.people_[rng.Below(c.people_.size())] : c.ci_[rng.Below(c.ci_.size())]);
    NonResource(rng.Chance(0.5) ? "/api?timeout=32s" : "/apis?timeout=32s");
    s->reason =
        "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole "
        "\"system:discovery\" to Group \"system:authenticated\"";
  } else if (what < 17) {
    As(c.people_[rng.Below(c.people_.size())]);
    NonResource("/version?timeout=32s");
    s->reason =
        "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of "
        "ClusterRole \"system:public-info-viewer\" to Group \"system:authenticated\"";
  } else if (what < 19) {
    As(c.people_[rng.Below(c.people_.size())]);
    NonResource("/openapi/v2?timeout=32s");
    s->reason =
        "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole "
        "\"system:discovery\" to Group \"system:authenticated\"";
    if (rng.Chance(0.6)) s->code = 304;
  } else {
    As(c.nodes_[rng.Below(c.nodes_.size())].kubelet);
    NonResource("/readyz");
    s->reason =
        "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of "
        "ClusterRole \"system:public-info-viewer\" to Group \"system:authenticated\"";
  }
  Finish(rng.Between(300, 4'000));
}

}  // namespace kq::gen
