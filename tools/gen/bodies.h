// Request and response bodies (requestObject / responseObject) for the traffic generator:
// Kubernetes objects serialised the way the apiserver writes them (metadata first, then spec
// and status). Each function appends one JSON object to `out`. Stateless; thread-safe.
#ifndef KQ_TOOLS_GEN_BODIES_H_
#define KQ_TOOLS_GEN_BODIES_H_

#include <string>
#include <string_view>

#include "common/clock.h"
#include "tools/gen/random.h"

namespace kq::gen {

struct PodParams {
  std::string_view ns;
  std::string_view name;
  std::string_view app;  // the app label and container name
  std::string_view image;
  std::string_view node;  // empty: not yet scheduled
  std::string_view service_account = "default";
  std::string_view owner_kind;  // "ReplicaSet" or empty (a bare pod)
  std::string_view owner_name;
  std::string_view owner_uid;
  std::string_view template_hash;
  std::string_view uid;  // empty in a request body
  std::string_view resource_version;
  TimeMicros created = 0;   // 0: "creationTimestamp":null
  bool privileged = false;  // securityContext.privileged, hostPID, hostNetwork, hostPath "/"
  bool with_status = false;
};
void AppendPod(Rng& rng, const PodParams& p, std::string* out);

struct DeploymentParams {
  std::string_view ns;
  std::string_view name;
  std::string_view image;
  std::string_view uid;
  std::string_view resource_version;
  std::string_view template_hash;
  TimeMicros created = 0;
  TimeMicros restarted_at = 0;
  int replicas = 2;
  int64_t generation = 1;
};
void AppendDeployment(Rng& rng, const DeploymentParams& p, std::string* out);

// The strategic-merge patch `kubectl set image` / `kubectl rollout restart` send.
void AppendDeploymentPatch(std::string_view app, std::string_view image, TimeMicros restarted_at,
                           std::string* out);

// The strategic-merge patch a kubelet sends to nodes/NAME/status.
void AppendNodeStatusPatch(Rng& rng, TimeMicros now, std::string* out);

void AppendConfigMap(Rng& rng, std::string_view ns, std::string_view name, std::string* out);

// A core/v1 Event as controllers create them.
void AppendCoreEvent(Rng& rng, std::string_view ns, std::string_view object_kind,
                     std::string_view object_name, std::string_view reason,
                     std::string_view component, std::string_view message, TimeMicros now,
                     std::string* out);

// A ReplicaSet with status, as controllers PUT to replicasets/NAME/status.
void AppendReplicaSetStatus(std::string_view ns, std::string_view name, std::string_view uid,
                            std::string_view resource_version, int replicas, std::string* out);

void AppendBinding(std::string_view ns, std::string_view pod, std::string_view node,
                   std::string* out);

void AppendDeleteOptions(std::string* out);

// A ClusterRoleBinding of ClusterRole `role` to one subject.
void AppendClusterRoleBinding(std::string_view name, std::string_view role,
                              std::string_view subject_kind, std::string_view subject_name,
                              std::string_view subject_ns, std::string* out);

// A custom resource's status update (cert-manager Certificate, Argo CD Application, ...).
void AppendCustomStatus(std::string_view api_version, std::string_view kind, std::string_view ns,
                        std::string_view name, std::string_view uid,
                        std::string_view resource_version, TimeMicros now, std::string* out);

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_BODIES_H_
