#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "server/ingest_policies.h"
#include "server/policy_simulation.h"
#include "server/services.h"

#ifndef KQ_VERSION
#define KQ_VERSION "0.0.0"
#endif
#ifndef KQ_BUILD_TYPE
#define KQ_BUILD_TYPE ""
#endif

namespace kq::server {
namespace {

constexpr uint32_t kDefaultQuarantineLimit = 100;
constexpr uint32_t kMaxQuarantineLimit = 10000;

void FillRecord(const storage::QuarantineRecord& r, bool with_payload,
                kq::v1::QuarantineRecord* out) {
  out->set_id(r.id);
  out->set_received_micros(r.received);
  out->set_source(r.source);
  out->set_reason(r.reason);
  out->set_payload_size(r.payload.size());
  if (with_payload) out->set_payload(r.payload);
}

void FillStats(const storage::EnvironmentStats& s, const std::string& dir,
               kq::v1::EnvironmentStats* out) {
  out->set_env(s.env);
  out->set_dir(dir);
  out->set_events(s.events);
  out->set_raw_bytes(s.raw_bytes);
  out->set_disk_bytes(s.disk_bytes);
  out->set_quarantined(s.quarantined);
  out->set_oldest_micros(s.oldest);
  out->set_newest_micros(s.newest);
  for (const auto& ns : s.namespaces) {
    auto* n = out->add_namespaces();
    n->set_tier(ns.tier);
    n->set_ns(ns.ns);
    n->set_events(ns.events);
    n->set_raw_bytes(ns.raw_bytes);
    n->set_disk_bytes(ns.disk_bytes);
  }
  out->set_write_stopped(s.write_stopped);
  out->set_delayed_write_rate(s.delayed_write_rate);
  out->set_write_stall_micros(s.write_stall_micros);
}

void FillPolicyStats(const std::vector<PolicyRuleStats>& rules, kq::v1::EnvironmentStats* out) {
  for (const PolicyRuleStats& r : rules) {
    kq::v1::PolicyRuleStats* p = out->add_policy_rules();
    p->set_source(r.source);
    p->set_cluster(r.cluster);
    p->set_policy(r.file);
    p->set_rule(r.rule);
    p->set_line(r.line);
    p->set_level(r.level);
    p->set_dropped(r.dropped);
    p->set_reduced(r.reduced);
    p->set_kept(r.kept);
  }
}

// Runs `fn` (returning absl::Status) on the pool and finishes the unary reactor with it.
template <typename Fn>
grpc::ServerUnaryReactor* RunOnPool(const ServiceContext& ctx, grpc::CallbackServerContext* context,
                                    Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  bool ok = ctx.query_pool->Submit(
      [reactor, fn = std::move(fn)]() mutable { reactor->Finish(ToGrpc(fn())); });
  if (!ok) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "kqd is busy or shutting down; retry"));
  }
  return reactor;
}

// A unary reactor whose cancellation (client gone, deadline passed) sets a flag the worker
// polls. The flag is shared so the worker may read it after the reactor is gone; the reactor
// deletes itself once finished.
class CancellableReactor : public grpc::ServerUnaryReactor {
 public:
  const std::shared_ptr<std::atomic<bool>>& cancelled() const { return cancelled_; }
  void OnCancel() override { cancelled_->store(true); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::Stats(grpc::CallbackServerContext* context,
                                                  const kq::v1::StatsRequest* request,
                                                  kq::v1::StatsResponse* response) {
  ServiceContext ctx = ctx_;
  std::string only = request->env();
  return RunOnPool(ctx_, context, [ctx, only, response]() -> absl::Status {
    std::vector<std::string> names = ctx.store->EnvironmentNames();
    if (!only.empty()) {
      if (ctx.store->Find(only) == nullptr) {
        absl::StatusOr<storage::Environment*> e = FindEnvironment(ctx.store, only);
        return e.status();
      }
      names = {only};
    }
    for (const auto& name : names) {
      storage::Environment* env = ctx.store->Find(name);
      absl::StatusOr<storage::EnvironmentStats> st = env->Stats();
      if (!st.ok()) return st.status();
      auto dir = ctx.env_dirs.find(name);
      kq::v1::EnvironmentStats* out = response->add_environments();
      FillStats(*st, dir == ctx.env_dirs.end() ? "" : dir->second, out);
      if (ctx.policies != nullptr) FillPolicyStats(ctx.policies->Stats(name), out);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::Health(grpc::CallbackServerContext* context,
                                                   const kq::v1::HealthRequest*,
                                                   kq::v1::HealthResponse* response) {
  bool ready = ctx_.ready->load() && !ctx_.draining->load();
  response->set_live(true);
  response->set_ready(ready);
  response->set_status(ctx_.draining->load() ? "draining" : ready ? "ok" : "starting");
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::Version(grpc::CallbackServerContext* context,
                                                    const kq::v1::VersionRequest*,
                                                    kq::v1::VersionResponse* response) {
  response->set_version(KQ_VERSION);
  response->set_api("kq.v1");
  response->set_build_type(KQ_BUILD_TYPE);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListQuarantine(
    grpc::CallbackServerContext* context, const kq::v1::ListQuarantineRequest* request,
    kq::v1::ListQuarantineResponse* response) {
  ServiceContext ctx = ctx_;
  std::string env = request->env();
  uint32_t limit = request->limit() == 0 ? kDefaultQuarantineLimit
                                         : std::min(request->limit(), kMaxQuarantineLimit);
  return RunOnPool(ctx_, context, [ctx, env, limit, response]() -> absl::Status {
    if (env.empty()) {
      return absl::InvalidArgumentError("ListQuarantineRequest.env is required (e.g. \"prod\")");
    }
    absl::StatusOr<storage::Environment*> e = FindEnvironment(ctx.store, env);
    if (!e.ok()) return e.status();
    auto records = (*e)->ListQuarantine(limit);
    if (!records.ok()) return records.status();
    for (const auto& r : *records) FillRecord(r, false, response->add_records());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetQuarantine(
    grpc::CallbackServerContext* context, const kq::v1::GetQuarantineRequest* request,
    kq::v1::QuarantineRecord* response) {
  ServiceContext ctx = ctx_;
  std::string env = request->env();
  uint64_t id = request->id();
  return RunOnPool(ctx_, context, [ctx, env, id, response]() -> absl::Status {
    if (env.empty()) {
      return absl::InvalidArgumentError("GetQuarantineRequest.env is required (e.g. \"prod\")");
    }
    absl::StatusOr<storage::Environment*> e = FindEnvironment(ctx.store, env);
    if (!e.ok()) return e.status();
    auto record = (*e)->GetQuarantine(id);
    if (!record.ok()) return record.status();
    FillRecord(*record, true, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::SimulatePolicy(
    grpc::CallbackServerContext* context, const kq::v1::SimulatePolicyRequest* request,
    kq::v1::SimulatePolicyResponse* response) {
  auto* reactor = new CancellableReactor();
  query::QueryOptions options;
  options.clock = ctx_.clock;
  options.deadline = DeadlineMicros(context);
  ServiceContext ctx = ctx_;
  std::shared_ptr<std::atomic<bool>> cancelled = reactor->cancelled();
  bool ok = ctx_.query_pool->Submit([ctx, reactor, request, response, options, cancelled] {
    query::QueryOptions run = options;
    run.cancelled = cancelled.get();
    absl::Status s = server::SimulatePolicy(*ctx.readers, *request, run, response);
    if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) {
      log::Info("policy simulation ended: ", s.ToString());
    }
    reactor->Finish(ToGrpc(s));
  });
  if (!ok) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "kqd is busy or shutting down; retry"));
  }
  return reactor;
}

}  // namespace kq::server
