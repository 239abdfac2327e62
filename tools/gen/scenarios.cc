// The request builders: one per Scenario (see scenarios.h).
#include "tools/gen/scenarios.h"

#include <array>

#include "tools/gen/scenario_parts.h"

namespace kq::gen {
namespace {

constexpr uint8_t kSystemStages = kComplete;  // high-volume system traffic omits RequestReceived
constexpr uint8_t kBothStages = kReceived | kComplete;
constexpr uint8_t kLongStages = kReceived | kStarted | kComplete;

constexpr std::array<ScenarioInfo, 26> kTable = {{
    {Scenario::kNodeLease, "node-lease", 24'000, kSystemStages},
    {Scenario::kNodeStatus, "node-status", 2'500, kSystemStages},
    {Scenario::kKubeletRead, "kubelet-read", 6'000, kSystemStages},
    {Scenario::kLeaderLease, "leader-lease", 6'000, kSystemStages},
    {Scenario::kSystemWatch, "system-watch", 3'500, kStarted | kComplete},
    {Scenario::kOperatorWatch, "operator-watch", 1'500, kLongStages},
    {Scenario::kControllerRead, "controller-read", 17'300, kSystemStages},
    {Scenario::kControllerWrite, "controller-write", 9'000, kSystemStages},
    {Scenario::kControllerEvent, "controller-event", 4'000, kSystemStages},
    {Scenario::kOperatorReconcile, "operator-reconcile", 9'000, kSystemStages},
    {Scenario::kSchedulerBind, "scheduler-bind", 1'200, kSystemStages},
    {Scenario::kPodCreate, "pod-create", 1'200, kSystemStages},
    {Scenario::kPodDelete, "pod-delete", 800, kSystemStages},
    {Scenario::kCiDeployment, "ci-deployment", 1'500, kBothStages},
    {Scenario::kCiConfig, "ci-config", 1'500, kBothStages},
    {Scenario::kHumanRead, "human-read", 5'000, kBothStages},
    {Scenario::kHumanForbidden, "human-forbidden", 500, kBothStages},
    {Scenario::kHumanExec, "human-exec", 250, kLongStages},
    {Scenario::kHumanLogs, "human-logs", 600, kLongStages},
    {Scenario::kHumanDelete, "human-delete", 300, kBothStages},
    {Scenario::kNonResource, "non-resource", 4'000, kSystemStages},
    {Scenario::kAnonymous, "anonymous", 150, kBothStages},
    {Scenario::kPrivilegedPod, "privileged-pod", 40, kBothStages},
    {Scenario::kClusterAdminBinding, "cluster-admin-binding", 20, kBothStages},
    {Scenario::kSecretEnumeration, "secret-enumeration", 60, kBothStages},
    {Scenario::kImpersonation, "impersonation", 80, kBothStages},
}};

constexpr uint32_t SumWeights() {
  uint32_t sum = 0;
  for (const ScenarioInfo& info : kTable) sum += info.weight;
  return sum;
}
static_assert(SumWeights() == kWeightTotal);

}  // namespace

std::span<const ScenarioInfo> ScenarioTable() { return kTable; }

void Cluster::Build(Scenario scenario, Rng& rng, TimeMicros received, bool bodies,
                    RequestSpec* spec) const {
  spec->Reset();
  Parts parts{*this, rng, Rng(rng.Next()), bodies, spec};
  spec->stages = kTable[static_cast<size_t>(scenario)].stages;
  spec->received = received;
  AppendUuid(rng, &spec->audit_id);
  switch (scenario) {
    case Scenario::kNodeLease:
      parts.NodeLease();
      break;
    case Scenario::kNodeStatus:
      parts.NodeStatus();
      break;
    case Scenario::kKubeletRead:
      parts.KubeletRead();
      break;
    case Scenario::kLeaderLease:
      parts.LeaderLease();
      break;
    case Scenario::kSystemWatch:
      parts.SystemWatch();
      break;
    case Scenario::kOperatorWatch:
      parts.OperatorWatch();
      break;
    case Scenario::kControllerRead:
      parts.ControllerRead();
      break;
    case Scenario::kControllerWrite:
      parts.ControllerWrite();
      break;
    case Scenario::kControllerEvent:
      parts.ControllerEvent();
      break;
    case Scenario::kOperatorReconcile:
      parts.OperatorReconcile();
      break;
    case Scenario::kSchedulerBind:
      parts.SchedulerBind();
      break;
    case Scenario::kPodCreate:
      parts.PodCreate(false);
      break;
    case Scenario::kPodDelete:
      parts.PodDelete(controllers_[rng.Chance(0.7) ? 0 : 3]);
      break;
    case Scenario::kCiDeployment:
      parts.CiDeployment();
      break;
    case Scenario::kCiConfig:
      parts.CiConfig();
      break;
    case Scenario::kHumanRead:
      parts.HumanRead(parts.Person(false));
      break;
    case Scenario::kHumanForbidden:
      parts.HumanForbidden();
      break;
    case Scenario::kHumanExec:
      parts.HumanExec();
      break;
    case Scenario::kHumanLogs:
      parts.HumanLogs();
      break;
    case Scenario::kHumanDelete:
      parts.PodDelete(parts.Person(false));
      break;
    case Scenario::kNonResource:
      parts.NonResourceRequest();
      break;
    case Scenario::kAnonymous:
      parts.Anonymous();
      break;
    case Scenario::kPrivilegedPod:
      parts.PodCreate(true);
      break;
    case Scenario::kClusterAdminBinding:
      parts.ClusterAdminBinding();
      break;
    case Scenario::kSecretEnumeration:
      parts.SecretEnumeration();
      break;
    case Scenario::kImpersonation:
      parts.Impersonation();
      break;
  }
}

}  // namespace kq::gen
