// Scenario builders for people, CI deployers and attackers.
#include "tools/gen/scenario_parts.h"

namespace kq::gen {
namespace {

void AlreadyExists(std::string_view resource, std::string_view group, std::string_view name,
                   std::string* message) {
  message->append(resource);
  if (!group.empty()) {
    message->push_back('.');
    message->append(group);
  }
  message->append(" \"");
  message->append(name);
  message->append("\" already exists");
}

}  // namespace

void Cluster::Parts::CiDeployment() {
  As(c.ci_[rng.Below(c.ci_.size())]);
  const Workload& w = c.PickWorkload(rng, true);
  const bool create = rng.Chance(0.15);
  if (create) {
    Object("create", "deployments", "apps", "v1", w.ns, "");
    s->name = w.name;
    s->uri.append("?fieldManager=helm");
  } else {
    Object("patch", "deployments", "apps", "v1", w.ns, w.name);
    s->uri.append("?fieldManager=kubectl-rollout");
    BodyRef(w.deployment_uid);
  }
  Finish();
  if (!bodies) return;
  std::string rv;
  c.AppendResourceVersion(s->received, &rv);
  std::string hash(w.template_hash);
  DeploymentParams p;
  p.ns = w.ns;
  p.name = w.name;
  p.image = w.image;
  p.uid = w.deployment_uid;
  p.resource_version = rv;
  p.template_hash = hash;
  p.created = s->received - body.Between(1, 400) * kMicrosPerDay;
  p.restarted_at = s->received;
  p.replicas = static_cast<int>(2 + body.Below(5));
  p.generation = static_cast<int64_t>(2 + body.Below(200));
  if (create) {
    AppendDeployment(body, p, &s->request_body);
  } else {
    AppendDeploymentPatch(w.name, w.image, s->received, &s->request_body);
  }
  AppendDeployment(body, p, &s->response_body);
}

void Cluster::Parts::CiConfig() {
  static constexpr std::string_view kVerbs[] = {"create", "update", "patch"};
  static constexpr std::string_view kSecretSuffixes[] = {"-db-credentials", "-tls", "-api-keys"};
  As(c.ci_[rng.Below(c.ci_.size())]);
  const Workload& w = c.PickWorkload(rng, true);
  const bool secret = rng.Chance(0.5);
  const std::string_view verb = Pick(rng, kVerbs);
  std::string name(w.name);
  name.append(secret ? Pick(rng, kSecretSuffixes) : std::string_view("-config"));
  const std::string_view resource = secret ? "secrets" : "configmaps";
  Object(verb, resource, "", "v1", w.ns, verb == "create" ? std::string_view() : name);
  s->name = name;
  s->uri.append(verb == "patch" ? "?fieldManager=kubectl-client-side-apply" : "?fieldManager=helm");
  if (verb != "create") BodyRef({});
  if (verb == "create" && rng.Chance(0.2)) {
    std::string message;
    AlreadyExists(resource, "", name, &message);
    s->code = 409;
    Failure(message, "AlreadyExists");
  }
  Finish();
  if (bodies && !secret) AppendConfigMap(body, w.ns, name, &s->request_body);
}

void Cluster::Parts::HumanRead(const Principal& actor) {
  As(actor);
  const bool admin = !actor.reason.empty();
  const Workload& w = c.PickWorkload(rng, true);
  std::string pod;
  PodName(w, &pod);
  switch (rng.Below(admin ? 9 : 7)) {
    case 0:
    case 1:
      Object("list", "pods", "", "v1", w.ns, "");
      s->uri.append("?limit=500");
      break;
    case 2:
      Object("get", "pods", "", "v1", w.ns, pod);
      break;
    case 3:
      Object("get", "deployments", "apps", "v1", w.ns, w.name);
      break;
    case 4:
      Object("list", "deployments", "apps", "v1", w.ns, "");
      s->uri.append("?limit=500");
      break;
    case 5:
      Object("list", "events", "", "v1", w.ns, "");
      s->uri.append("?limit=500");
      break;
    case 6:
      Object("list", "services", "", "v1", w.ns, "");
      s->uri.append("?limit=500");
      break;
    case 7:
      Object("list", "nodes", "", "v1", "", "");
      s->uri.append("?limit=500");
      break;
    default:
      Object("list", "namespaces", "", "v1", "", "");
      s->uri.append("?limit=500");
      break;
  }
  PersonReason(actor, w.ns);
  Finish();
}

void Cluster::Parts::HumanForbidden() {
  const Principal& actor =
      rng.Chance(0.5) ? c.people_[kContractor] : c.people_[2 + rng.Below(kContractor - 2)];
  As(actor);
  switch (rng.Below(5)) {
    case 0:
      Object("list", "secrets", "", "v1", rng.Chance(0.5) ? "vault" : "kube-system", "");
      s->uri.append("?limit=500");
      break;
    case 1:
      Object("delete", "deployments", "apps", "v1", "payments", "ledger");
      break;
    case 2:
      Object("list", "nodes", "", "v1", "", "");
      s->uri.append("?limit=500");
      break;
    case 3:
      Object("create", "clusterrolebindings", "rbac.authorization.k8s.io", "v1", "", "");
      s->uri.append("?fieldManager=kubectl-create");
      break;
    default:
      Object("patch", "deployments", "apps", "v1", "kube-system", "coredns");
      break;
  }
  Forbid(actor.username);
  Finish(rng.Between(400, 3'000));
}

void Cluster::Parts::HumanExec() {
  static constexpr std::string_view kCommands[] = {"sh", "%2Fbin%2Fbash", "env",
                                                   "cat\\u0026command=%2Fetc%2Fresolv.conf"};
  const Principal& actor = rng.Chance(0.7) ? Person(true) : Person(false);
  As(actor);
  const Workload& w = c.PickWorkload(rng, true);
  std::string pod;
  PodName(w, &pod);
  Object("create", "pods", "", "v1", w.ns, pod, "exec");
  s->uri.append("?command=");
  s->uri.append(Pick(rng, kCommands));
  s->uri.append(kAmp);
  s->uri.append("container=");
  s->uri.append(w.name);
  s->uri.append(kAmp);
  s->uri.append("stdin=true");
  s->uri.append(kAmp);
  s->uri.append("stdout=true");
  s->uri.append(kAmp);
  s->uri.append("tty=true");
  PersonReason(actor, w.ns);
  LongRunning(rng.Between(20'000, 80'000), rng.Between(5, 1'800) * kMicrosPerSecond, 101);
}

void Cluster::Parts::HumanLogs() {
  const Principal& actor = Person(false);
  As(actor);
  const Workload& w = c.PickWorkload(rng, true);
  std::string pod;
  PodName(w, &pod);
  Object("get", "pods", "", "v1", w.ns, pod, "log");
  s->uri.append("?container=");
  s->uri.append(w.name);
  s->uri.append(kAmp);
  s->uri.append("follow=true");
  s->uri.append(kAmp);
  s->uri.append("tailLines=100");
  PersonReason(actor, w.ns);
  LongRunning(rng.Between(10'000, 30'000), rng.Between(5, 600) * kMicrosPerSecond, 200);
}

void Cluster::Parts::Anonymous() {
  const Principal& actor = c.anonymous_[rng.Below(c.anonymous_.size())];
  As(actor);
  const uint64_t what = rng.Below(20);
  if (what < 7) {
    NonResource("/version");
  } else if (what < 11) {
    Object("list", "secrets", "", "v1", "kube-system", "");
    Forbid("system:anonymous");
  } else if (what < 14) {
    Object("list", "pods", "", "v1", "", "");
    Forbid("system:anonymous");
  } else {
    const std::string_view path = what < 17 ? "/apis" : "/.env";
    NonResource(path);
    s->code = 403;
    s->decision = "forbid";
    s->reason.clear();
    std::string message = "forbidden: User \"system:anonymous\" cannot get path \"";
    message.append(path);
    message.push_back('"');
    s->status_json = "\"status\":\"Failure\",\"message\":";
    AppendJsonQuoted(message, &s->status_json);
    s->status_json.append(",\"reason\":\"Forbidden\",\"details\":{},");
  }
  Finish(rng.Between(300, 3'000));
}

void Cluster::Parts::ClusterAdminBinding() {
  const bool attacker = rng.Chance(0.5);
  As(attacker ? c.compromised_ : Person(true));
  Object("create", "clusterrolebindings", "rbac.authorization.k8s.io", "v1", "", "");
  s->uri.append("?fieldManager=kubectl-create");
  s->name = attacker ? "system:controller:backup-operator" : "oncall-cluster-admin";
  Finish();
  if (!bodies) return;
  if (attacker) {
    AppendClusterRoleBinding(s->name, "cluster-admin", "ServiceAccount", "frontend", "web",
                             &s->request_body);
  } else {
    AppendClusterRoleBinding(s->name, "cluster-admin", "Group", "oncall", "", &s->request_body);
  }
}

void Cluster::Parts::SecretEnumeration() {
  const bool attacker = rng.Chance(0.6);
  const Principal& actor = attacker ? c.compromised_ : c.people_[kContractor];
  As(actor);
  Object("list", "secrets", "", "v1", "", "");
  s->uri.append("?limit=500");
  if (!attacker) Forbid(actor.username);
  Finish();
}

void Cluster::Parts::Impersonation() {
  As(Person(true));
  s->impersonated_json = c.impersonated_[rng.Below(c.impersonated_.size())];
  const Workload& w = c.PickWorkload(rng, true);
  if (rng.Chance(0.5)) {
    Object("list", "secrets", "", "v1", w.ns, "");
  } else {
    Object("list", "pods", "", "v1", w.ns, "");
  }
  s->uri.append("?limit=500");
  Finish();
}

}  // namespace kq::gen
