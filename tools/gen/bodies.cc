#include "tools/gen/bodies.h"

#include "tools/gen/text.h"

namespace kq::gen {
namespace {

// Appends `"key":"value"`.
void Str(std::string_view key, std::string_view value, std::string* out) {
  out->push_back('"');
  out->append(key);
  out->append("\":\"");
  out->append(value);
  out->push_back('"');
}

void AppendCreation(TimeMicros created, std::string* out) {
  if (created == 0) {
    out->append("\"creationTimestamp\":null");
  } else {
    out->append("\"creationTimestamp\":\"");
    AppendSecondsTime(created, out);
    out->push_back('"');
  }
}

void AppendContainerResources(Rng& rng, std::string* out) {
  static constexpr std::string_view kCpu[] = {"50m", "100m", "250m", "500m", "1"};
  static constexpr std::string_view kMemory[] = {"64Mi", "128Mi", "256Mi", "512Mi", "1Gi"};
  const size_t i = rng.Below(5);
  out->append("\"resources\":{\"limits\":{");
  Str("memory", kMemory[i], out);
  out->append("},\"requests\":{");
  Str("cpu", kCpu[i], out);
  out->push_back(',');
  Str("memory", kMemory[i], out);
  out->append("}}");
}

// The suffix of a pod's service-account token volume ("kube-api-access-xxxxx"), fixed per pod
// name so that the request and the response body agree.
void AppendTokenVolume(std::string_view pod, std::string* out) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint64_t h = 1469598103934665603ULL;
  for (char c : pod) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  out->append("kube-api-access-");
  for (int i = 0; i < 5; ++i) {
    out->push_back(kAlphabet[h % (sizeof(kAlphabet) - 1)]);
    h /= sizeof(kAlphabet) - 1;
  }
}

}  // namespace

void AppendPod(Rng& rng, const PodParams& p, std::string* out) {
  out->append("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{");
  Str("name", p.name, out);
  if (!p.owner_name.empty()) {
    out->append(",\"generateName\":\"");
    out->append(p.owner_name);
    out->append("-\"");
  }
  out->push_back(',');
  Str("namespace", p.ns, out);
  if (!p.uid.empty()) {
    out->push_back(',');
    Str("uid", p.uid, out);
    out->push_back(',');
    Str("resourceVersion", p.resource_version, out);
  }
  out->push_back(',');
  AppendCreation(p.created, out);
  out->append(",\"labels\":{");
  Str("app.kubernetes.io/name", p.app, out);
  if (!p.template_hash.empty()) {
    out->push_back(',');
    Str("pod-template-hash", p.template_hash, out);
  }
  out->push_back('}');
  if (!p.owner_kind.empty()) {
    out->append(",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",");
    Str("kind", p.owner_kind, out);
    out->push_back(',');
    Str("name", p.owner_name, out);
    out->push_back(',');
    Str("uid", p.owner_uid, out);
    out->append(",\"controller\":true,\"blockOwnerDeletion\":true}]");
  }
  out->append("},\"spec\":{\"volumes\":[");
  if (p.privileged) {
    out->append("{\"name\":\"host-root\",\"hostPath\":{\"path\":\"/\",\"type\":\"\"}},");
  }
  out->append("{\"name\":\"");
  AppendTokenVolume(p.name, out);
  out->append(
      "\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,"
      "\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":"
      "\"ca.crt\",\"path\":\"ca.crt\"}]}},{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\","
      "\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],"
      "\"defaultMode\":420}}],\"containers\":[{");
  Str("name", p.app, out);
  out->push_back(',');
  Str("image", p.image, out);
  if (p.privileged) {
    out->append(
        ",\"command\":[\"nsenter\",\"--target\",\"1\",\"--mount\",\"--uts\",\"--ipc\","
        "\"--net\",\"--pid\",\"--\",\"bash\"]");
  } else {
    out->append(",\"ports\":[{\"name\":\"http\",\"containerPort\":");
    AppendUint(8000 + rng.Below(3) * 80, out);
    out->append(
        ",\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},"
        "{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
        "\"fieldPath\":\"metadata.name\"}}}]");
  }
  out->push_back(',');
  AppendContainerResources(rng, out);
  out->append(",\"volumeMounts\":[");
  if (p.privileged) out->append("{\"name\":\"host-root\",\"mountPath\":\"/host\"},");
  out->append("{\"name\":\"");
  AppendTokenVolume(p.name, out);
  out->append(
      "\",\"readOnly\":true,\"mountPath\":"
      "\"/var/run/secrets/kubernetes.io/serviceaccount\"}]");
  if (!p.privileged) {
    out->append(
        ",\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\","
        "\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":10,"
        "\"successThreshold\":1,\"failureThreshold\":3}");
  }
  out->append(
      ",\"terminationMessagePath\":\"/dev/termination-log\","
      "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"");
  if (p.privileged) {
    out->append(",\"securityContext\":{\"privileged\":true},\"stdin\":true,\"tty\":true}]");
  } else {
    out->append(
        ",\"securityContext\":{\"capabilities\":{\"drop\":[\"ALL\"]},\"runAsNonRoot\":"
        "true,\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false}}]");
  }
  out->append(",\"restartPolicy\":\"");
  out->append(p.privileged ? "Never" : "Always");
  out->append("\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",");
  Str("serviceAccountName", p.service_account, out);
  out->push_back(',');
  Str("serviceAccount", p.service_account, out);
  if (!p.node.empty()) {
    out->push_back(',');
    Str("nodeName", p.node, out);
  }
  if (p.privileged) out->append(",\"hostNetwork\":true,\"hostPID\":true");
  out->append(
      ",\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
      "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":"
      "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},{\"key\":"
      "\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":"
      "\"NoExecute\",\"tolerationSeconds\":300}],\"priority\":0,"
      "\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
      "\"status\":{");
  if (p.with_status) out->append("\"phase\":\"Pending\",\"qosClass\":\"Burstable\"");
  out->append("}}");
}

void AppendDeployment(Rng& rng, const DeploymentParams& p, std::string* out) {
  out->append("{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{");
  Str("name", p.name, out);
  out->push_back(',');
  Str("namespace", p.ns, out);
  out->push_back(',');
  Str("uid", p.uid, out);
  out->push_back(',');
  Str("resourceVersion", p.resource_version, out);
  out->append(",\"generation\":");
  AppendUint(static_cast<uint64_t>(p.generation), out);
  out->push_back(',');
  AppendCreation(p.created, out);
  out->append(",\"labels\":{");
  Str("app.kubernetes.io/name", p.name, out);
  out->append(
      ",\"app.kubernetes.io/managed-by\":\"Helm\"},\"annotations\":{"
      "\"deployment.kubernetes.io/revision\":\"");
  AppendUint(static_cast<uint64_t>(p.generation), out);
  out->append("\",\"meta.helm.sh/release-name\":\"");
  out->append(p.name);
  out->append("\"}},\"spec\":{\"replicas\":");
  AppendUint(static_cast<uint64_t>(p.replicas), out);
  out->append(",\"selector\":{\"matchLabels\":{");
  Str("app.kubernetes.io/name", p.name, out);
  out->append("}},\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{");
  Str("app.kubernetes.io/name", p.name, out);
  out->append("},\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"");
  AppendSecondsTime(p.restarted_at, out);
  out->append("\"}},\"spec\":{\"containers\":[{");
  Str("name", p.name, out);
  out->push_back(',');
  Str("image", p.image, out);
  out->append(",\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}],");
  AppendContainerResources(rng, out);
  out->append(
      ",\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\","
      "\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":10,"
      "\"successThreshold\":1,\"failureThreshold\":3},\"terminationMessagePath\":"
      "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
      "\"imagePullPolicy\":\"IfNotPresent\",\"securityContext\":{\"runAsNonRoot\":true,"
      "\"allowPrivilegeEscalation\":false}}],\"restartPolicy\":\"Always\","
      "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
      "\"serviceAccountName\":\"");
  out->append(p.name);
  out->append(
      "\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}},"
      "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":"
      "\"25%\",\"maxSurge\":\"25%\"}},\"revisionHistoryLimit\":10,"
      "\"progressDeadlineSeconds\":600},\"status\":{\"observedGeneration\":");
  AppendUint(static_cast<uint64_t>(p.generation - 1), out);
  out->append(",\"replicas\":");
  AppendUint(static_cast<uint64_t>(p.replicas), out);
  out->append(",\"updatedReplicas\":");
  AppendUint(static_cast<uint64_t>(p.replicas), out);
  out->append(",\"readyReplicas\":");
  AppendUint(static_cast<uint64_t>(p.replicas), out);
  out->append(",\"availableReplicas\":");
  AppendUint(static_cast<uint64_t>(p.replicas), out);
  out->append(
      ",\"conditions\":[{\"type\":\"Available\",\"status\":\"True\","
      "\"lastUpdateTime\":\"");
  AppendSecondsTime(p.created, out);
  out->append("\",\"lastTransitionTime\":\"");
  AppendSecondsTime(p.created, out);
  out->append(
      "\",\"reason\":\"MinimumReplicasAvailable\",\"message\":\"Deployment has "
      "minimum availability.\"},{\"type\":\"Progressing\",\"status\":\"True\","
      "\"lastUpdateTime\":\"");
  AppendSecondsTime(p.restarted_at, out);
  out->append("\",\"lastTransitionTime\":\"");
  AppendSecondsTime(p.created, out);
  out->append("\",\"reason\":\"NewReplicaSetAvailable\",\"message\":\"ReplicaSet \\\"");
  out->append(p.name);
  out->push_back('-');
  out->append(p.template_hash);
  out->append("\\\" has successfully progressed.\"}]}}");
}

void AppendDeploymentPatch(std::string_view app, std::string_view image, TimeMicros restarted_at,
                           std::string* out) {
  out->append(
      "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
      "\"kubectl.kubernetes.io/restartedAt\":\"");
  AppendSecondsTime(restarted_at, out);
  out->append("\"}},\"spec\":{\"containers\":[{");
  Str("image", image, out);
  out->push_back(',');
  Str("name", app, out);
  out->append("}]}}}}");
}

void AppendNodeStatusPatch(Rng& rng, TimeMicros now, std::string* out) {
  static constexpr std::string_view kConditions[][3] = {
      {"MemoryPressure", "False", "KubeletHasSufficientMemory"},
      {"DiskPressure", "False", "KubeletHasNoDiskPressure"},
      {"PIDPressure", "False", "KubeletHasSufficientPID"},
      {"Ready", "True", "KubeletReady"},
  };
  out->append(
      "{\"status\":{\"$setElementOrder/conditions\":[{\"type\":\"MemoryPressure\"},"
      "{\"type\":\"DiskPressure\"},{\"type\":\"PIDPressure\"},{\"type\":\"Ready\"}],"
      "\"conditions\":[");
  for (size_t i = 0; i < 4; ++i) {
    if (i > 0) out->push_back(',');
    out->append("{\"lastHeartbeatTime\":\"");
    AppendSecondsTime(now, out);
    out->append("\",\"type\":\"");
    out->append(kConditions[i][0]);
    out->append("\"}");
  }
  out->append("],\"images\":[{\"names\":[\"registry.example.com/payments/payments-api@sha256:");
  AppendHex(rng, 64, out);
  out->append("\"],\"sizeBytes\":");
  AppendUint(20'000'000 + rng.Below(400'000'000), out);
  out->append("}]}}");
}

void AppendConfigMap(Rng& rng, std::string_view ns, std::string_view name, std::string* out) {
  out->append("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{");
  Str("name", name, out);
  out->push_back(',');
  Str("namespace", ns, out);
  out->append(
      ",\"creationTimestamp\":null,\"labels\":{\"app.kubernetes.io/managed-by\":"
      "\"Helm\"}},\"data\":{\"FEATURE_FLAGS\":\"checkout-v2,fast-refunds\","
      "\"LOG_LEVEL\":\"info\",\"config.yaml\":\"server:\\n  port: 8080\\n  "
      "readTimeout: 5s\\ncache:\\n  ttl: ");
  AppendUint(30 + rng.Below(600), out);
  out->append("s\\n  size: ");
  AppendUint(128 + rng.Below(4096), out);
  out->append("\\n\"}}");
}

void AppendCoreEvent(Rng& rng, std::string_view ns, std::string_view object_kind,
                     std::string_view object_name, std::string_view reason,
                     std::string_view component, std::string_view message, TimeMicros now,
                     std::string* out) {
  out->append("{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"");
  out->append(object_name);
  out->push_back('.');
  AppendHex(rng, 16, out);
  out->append("\",");
  Str("namespace", ns, out);
  out->append(",\"creationTimestamp\":null},\"involvedObject\":{");
  Str("kind", object_kind, out);
  out->push_back(',');
  Str("namespace", ns, out);
  out->push_back(',');
  Str("name", object_name, out);
  out->append(",\"uid\":\"");
  AppendUuid(rng, out);
  out->append("\",\"apiVersion\":\"");
  out->append(object_kind == "Pod" ? "v1" : "apps/v1");
  out->append("\"},");
  Str("reason", reason, out);
  out->push_back(',');
  Str("message", message, out);
  out->append(",\"source\":{");
  Str("component", component, out);
  out->append("},\"firstTimestamp\":\"");
  AppendSecondsTime(now, out);
  out->append("\",\"lastTimestamp\":\"");
  AppendSecondsTime(now, out);
  out->append("\",\"count\":1,\"type\":\"Normal\",\"eventTime\":null,");
  Str("reportingComponent", component, out);
  out->append(",\"reportingInstance\":\"\"}");
}

void AppendReplicaSetStatus(std::string_view ns, std::string_view name, std::string_view uid,
                            std::string_view resource_version, int replicas, std::string* out) {
  out->append("{\"kind\":\"ReplicaSet\",\"apiVersion\":\"apps/v1\",\"metadata\":{");
  Str("name", name, out);
  out->push_back(',');
  Str("namespace", ns, out);
  out->push_back(',');
  Str("uid", uid, out);
  out->push_back(',');
  Str("resourceVersion", resource_version, out);
  out->append(",\"generation\":1,\"labels\":{\"app.kubernetes.io/name\":\"");
  out->append(name.substr(0, name.rfind('-')));
  out->append("\"},\"annotations\":{\"deployment.kubernetes.io/desired-replicas\":\"");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append("\",\"deployment.kubernetes.io/max-replicas\":\"");
  AppendUint(static_cast<uint64_t>(replicas + 1), out);
  out->append("\",\"deployment.kubernetes.io/revision\":\"1\"}},\"spec\":{\"replicas\":");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append("},\"status\":{\"replicas\":");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append(",\"fullyLabeledReplicas\":");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append(",\"readyReplicas\":");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append(",\"availableReplicas\":");
  AppendUint(static_cast<uint64_t>(replicas), out);
  out->append(",\"observedGeneration\":1}}");
}

void AppendBinding(std::string_view ns, std::string_view pod, std::string_view node,
                   std::string* out) {
  out->append("{\"kind\":\"Binding\",\"apiVersion\":\"v1\",\"metadata\":{");
  Str("name", pod, out);
  out->push_back(',');
  Str("namespace", ns, out);
  out->append(",\"creationTimestamp\":null},\"target\":{\"kind\":\"Node\",");
  Str("name", node, out);
  out->append("}}");
}

void AppendDeleteOptions(std::string* out) {
  out->append(
      "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"meta.k8s.io/v1\","
      "\"propagationPolicy\":\"Background\"}");
}

void AppendClusterRoleBinding(std::string_view name, std::string_view role,
                              std::string_view subject_kind, std::string_view subject_name,
                              std::string_view subject_ns, std::string* out) {
  out->append(
      "{\"kind\":\"ClusterRoleBinding\",\"apiVersion\":"
      "\"rbac.authorization.k8s.io/v1\",\"metadata\":{");
  Str("name", name, out);
  out->append(",\"creationTimestamp\":null},\"subjects\":[{");
  Str("kind", subject_kind, out);
  if (subject_kind != "ServiceAccount") out->append(",\"apiGroup\":\"rbac.authorization.k8s.io\"");
  out->push_back(',');
  Str("name", subject_name, out);
  if (!subject_ns.empty()) {
    out->push_back(',');
    Str("namespace", subject_ns, out);
  }
  out->append(
      "}],\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":"
      "\"ClusterRole\",");
  Str("name", role, out);
  out->append("}}");
}

void AppendCustomStatus(std::string_view api_version, std::string_view kind, std::string_view ns,
                        std::string_view name, std::string_view uid,
                        std::string_view resource_version, TimeMicros now, std::string* out) {
  out->append("{");
  Str("apiVersion", api_version, out);
  out->push_back(',');
  Str("kind", kind, out);
  out->append(",\"metadata\":{");
  Str("name", name, out);
  out->push_back(',');
  Str("namespace", ns, out);
  out->push_back(',');
  Str("uid", uid, out);
  out->push_back(',');
  Str("resourceVersion", resource_version, out);
  out->append(
      ",\"generation\":3},\"status\":{\"conditions\":[{\"type\":\"Ready\","
      "\"status\":\"True\",\"lastTransitionTime\":\"");
  AppendSecondsTime(now, out);
  out->append("\",\"reason\":\"Reconciled\",\"message\":\"");
  out->append(kind);
  out->append(" is up to date\",\"observedGeneration\":3}]}}");
}

}  // namespace kq::gen
