// Cluster construction: the fixed cast of one simulated cluster (see scenarios.h).
#include <string>

#include "tools/gen/cast.h"
#include "tools/gen/scenarios.h"
#include "tools/gen/text.h"

namespace kq::gen {
namespace {

std::string Ips(std::string_view a, std::string_view b = {}) {
  std::string out = "[\"";
  out.append(a);
  out.push_back('"');
  if (!b.empty()) {
    out.append(",\"");
    out.append(b);
    out.push_back('"');
  }
  out.push_back(']');
  return out;
}

std::string PodIp(Rng& rng) {
  std::string ip = "10.244.";
  AppendUint(rng.Below(16), &ip);
  ip.push_back('.');
  AppendUint(2 + rng.Below(250), &ip);
  return ip;
}

std::string ComponentAgent(std::string_view component, std::string_view suffix) {
  std::string ua(component);
  ua.push_back('/');
  ua.append(kKubeVersion);
  ua.append(" (linux/amd64) kubernetes/");
  ua.append(kKubeCommit);
  if (!suffix.empty()) {
    ua.push_back('/');
    ua.append(suffix);
  }
  return ua;
}

std::string RbacReason(std::string_view binding, std::string_view role, std::string_view kind,
                       std::string_view subject) {
  std::string out = "RBAC: allowed by ClusterRoleBinding \"";
  out.append(binding);
  out.append("\" of ClusterRole \"");
  out.append(role);
  out.append("\" to ");
  out.append(kind);
  out.append(" \"");
  out.append(subject);
  out.push_back('"');
  return out;
}

// A service account; when `pod` is set the token is bound to that pod (user.extra, 1.29+).
Principal ServiceAccount(Rng& rng, std::string_view ns, std::string_view name, std::string_view pod,
                         std::string_view node, std::string_view ip, std::string user_agent,
                         std::string_view role) {
  Principal p;
  p.username = "system:serviceaccount:";
  p.username.append(ns);
  p.username.push_back(':');
  p.username.append(name);
  p.user_json = "{\"username\":\"" + p.username + "\",\"uid\":\"";
  AppendUuid(rng, &p.user_json);
  p.user_json.append("\",\"groups\":[\"system:serviceaccounts\",\"system:serviceaccounts:");
  p.user_json.append(ns);
  p.user_json.append("\",\"system:authenticated\"]");
  if (!pod.empty()) {
    p.user_json.append(",\"extra\":{\"authentication.kubernetes.io/credential-id\":[\"JTI=");
    AppendUuid(rng, &p.user_json);
    p.user_json.append("\"],\"authentication.kubernetes.io/node-name\":[\"");
    p.user_json.append(node);
    p.user_json.append("\"],\"authentication.kubernetes.io/node-uid\":[\"");
    AppendUuid(rng, &p.user_json);
    p.user_json.append("\"],\"authentication.kubernetes.io/pod-name\":[\"");
    p.user_json.append(pod);
    p.user_json.append("\"],\"authentication.kubernetes.io/pod-uid\":[\"");
    AppendUuid(rng, &p.user_json);
    p.user_json.append("\"]}");
  }
  p.user_json.push_back('}');
  p.user_agent = std::move(user_agent);
  p.source_ips_json = Ips(ip);
  std::string subject(name);
  subject.push_back('/');
  subject.append(ns);
  p.reason =
      RbacReason(role.empty() ? name : role, role.empty() ? name : role, "ServiceAccount", subject);
  return p;
}

Principal User(std::string_view username, std::string_view groups_json, std::string user_agent,
               std::string_view ip, std::string reason) {
  Principal p;
  p.username = username;
  p.user_json = "{\"username\":\"" + p.username + "\",\"groups\":" + std::string(groups_json) + "}";
  p.user_agent = std::move(user_agent);
  p.source_ips_json = Ips(ip);
  p.reason = std::move(reason);
  return p;
}

std::string PodName(Rng& rng, std::string_view app) {
  std::string pod(app);
  pod.push_back('-');
  AppendNameSuffix(rng, 10, &pod);
  pod.push_back('-');
  AppendNameSuffix(rng, 5, &pod);
  return pod;
}

}  // namespace

Cluster::Cluster(std::string_view name, uint64_t seed, TimeMicros start)
    : name_(name), start_(start) {
  // The cast depends on the cluster name and the seed, never on the request stream.
  uint64_t mix = seed ^ 0x6b71'6765'6e00'0000ULL;
  for (char c : name) mix = (mix ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  Rng rng(mix);

  for (int i = 0; i < 15; ++i) {
    Node node;
    node.name = name_;
    if (i < 3) {
      node.name.append("-control-plane-");
      AppendUint(static_cast<uint64_t>(i), &node.name);
    } else {
      node.name.append(i < 11 ? "-pool-a-" : "-pool-b-");
      AppendNameSuffix(rng, 5, &node.name);
    }
    node.ip = "10.0.";
    AppendUint(static_cast<uint64_t>(i % 3 + 1), &node.ip);
    node.ip.push_back('.');
    AppendUint(10 + rng.Below(240), &node.ip);
    AppendUuid(rng, &node.lease_uid);
    node.kubelet = User("system:node:" + node.name, R"(["system:nodes","system:authenticated"])",
                        ComponentAgent("kubelet", ""), node.ip, "");
    std::string proxy_pod = "kube-proxy-";
    AppendNameSuffix(rng, 5, &proxy_pod);
    node.kube_proxy =
        ServiceAccount(rng, "kube-system", "kube-proxy", proxy_pod, node.name, node.ip,
                       ComponentAgent("kube-proxy", ""), "kubeadm:node-proxier");
    nodes_.push_back(std::move(node));
  }
  const std::string& cp_ip = nodes_[0].ip;

  uint32_t all = 0;
  uint32_t apps = 0;
  for (const AppDef& def : kApps) {
    Workload w;
    w.ns = def.ns;
    w.name = def.name;
    w.image = def.image;
    AppendNameSuffix(rng, 10, &w.template_hash);
    AppendUuid(rng, &w.deployment_uid);
    AppendUuid(rng, &w.replicaset_uid);
    w.service_account = def.name;
    workloads_.push_back(std::move(w));
    all += def.weight;
    if (def.ns != "kube-system") apps += def.weight;
    workload_weights_.push_back(all);
    app_weights_.push_back(apps);
  }

  controller_manager_ =
      User("system:kube-controller-manager", R"(["system:authenticated"])",
           ComponentAgent("kube-controller-manager", "leader-election"), cp_ip,
           RbacReason("system:kube-controller-manager", "system:kube-controller-manager", "User",
                      "system:kube-controller-manager"));
  scheduler_ = User("system:kube-scheduler", R"(["system:authenticated"])",
                    ComponentAgent("kube-scheduler", "scheduler"), cp_ip,
                    RbacReason("system:kube-scheduler", "system:kube-scheduler", "User",
                               "system:kube-scheduler"));
  for (const ControllerDef& def : kControllers) {
    std::string role = "system:controller:";
    role.append(def.name);
    controllers_.push_back(ServiceAccount(rng, "kube-system", def.name, "", "", cp_ip,
                                          ComponentAgent("kube-controller-manager", def.name),
                                          role));
  }
  for (int i = 0; i < 2; ++i) {
    const Node& node = nodes_[3 + rng.Below(nodes_.size() - 3)];
    coredns_.push_back(ServiceAccount(
        rng, "kube-system", "coredns", PodName(rng, "coredns"), node.name, PodIp(rng),
        "coredns/v0.0.0 (linux/amd64) kubernetes/$Format", "system:coredns"));
  }
  for (const OperatorDef& def : kOperators) {
    const Node& node = nodes_[3 + rng.Below(nodes_.size() - 3)];
    operators_.push_back(ServiceAccount(rng, def.ns, def.account, PodName(rng, def.account),
                                        node.name, PodIp(rng), std::string(def.user_agent), ""));
    std::string lease(def.account);
    lease.append("-leader");
    operator_leases_.push_back(std::move(lease));
  }
  static constexpr std::string_view kCiAgents[] = {
      "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62", "Helm/3.13.2",
      "argocd-application-controller/v2.9.2+c5ea5c4 (linux/amd64) kubernetes/$Format"};
  static constexpr std::string_view kCiAccounts[][2] = {
      {"ci", "deployer"}, {"ci", "helm"}, {"argocd", "argocd-application-controller"}};
  for (size_t i = 0; i < 3; ++i) {
    const Node& node = nodes_[3 + rng.Below(nodes_.size() - 3)];
    ci_.push_back(ServiceAccount(rng, kCiAccounts[i][0], kCiAccounts[i][1],
                                 PodName(rng, kCiAccounts[i][1]), node.name, PodIp(rng),
                                 std::string(kCiAgents[i]), "ci-deployer"));
  }
  for (const PersonDef& def : kPeople) {
    std::string groups = "[\"";
    groups.append(def.group);
    groups.append("\",\"system:authenticated\"]");
    std::string reason;
    if (def.admin) {
      reason = RbacReason(std::string(def.group) + "-cluster-admin", "cluster-admin", "Group",
                          def.group);
    }
    people_.push_back(User(def.username, groups, std::string(def.user_agent), def.ip, reason));
  }
  {
    const Node& node = nodes_[3 + rng.Below(nodes_.size() - 3)];
    prometheus_ = ServiceAccount(rng, "monitoring", "prometheus-k8s", "prometheus-k8s-0", node.name,
                                 PodIp(rng), "Prometheus/2.48.0", "prometheus-k8s");
    compromised_ =
        ServiceAccount(rng, "web", "frontend", PodName(rng, "frontend"), node.name, PodIp(rng),
                       "kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f", "frontend");
  }
  static constexpr std::string_view kAnonymousAgents[][2] = {
      {"curl/7.88.1", "198.51.100.23"},
      {"python-requests/2.31.0", "198.51.100.140"},
      {"Go-http-client/1.1", "198.51.100.201"},
  };
  for (const auto& [agent, ip] : kAnonymousAgents) {
    anonymous_.push_back(User("system:anonymous", R"(["system:unauthenticated"])",
                              std::string(agent), ip,
                              RbacReason("system:public-info-viewer", "system:public-info-viewer",
                                         "Group", "system:unauthenticated")));
  }
  impersonated_ = {
      R"({"username":"system:serviceaccount:payments:payments-api","groups":["system:serviceaccounts","system:serviceaccounts:payments","system:authenticated"]})",
      R"({"username":"admin","groups":["system:masters"]})",
      R"({"username":"carol@example.com","groups":["developers","system:authenticated"]})",
  };
}

const Workload& Cluster::PickWorkload(Rng& rng, bool apps_only) const {
  const std::vector<uint32_t>& weights = apps_only ? app_weights_ : workload_weights_;
  const uint32_t r = static_cast<uint32_t>(rng.Below(weights.back()));
  size_t i = 0;
  while (weights[i] <= r) ++i;
  return workloads_[i];
}

void Cluster::AppendResourceVersion(TimeMicros t, std::string* out) const {
  // etcd revisions grow with time; about 30 writes a second cluster-wide.
  AppendUint(41'000'000 + static_cast<uint64_t>((t - start_) / 33'000), out);
}

}  // namespace kq::gen
