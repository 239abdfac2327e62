#include "server/server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "server/file_tail.h"
#include "server/http_server.h"
#include "server/ingest_pipeline.h"
#include "server/ingest_policies.h"
#include "server/metrics.h"
#include "server/retention_runner.h"
#include "server/retention_service.h"
#include "server/services.h"
#include "server/store_readers.h"
#include "server/tail_hub.h"
#include "server/worker_pool.h"

namespace kq::server {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;
constexpr size_t kIngestThreads = 16;
constexpr size_t kPoolQueue = 1024;
constexpr auto kDrainGrace = std::chrono::seconds(10);

absl::StatusOr<std::string> ReadPem(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": cannot read a PEM file from ", path));
  }
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(
    const ServerConfig& config) {
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  KQ_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("grpc-tls-cert", config.grpc_tls_cert));
  KQ_ASSIGN_OR_RETURN(pair.private_key, ReadPem("grpc-tls-key", config.grpc_tls_key));
  options.pem_key_cert_pairs.push_back(pair);
  if (!config.grpc_tls_client_ca.empty()) {
    KQ_ASSIGN_OR_RETURN(options.pem_root_certs,
                        ReadPem("grpc-tls-client-ca", config.grpc_tls_client_ca));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config, Clock* clock) {
  std::unique_ptr<Server> s(new Server());
  s->config_ = config;

  // A bad policy file is refused before anything is opened.
  KQ_ASSIGN_OR_RETURN(s->policies_, IngestPolicies::Load(config));

  storage::StoreOptions options;
  options.data_dir = config.data_dir;
  options.environments = config.environments;
  options.memory_budget_bytes = config.memory_budget;
  options.durability =
      config.durability == "buffered" ? storage::Durability::kBuffered : storage::Durability::kSync;
  options.rocksdb_log_file = config.rocksdb_log == "file";
  options.clock = clock;
  KQ_ASSIGN_OR_RETURN(s->store_, storage::Store::Open(options));

  s->metrics_ = std::make_unique<Metrics>();
  s->hub_ = std::make_unique<TailHub>();
  s->pipeline_ = std::make_unique<IngestPipeline>(s->store_.get(), s->metrics_.get(), s->hub_.get(),
                                                  config.queue_depth, clock);
  if (!s->policies_->empty()) s->pipeline_->SetPolicies(s->policies_.get());
  s->readers_ = std::make_unique<StoreReaderFactory>(
      s->store_.get(), ResolveArchiveRoot(config.data_dir, config.archive_root));
  s->query_pool_ = std::make_unique<WorkerPool>(config.query_workers, kPoolQueue);
  s->ingest_pool_ = std::make_unique<WorkerPool>(kIngestThreads, config.queue_depth + kPoolQueue);

  ServiceContext ctx;
  ctx.store = s->store_.get();
  ctx.pipeline = s->pipeline_.get();
  ctx.readers = s->readers_.get();
  ctx.query_pool = s->query_pool_.get();
  ctx.ingest_pool = s->ingest_pool_.get();
  ctx.metrics = s->metrics_.get();
  ctx.hub = s->hub_.get();
  ctx.policies = s->policies_.get();
  ctx.clock = clock;
  ctx.max_rows = config.max_rows;
  for (const auto& e : config.environments) {
    ctx.env_dirs[e.name] = e.dir.empty() ? absl::StrCat(config.data_dir, "/", e.name) : e.dir;
  }
  ctx.ready = &s->ready_;
  ctx.draining = &s->draining_;
  s->ingest_service_ = std::make_unique<IngestServiceImpl>(ctx);
  s->query_service_ = std::make_unique<QueryServiceImpl>(ctx);
  s->admin_service_ = std::make_unique<AdminServiceImpl>(ctx);
  RetentionRunnerOptions retention;
  retention.data_dir = config.data_dir;
  retention.environments = config.environments;
  retention.policy = config.retention;
  retention.archive_root = config.archive_root;
  retention.interval = config.retention_interval;
  retention.clock = clock;
  KQ_ASSIGN_OR_RETURN(s->retention_, RetentionRunner::Create(s->store_.get(), retention));
  s->retention_service_ =
      std::make_unique<RetentionServiceImpl>(s->retention_.get(), s->query_pool_.get());

  grpc::ServerBuilder builder;
  int grpc_port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!config.grpc_tls_cert.empty()) {
    KQ_ASSIGN_OR_RETURN(credentials, TlsCredentials(config));
  }
  builder.AddListeningPort(config.grpc_listen, credentials, &grpc_port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(s->ingest_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->admin_service_.get());
  builder.RegisterService(s->retention_service_.get());
  s->grpc_ = builder.BuildAndStart();
  if (s->grpc_ == nullptr || grpc_port == 0) {
    return absl::UnavailableError(absl::StrCat("grpc-listen: cannot bind ", config.grpc_listen,
                                               " (address in use or not local?)"));
  }
  std::string host = config.grpc_listen.substr(0, config.grpc_listen.rfind(':'));
  s->grpc_address_ = absl::StrCat(host, ":", grpc_port);

  if (!s->policies_->empty()) {
    s->metrics_->AddSection([p = s->policies_.get()] { return p->MetricsText(); });
  }
  s->metrics_->AddSection([r = s->retention_.get()] { return r->MetricsText(); });
  s->http_ = std::make_unique<HttpServer>(config, s->pipeline_.get(), s->metrics_.get(), &s->ready_,
                                          &s->draining_);
  absl::Status http = s->http_->Start();
  if (!http.ok()) {
    s->grpc_->Shutdown();
    return http;
  }
  if (!config.tail_sources.empty()) {
    FileTailOptions tail;
    tail.sources = config.tail_sources;
    tail.checkpoint_path = config.tail_checkpoint.empty()
                               ? absl::StrCat(config.data_dir, "/tail-checkpoint")
                               : config.tail_checkpoint;
    s->tailer_ = std::make_unique<FileTailer>(tail, s->pipeline_.get());
    if (absl::Status t = s->tailer_->Load(); !t.ok()) {
      s->http_->Stop();
      s->grpc_->Shutdown();
      return t;
    }
    s->tailer_->Start();
  }
  s->retention_->StartScheduler();
  s->ready_.store(true);
  return s;
}

std::string Server::http_address() const { return http_->address(); }

absl::Status Server::Drain() {
  if (drained_) return absl::OkStatus();
  drained_ = true;
  draining_.store(true);
  pipeline_->Close();
  log::Info("draining: no new work accepted");
  if (tailer_ != nullptr) tailer_->Stop();
  retention_->StopScheduler();  // a run in progress finishes first
  // Stop the HTTP listener; handlers already running (admitted batches) finish first.
  http_->Stop();
  // gRPC: running calls get a grace period, then are cancelled (open Tail streams end).
  grpc_->Shutdown(std::chrono::system_clock::now() + kDrainGrace);
  ingest_pool_->Shutdown();
  query_pool_->Shutdown();
  while (metrics_->tail_subscribers.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  absl::Status result;
  for (const auto& name : store_->EnvironmentNames()) {
    absl::Status s = store_->Find(name)->Flush();
    if (!s.ok()) {
      log::Error("flush of ", name, " failed: ", s.ToString());
      if (result.ok()) result = s;
    }
  }
  grpc_.reset();
  store_.reset();
  log::Info("drained");
  return result;
}

Server::~Server() {
  // A Start() that failed half-way has nothing to drain; members close in reverse order.
  if (!drained_ && grpc_ != nullptr && http_ != nullptr && ready_.load()) {
    absl::Status s = Drain();
    if (!s.ok()) log::Error("drain at destruction: ", s.ToString());
  }
}

}  // namespace kq::server
