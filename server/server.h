// kqd as an object: opens the store, starts the ingest pipeline, the worker pools, the gRPC
// services and the HTTP listener, and drains them in order. kqd's main() and in-process tests
// use the same class.
//
// Start() returns once both listeners accept connections (ready() is then true). Drain() stops
// accepting, finishes acknowledged work, flushes every environment and closes the store. Not
// copyable; Drain() may be called from any thread, once.
#ifndef KQ_SERVER_SERVER_H_
#define KQ_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/config.h"

namespace grpc {
class Server;
}

namespace kq::server {

class FileTailer;
class HttpServer;
class IngestPipeline;
class IngestPolicies;
class Metrics;
class TailHub;
class WorkerPool;
class StoreReaderFactory;
class IngestServiceImpl;
class QueryServiceImpl;
class AdminServiceImpl;
class RetentionRunner;
class RetentionServiceImpl;

class Server {
 public:
  // Opens the store and starts serving. A locked data directory fails with
  // FailedPrecondition; an address that cannot be bound with Unavailable naming it.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config,
                                                                     Clock* clock = Clock::Real());
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "HOST:PORT" actually bound (the port is resolved when the config asked for 0).
  std::string grpc_address() const { return grpc_address_; }
  std::string http_address() const;

  // The ingest pipeline, for embedding and tests (e.g. holding admission tickets).
  IngestPipeline* pipeline() const { return pipeline_.get(); }

  // Stops accepting (readyz 503, webhook 503, new gRPC calls refused), waits for admitted
  // batches and running calls (open Tail streams are ended), flushes and closes the store.
  // Idempotent. Returns the first flush error.
  [[nodiscard]] absl::Status Drain();

 private:
  Server() = default;

  ServerConfig config_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  bool drained_ = false;
  std::string grpc_address_;
  std::unique_ptr<IngestPolicies> policies_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<TailHub> hub_;
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<StoreReaderFactory> readers_;
  std::unique_ptr<WorkerPool> query_pool_;
  std::unique_ptr<WorkerPool> ingest_pool_;
  std::unique_ptr<IngestServiceImpl> ingest_service_;
  std::unique_ptr<QueryServiceImpl> query_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::unique_ptr<RetentionRunner> retention_;
  std::unique_ptr<RetentionServiceImpl> retention_service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<FileTailer> tailer_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_SERVER_H_
