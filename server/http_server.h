// kqd's HTTP listener (cpp-httplib): the kube-apiserver audit webhook and the operational
// endpoints, on one address.
//
//   POST /ingest/<env>/<cluster>   an EventList (also a single event or JSON lines); the
//                                  apiserver appends ?timeout=30s, which is accepted.
//        200  after every event is durable; body {"stored":N,"duplicates":N,"quarantined":N}
//             (items that fail to decode are quarantined; the rest of the batch is stored)
//        400  nothing in the body could be decoded (the body is kept in quarantine)
//        404  unknown environment; nothing stored
//        413  body over webhook-body-limit
//        429  the ingest queue is full; Retry-After: 1 (client-go honours it)
//        503  kqd is draining; Retry-After: 1
//   GET /metrics   Prometheus text format
//   GET /healthz   200 while the process serves
//   GET /readyz    200 once kqd accepts work, 503 while starting or draining
//
// With tls-cert/tls-key it serves HTTPS; with tls-client-ca it also requires and verifies a
// client certificate. Handlers run on httplib's own thread pool (sized for the apiserver's 15
// concurrent batches and more), never on gRPC threads.
//
// Borrows the pipeline and metrics. Start() once; Stop() from any thread.
#ifndef KQ_SERVER_HTTP_SERVER_H_
#define KQ_SERVER_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "server/config.h"
#include "server/ingest_pipeline.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace kq::server {

class HttpServer {
 public:
  HttpServer(const ServerConfig& config, IngestPipeline* pipeline, Metrics* metrics,
             const std::atomic<bool>* ready, const std::atomic<bool>* draining);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds config.http_listen (port 0 picks a free one) and starts serving on a thread.
  // Fails with the address and reason when it cannot bind or the TLS files are unusable.
  [[nodiscard]] absl::Status Start();
  // "HOST:PORT" actually bound.
  std::string address() const;
  int port() const { return port_; }
  // Stops accepting, lets running handlers finish, joins. Idempotent.
  void Stop();

 private:
  void Routes();

  ServerConfig config_;
  IngestPipeline* pipeline_;
  Metrics* metrics_;
  const std::atomic<bool>* ready_;
  const std::atomic<bool>* draining_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  std::atomic<uint64_t> batch_seq_{0};
};

}  // namespace kq::server

#endif  // KQ_SERVER_HTTP_SERVER_H_
