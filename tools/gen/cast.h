// The fixed tables the simulated cluster is made of: workloads, controllers, operators, people.
// Internal to tools/gen; constant data, thread-safe.
#ifndef KQ_TOOLS_GEN_CAST_H_
#define KQ_TOOLS_GEN_CAST_H_

#include <cstdint>
#include <string_view>

namespace kq::gen {

inline constexpr std::string_view kKubeVersion = "v1.28.4";
inline constexpr std::string_view kKubeCommit = "bae2c62";

struct AppDef {
  std::string_view ns;
  std::string_view name;
  std::string_view image;
  uint32_t weight;  // share of controller and operator activity
};

// kube-system is the heaviest namespace; a few application namespaces follow.
inline constexpr AppDef kApps[] = {
    {"kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.10.1", 14},
    {"kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.6.4", 10},
    {"kube-system", "ebs-csi-controller",
     "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.25.0", 8},
    {"monitoring", "prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.70.0",
     4},
    {"monitoring", "kube-state-metrics",
     "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.10.1", 4},
    {"monitoring", "grafana", "docker.io/grafana/grafana:10.2.2", 3},
    {"payments", "payments-api", "registry.example.com/payments/payments-api:1.42.3", 4},
    {"payments", "ledger", "registry.example.com/payments/ledger:2.7.0", 3},
    {"payments", "fraud-scorer", "registry.example.com/payments/fraud-scorer:0.19.4", 2},
    {"checkout", "checkout-web", "registry.example.com/checkout/checkout-web:3.3.1", 4},
    {"checkout", "cart", "registry.example.com/checkout/cart:1.8.0", 3},
    {"checkout", "pricing", "registry.example.com/checkout/pricing:0.44.2", 2},
    {"vault", "vault", "docker.io/hashicorp/vault:1.15.2", 2},
    {"vault", "vault-agent-injector", "docker.io/hashicorp/vault-k8s:1.3.1", 2},
    {"web", "frontend", "registry.example.com/web/frontend:5.12.0", 4},
    {"web", "api-gateway", "registry.example.com/web/api-gateway:2.3.8", 3},
    {"search", "search-api", "registry.example.com/search/search-api:1.2.0", 3},
    {"search", "indexer", "registry.example.com/search/indexer:1.2.0", 2},
    {"logging", "loki", "docker.io/grafana/loki:2.9.2", 3},
    {"logging", "fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:2.2.0", 3},
    {"ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.9.4",
     4},
    {"cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.13.2", 2},
    {"argocd", "argocd-repo-server", "quay.io/argoproj/argocd:v2.9.2", 2},
    {"argocd", "argocd-server", "quay.io/argoproj/argocd:v2.9.2", 2},
    {"default", "hello-world", "registry.example.com/demo/hello-world:1.0.0", 1},
};

// kube-controller-manager's controllers, each with its own service account, and the
// resource each reads and whose status it writes.
struct ControllerDef {
  std::string_view name;
  std::string_view group;
  std::string_view version;
  std::string_view resource;
  std::string_view kind;
  bool namespaced;
};

inline constexpr ControllerDef kControllers[] = {
    {"replicaset-controller", "apps", "v1", "replicasets", "ReplicaSet", true},
    {"deployment-controller", "apps", "v1", "deployments", "Deployment", true},
    {"endpointslice-controller", "discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true},
    {"generic-garbage-collector", "apps", "v1", "replicasets", "ReplicaSet", true},
    {"horizontal-pod-autoscaler", "autoscaling", "v2", "horizontalpodautoscalers",
     "HorizontalPodAutoscaler", true},
    {"resourcequota-controller", "", "v1", "resourcequotas", "ResourceQuota", true},
    {"cronjob-controller", "batch", "v1", "cronjobs", "CronJob", true},
    {"job-controller", "batch", "v1", "jobs", "Job", true},
    {"daemon-set-controller", "apps", "v1", "daemonsets", "DaemonSet", true},
    {"statefulset-controller", "apps", "v1", "statefulsets", "StatefulSet", true},
    {"node-controller", "", "v1", "nodes", "Node", false},
    {"persistent-volume-binder", "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true},
};

// Operators running in the cluster: they watch, reconcile and update their custom resources.
struct OperatorDef {
  std::string_view ns;
  std::string_view account;
  std::string_view user_agent;
  std::string_view group;
  std::string_view version;
  std::string_view resource;
  std::string_view kind;
};

inline constexpr OperatorDef kOperators[] = {
    {"monitoring", "prometheus-operator", "PrometheusOperator/0.70.0", "monitoring.coreos.com",
     "v1", "servicemonitors", "ServiceMonitor"},
    {"cert-manager", "cert-manager",
     "cert-manager-certificates-issuing/v1.13.2 (linux/amd64) cert-manager/a5da88d",
     "cert-manager.io", "v1", "certificates", "Certificate"},
    {"argocd", "argocd-application-controller",
     "argocd-application-controller/v2.9.2+c5ea5c4 (linux/amd64) kubernetes/$Format", "argoproj.io",
     "v1alpha1", "applications", "Application"},
    {"ingress-nginx", "ingress-nginx",
     "nginx-ingress-controller/v1.9.4 (linux/amd64) ingress-nginx/a7c4f1d", "networking.k8s.io",
     "v1", "ingresses", "Ingress"},
    {"monitoring", "kube-state-metrics",
     "kube-state-metrics/v2.10.1 (linux/amd64) kubernetes/$Format", "apps", "v1", "deployments",
     "Deployment"},
};

// People using kubectl. `admin` people are cluster admins through their group.
struct PersonDef {
  std::string_view username;
  std::string_view group;
  std::string_view user_agent;
  std::string_view ip;
  bool admin;
};

inline constexpr PersonDef kPeople[] = {
    {"alice@example.com", "sre", "kubectl/v1.28.4 (darwin/arm64) kubernetes/bae2c62",
     "203.0.113.10", true},
    {"bob@example.com", "sre", "kubectl/v1.27.8 (linux/amd64) kubernetes/6a42e66", "203.0.113.24",
     true},
    {"carol@example.com", "developers", "kubectl/v1.28.2 (darwin/arm64) kubernetes/89a4ea3",
     "203.0.113.51", false},
    {"dan@example.com", "developers", "k9s/v0.29.1 (darwin/arm64) kubernetes/$Format",
     "203.0.113.77", false},
    {"erin@example.com", "payments-team", "kubectl/v1.29.0 (windows/amd64) kubernetes/3f7a50f",
     "203.0.113.90", false},
    {"frank@contractor.example.net", "contractors",
     "kubectl/v1.26.3 (linux/amd64) kubernetes/9e64410", "192.0.2.55", false},
};
inline constexpr size_t kContractor = 5;  // index of the person RBAC often denies

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_CAST_H_
