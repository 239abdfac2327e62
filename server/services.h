// The gRPC services of kqd (kq.v1 IngestService, QueryService, AdminService), on the callback
// API. Reactors never block: decoding, RocksDB work and query execution run on worker pools;
// results stream in batches with flow control; cancellation and deadlines reach the executor.
//
// The services borrow everything in ServiceContext, which must outlive the grpc::Server they
// are registered with. Thread-safe.
#ifndef KQ_SERVER_SERVICES_H_
#define KQ_SERVER_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "kq/v1/admin.grpc.pb.h"
#include "kq/v1/ingest.grpc.pb.h"
#include "kq/v1/query.grpc.pb.h"
#include "query/engine.h"
#include "server/ingest_pipeline.h"
#include "server/metrics.h"
#include "server/tail_hub.h"
#include "server/worker_pool.h"
#include "storage/store.h"

namespace kq::server {

class IngestPolicies;

struct ServiceContext {
  storage::Store* store = nullptr;
  IngestPipeline* pipeline = nullptr;
  query::ReaderFactory* readers = nullptr;
  WorkerPool* query_pool = nullptr;   // queries, explains, admin calls, tails
  WorkerPool* ingest_pool = nullptr;  // gRPC Ingest batches
  Metrics* metrics = nullptr;
  TailHub* hub = nullptr;
  const IngestPolicies* policies = nullptr;  // null: no audit policy at ingest
  Clock* clock = Clock::Real();
  uint64_t max_rows = 1'000'000;
  // Environment name -> its data directory, for Stats.
  std::map<std::string, std::string> env_dirs;
  const std::atomic<bool>* ready = nullptr;
  const std::atomic<bool>* draining = nullptr;
};

// absl::Status -> grpc::Status (the code numbers are the same; the message is kept).
grpc::Status ToGrpc(const absl::Status& status);

// The call's deadline in UTC microseconds (INT64_MAX when it has none), for QueryOptions.
TimeMicros DeadlineMicros(const grpc::CallbackServerContext* context);

class IngestServiceImpl : public kq::v1::IngestService::CallbackService {
 public:
  explicit IngestServiceImpl(ServiceContext ctx) : ctx_(ctx) {}
  grpc::ServerReadReactor<kq::v1::IngestRequest>* Ingest(grpc::CallbackServerContext* context,
                                                         kq::v1::IngestResponse* response) override;

 private:
  ServiceContext ctx_;
};

class QueryServiceImpl : public kq::v1::QueryService::CallbackService {
 public:
  explicit QueryServiceImpl(ServiceContext ctx) : ctx_(ctx) {}
  grpc::ServerWriteReactor<kq::v1::QueryResponse>* Query(
      grpc::CallbackServerContext* context, const kq::v1::QueryRequest* request) override;
  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* context,
                                    const kq::v1::ExplainRequest* request,
                                    kq::v1::ExplainResponse* response) override;
  grpc::ServerWriteReactor<kq::v1::QueryResponse>* Tail(
      grpc::CallbackServerContext* context, const kq::v1::TailRequest* request) override;

 private:
  ServiceContext ctx_;
};

class AdminServiceImpl : public kq::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext ctx) : ctx_(ctx) {}
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const kq::v1::StatsRequest* request,
                                  kq::v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* context,
                                   const kq::v1::HealthRequest* request,
                                   kq::v1::HealthResponse* response) override;
  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext* context,
                                    const kq::v1::VersionRequest* request,
                                    kq::v1::VersionResponse* response) override;
  grpc::ServerUnaryReactor* ListQuarantine(grpc::CallbackServerContext* context,
                                           const kq::v1::ListQuarantineRequest* request,
                                           kq::v1::ListQuarantineResponse* response) override;
  grpc::ServerUnaryReactor* GetQuarantine(grpc::CallbackServerContext* context,
                                          const kq::v1::GetQuarantineRequest* request,
                                          kq::v1::QuarantineRecord* response) override;
  // Runs on the query pool through server/policy_simulation.h; the deadline and a client
  // cancellation stop the scan.
  grpc::ServerUnaryReactor* SimulatePolicy(grpc::CallbackServerContext* context,
                                           const kq::v1::SimulatePolicyRequest* request,
                                           kq::v1::SimulatePolicyResponse* response) override;

 private:
  ServiceContext ctx_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_SERVICES_H_
