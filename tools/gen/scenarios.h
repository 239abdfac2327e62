// The simulated cluster and the kinds of requests its clients make.
//
// Cluster holds the fixed cast of one cluster (nodes, namespaces, workloads, service accounts,
// people, attackers), built once from the cluster name and the seed. Cluster::Build() turns a
// Scenario and a random stream into one RequestSpec. ScenarioTable() lists every scenario with
// its share of requests and the stages its requests emit, so tests can derive the expected mix.
// A Cluster is immutable after construction and safe to share between threads; the specs it
// fills point into it and must not outlive it.
#ifndef KQ_TOOLS_GEN_SCENARIOS_H_
#define KQ_TOOLS_GEN_SCENARIOS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "tools/gen/random.h"
#include "tools/gen/request.h"

namespace kq::gen {

enum class Scenario : uint8_t {
  kNodeLease,            // kubelet renews its Lease in kube-node-lease
  kNodeStatus,           // kubelet patches nodes/NAME/status
  kKubeletRead,          // kubelet gets its pods, node, configmaps
  kLeaderLease,          // controller-manager / scheduler / operators leader election
  kSystemWatch,          // kube-proxy, coredns, kubelet watches (client-go reflectors)
  kOperatorWatch,        // operators watching cluster-wide
  kControllerRead,       // kube-controller-manager controllers get/list
  kControllerWrite,      // controllers update status subresources
  kControllerEvent,      // controllers create core Events
  kOperatorReconcile,    // operators get/update their custom resources
  kSchedulerBind,        // kube-scheduler creates pods/binding
  kPodCreate,            // replicaset-controller creates pods
  kPodDelete,            // controllers delete pods
  kCiDeployment,         // CI service accounts patch deployments
  kCiConfig,             // CI service accounts write configmaps, secrets, services
  kHumanRead,            // people with kubectl: get/list
  kHumanForbidden,       // people denied by RBAC (403)
  kHumanExec,            // kubectl exec (code 101)
  kHumanLogs,            // kubectl logs -f
  kHumanDelete,          // kubectl delete
  kNonResource,          // /healthz, /version, /metrics, discovery
  kAnonymous,            // system:anonymous probing
  kPrivilegedPod,        // a privileged, host-namespace pod is created
  kClusterAdminBinding,  // a ClusterRoleBinding to cluster-admin is created
  kSecretEnumeration,    // list secrets across all namespaces
  kImpersonation,        // requests with Impersonate-User
};

struct ScenarioInfo {
  Scenario scenario;
  std::string_view name;
  uint32_t weight;  // share of requests, out of kWeightTotal
  uint8_t stages;   // StageBit mask of the events each request emits
};
inline constexpr uint32_t kWeightTotal = 100'000;

// Every scenario once, in enum order; the weights sum to kWeightTotal.
std::span<const ScenarioInfo> ScenarioTable();

// A client of the API server, with its JSON pieces pre-rendered.
struct Principal {
  std::string username;
  std::string user_json;  // the event's "user" object
  std::string user_agent;
  std::string source_ips_json;  // the event's "sourceIPs" array
  std::string reason;           // authorization.k8s.io/reason when allowed
};

struct Node {
  std::string name;
  std::string ip;
  std::string lease_uid;
  Principal kubelet;
  Principal kube_proxy;
};

struct Workload {
  std::string_view ns;
  std::string_view name;
  std::string_view image;
  std::string template_hash;
  std::string deployment_uid;
  std::string replicaset_uid;
  std::string service_account;
};

class Cluster {
 public:
  // `start` is the simulated time of the first request; resource versions grow from there.
  Cluster(std::string_view name, uint64_t seed, TimeMicros start);

  // Fills `spec` (after Reset) with one request of `scenario` received at `received`, drawing
  // every choice from `rng`. With `bodies` false the request/response bodies are left empty
  // (the other fields, timings included, are the same as with bodies).
  void Build(Scenario scenario, Rng& rng, TimeMicros received, bool bodies,
             RequestSpec* spec) const;

 private:
  struct Parts;  // scratch helpers shared by the scenario builders (scenarios.cc)

  const Workload& PickWorkload(Rng& rng, bool apps_only) const;
  void AppendResourceVersion(TimeMicros t, std::string* out) const;

  std::string name_;
  TimeMicros start_;
  std::vector<Node> nodes_;
  std::vector<Workload> workloads_;
  std::vector<uint32_t> workload_weights_;  // cumulative, for PickWorkload(apps_only=false)
  std::vector<uint32_t> app_weights_;       // cumulative, kube-system excluded
  Principal controller_manager_;
  Principal scheduler_;
  std::vector<Principal> controllers_;  // kube-controller-manager's per-controller accounts
  std::vector<Principal> coredns_;
  std::vector<Principal> operators_;  // in-cluster operators, by index of kOperators
  std::vector<std::string> operator_leases_;
  std::vector<Principal> ci_;  // CI deployers
  std::vector<Principal> people_;
  Principal prometheus_;
  std::vector<Principal> anonymous_;
  Principal compromised_;                  // a web app's service account, used by an attacker
  std::vector<std::string> impersonated_;  // impersonatedUser objects
};

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_SCENARIOS_H_
