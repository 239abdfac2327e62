#include "tests/storage/event_generator.h"

#include "common/time.h"

namespace kq::testing {

using storage::Event;
using storage::ObjectRef;

EventGenerator::EventGenerator(uint64_t seed) : rng_(seed) {}

storage::Event EventGenerator::Next() {
  Event e;
  auto coin = [&] { return std::uniform_int_distribution<int>(0, 2)(rng_) == 0; };
  auto pick = [&](std::vector<std::string> v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  };
  auto opt = [&](std::vector<std::string> v) -> std::optional<std::string> {
    if (coin()) return std::nullopt;
    return pick(std::move(v));
  };
  if (!coin()) e.kind = "Event";
  if (!coin()) e.api_version = pick({"audit.k8s.io/v1", "audit.k8s.io/v1beta1"});
  e.level = pick({"Metadata", "Request", "RequestResponse"});
  e.audit_id = "id-" + std::to_string(rng_());
  e.stage = pick({"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"});
  e.request_uri = opt({"/api/v1/pods", "/apis/apps/v1/namespaces/x/deployments?a=1&b=2", ""});
  e.verb = pick({"get", "list", "create", "delete", "watch", ""});
  e.user.username = opt({"alice", "system:serviceaccount:kube-system:x", "\xc3\xa9t\xc3\xa9"});
  e.user.uid = opt({"u1", "u2"});
  if (!coin()) {
    e.user.groups.emplace();
    int n = std::uniform_int_distribution<int>(0, 3)(rng_);
    for (int i = 0; i < n; ++i) e.user.groups->push_back(pick({"g1", "g2", "sys\"q"}));
  }
  if (coin()) e.user.extra.emplace();
  if (e.user.extra.has_value() && !coin()) {
    e.user.extra->emplace_back("scopes", std::vector<std::string>{"a", "b"});
  }
  if (coin()) e.user.unknown_fields = R"("x":{"y":[1,2]})";
  if (coin()) {
    e.impersonated_user.emplace();
    e.impersonated_user->username = opt({"bob"});
    if (coin()) e.impersonated_user->groups = std::vector<std::string>{};
  }
  if (coin()) e.authentication_metadata = R"({"impersonationConstraint":"get"})";
  if (!coin()) e.source_ips = std::vector<std::string>{pick({"10.0.0.1", "::1"})};
  e.user_agent = opt({"kubectl/v1.29", std::string(300, 'u')});
  if (!coin()) {
    ObjectRef& r = e.object_ref.emplace();
    r.resource = opt({"pods", "secrets"});
    r.ns = opt({"default", "kube-system", ""});
    r.name = opt({"web", "db"});
    r.uid = opt({"0000-1111"});
    r.api_group = opt({"", "apps"});
    r.api_version = opt({"v1"});
    r.resource_version = opt({"123"});
    r.subresource = opt({"status", "exec"});
    if (coin()) r.unknown_fields = R"("future":true)";
  }
  if (!coin()) {
    e.code = std::uniform_int_distribution<int>(100, 599)(rng_);
    e.response_status = R"({"metadata":{},"code":)" + std::to_string(*e.code) + "}";
  } else if (coin()) {
    e.response_status = R"({"metadata":{}})";
  }
  if (coin()) e.request_object = R"({"kind":"Pod","spec":{"x":[1,2,3]}})";
  if (coin()) e.response_object = R"([{"op":"add"}])";
  // Times: anywhere from 1969 to 2100, microsecond precision.
  e.request_received_time =
      std::uniform_int_distribution<int64_t>(-1'000'000'000'000, 4'000'000'000'000'000)(rng_);
  e.stage_time = e.request_received_time + std::uniform_int_distribution<int64_t>(0, 1e9)(rng_);
  if (coin()) {
    e.request_received_timestamp.reset();  // v1beta1 with only the legacy "timestamp"
  } else {
    e.request_received_timestamp = FormatTimestamp(e.request_received_time);
  }
  e.stage_timestamp = FormatTimestamp(e.stage_time);
  if (coin()) {
    // A second-precision stamp kept as written.
    e.stage_time -= e.stage_time % 1'000'000;
    e.stage_timestamp = FormatTimestamp(e.stage_time).substr(0, 19) + "Z";
  }
  if (!coin()) {
    e.annotations.emplace();
    if (!coin()) e.annotations->emplace_back("authorization.k8s.io/decision", "allow");
    if (coin()) e.annotations->emplace_back("k", "v\n");
  }
  if (coin()) e.unknown_fields = R"("timestamp":"2018-10-25T13:58:49Z","metadata":{})";
  e.cluster = coin() ? "" : pick({"c1", "c2"});
  return e;
}

}  // namespace kq::testing
