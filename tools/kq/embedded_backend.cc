// Backend over a store opened in-process (`kq --data DIR`): the same ingest pipeline and
// query engine as kqd, without the daemon.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/strings.h"
#include "query/engine.h"
#include "server/config.h"
#include "server/importer.h"
#include "server/ingest_pipeline.h"
#include "server/metrics.h"
#include "server/policy_simulation.h"
#include "server/retention_runner.h"
#include "server/store_readers.h"
#include "server/tail_hub.h"
#include "tools/kq/backend.h"

namespace kq::cli {
namespace {

// One import at a time goes through the pipeline; the bound only matters for servers.
constexpr uint64_t kQueueDepth = 4;
// Chunks of a file decoded and stored at once (one per core here). Each chunk (8 MiB, about
// 6,600 events) is stored by its own Append, in parallel: grouping two chunks into one Append
// left a core waiting (10M events: 63.4 to 63.9 s against 66.2, same CPU; docs/benchmarks.md).
constexpr int kImportChunksInFlight = 2;

class EmbeddedBackend : public Backend {
 public:
  EmbeddedBackend(std::unique_ptr<storage::Store> store, std::string data_dir)
      : store_(std::move(store)),
        readers_(std::make_unique<server::StoreReaderFactory>(
            store_.get(), server::ResolveArchiveRoot(data_dir, ""))),
        pipeline_(store_.get(), &metrics_, &hub_, kQueueDepth, Clock::Real(),
                  kImportChunksInFlight),
        data_dir_(std::move(data_dir)) {}

  ~EmbeddedBackend() override {
    // Seal what was imported so the next open starts from segments; a failure here loses
    // nothing (the WAL has it) and is reported. Read-only sessions skip it: it costs syncs.
    if (!wrote_) return;
    for (const std::string& name : store_->EnvironmentNames()) {
      absl::Status flushed = store_->Find(name)->Flush();
      if (!flushed.ok()) {
        std::fprintf(stderr, "kq: flushing %s: %s\n", name.c_str(),
                     std::string(StdSv(flushed.message())).c_str());
      }
    }
  }

  absl::Status Query(const std::string& text, const std::string& env, query::RowSink& sink,
                     query::QueryStats* stats) override {
    query::QueryOptions options;
    options.default_env = env;
    return query::RunQuery(*readers_, text, options, sink, stats);
  }

  absl::Status SimulatePolicy(const v1::SimulatePolicyRequest& request,
                              v1::SimulatePolicyResponse* response) override {
    return server::SimulatePolicy(*readers_, request, query::QueryOptions(), response);
  }

  absl::StatusOr<std::string> Explain(const std::string& text, const std::string& env) override {
    query::QueryOptions options;
    options.default_env = env;
    return query::Explain(*readers_, text, options);
  }

  absl::Status Tail(const std::string&, const std::string&, query::RowSink&) override {
    return absl::FailedPreconditionError(
        "tail follows events as kqd receives them: use --server HOST:PORT (or a context with "
        "a server)");
  }

  absl::StatusOr<ImportSummary> Import(
      const ImportRequest& request,
      const std::function<void(const ImportProgress&)>& progress) override {
    KQ_RETURN_IF_ERROR(server::FindEnvironment(store_.get(), request.env).status());
    ImportProgress total;
    for (const std::string& file : request.files) {
      std::error_code ec;
      total.bytes_total += std::filesystem::file_size(file, ec);
    }
    ImportSummary summary;
    server::ImportSink sink = server::PipelineSink(&pipeline_, request.env, request.cluster);
    // The pipeline is thread-safe: decode and store kImportChunksInFlight chunks at once.
    server::ImportOptions options;
    options.chunks_in_flight = kImportChunksInFlight;
    // 8 MiB chunks (about 6,600 events of `kq gen` traffic) instead of 4: half as many Appends,
    // so half as many small segments per (hour, namespace) to encode and merge, and each call's
    // sorted auditID keys lie closer together in the index memtable. 1M events: CPU -6 %, peak
    // RSS +40 to 65 MB; 16 MiB saved about 3 % more for +140 MB (docs/benchmarks.md, Storage).
    options.chunk_bytes = 8u << 20;
    for (const std::string& file : request.files) {
      const ImportProgress before = total;
      auto file_progress = [&](const server::ImportProgress& p) {
        total.bytes_done = before.bytes_done + p.bytes_done;
        total.events = before.events + p.events;
        progress(total);
      };
      KQ_ASSIGN_OR_RETURN(server::IngestStats stats,
                          server::ImportFile(file, sink, file_progress, options));
      summary.stored += stats.stored;
      wrote_ = wrote_ || stats.stored > 0;
      summary.duplicates += stats.duplicates;
      summary.quarantined += stats.quarantined;
    }
    return summary;
  }

  absl::StatusOr<std::vector<storage::EnvironmentStats>> Stats(
      const std::string& env, std::vector<server::PolicyRuleStats>* policy_rules) override {
    if (policy_rules != nullptr) policy_rules->clear();
    std::vector<storage::EnvironmentStats> out;
    for (const std::string& name : store_->EnvironmentNames()) {
      if (!env.empty() && env != name) continue;
      KQ_ASSIGN_OR_RETURN(storage::EnvironmentStats stats, store_->Find(name)->Stats());
      out.push_back(std::move(stats));
    }
    if (out.empty() && !env.empty()) {
      return server::FindEnvironment(store_.get(), env).status();
    }
    return out;
  }

  absl::StatusOr<std::vector<storage::QuarantineRecord>> ListQuarantine(const std::string& env,
                                                                        size_t limit) override {
    KQ_ASSIGN_OR_RETURN(storage::Environment * e, server::FindEnvironment(store_.get(), env));
    return e->ListQuarantine(limit);
  }

  absl::StatusOr<storage::QuarantineRecord> GetQuarantine(const std::string& env,
                                                          uint64_t id) override {
    KQ_ASSIGN_OR_RETURN(storage::Environment * e, server::FindEnvironment(store_.get(), env));
    return e->GetQuarantine(id);
  }

  absl::Status RetentionPlan(const v1::RetentionPlanRequest& request,
                             v1::RetentionPlanResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->Plan(request, response);
  }
  absl::Status RetentionRun(const v1::RetentionRunRequest& request,
                            v1::RetentionRunResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->Run(request, response);
  }
  absl::Status RetentionLog(const v1::RetentionLogRequest& request,
                            v1::RetentionLogResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->Log(request, response);
  }
  absl::Status RetentionReport(const v1::RetentionReportRequest& request,
                               v1::RetentionReportResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->Report(request, response);
  }
  absl::Status AddHold(const v1::AddHoldRequest& request, v1::AddHoldResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->AddHold(request, response);
  }
  absl::Status ListHolds(const v1::ListHoldsRequest& request,
                         v1::ListHoldsResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->ListHolds(request, response);
  }
  absl::Status ReleaseHold(const v1::ReleaseHoldRequest& request) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->ReleaseHold(request);
  }
  absl::Status ListArchive(const v1::ListArchiveRequest& request,
                           v1::ListArchiveResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->ListArchive(request, response);
  }
  absl::Status VerifyArchive(const v1::VerifyArchiveRequest& request,
                             v1::VerifyArchiveResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->VerifyArchive(request, response);
  }
  absl::Status RestoreArchive(const v1::RestoreArchiveRequest& request,
                              v1::RestoreArchiveResponse* response) override {
    KQ_ASSIGN_OR_RETURN(server::RetentionRunner * r, runner());
    return r->RestoreArchive(request, response);
  }

 private:
  absl::Status UseKqdConfig(const std::string& kqd_config_file) override {
    if (runner_ != nullptr) return absl::FailedPreconditionError("retention is already open");
    const char* argv[] = {"kqd", "--config", kqd_config_file.c_str()};
    KQ_ASSIGN_OR_RETURN(server::ParsedArgs parsed, server::ParseArgs(3, argv));
    retention_.policy = parsed.config.retention;
    retention_.archive_root = parsed.config.archive_root;
    retention_.environments = parsed.config.environments;
    readers_ = std::make_unique<server::StoreReaderFactory>(
        store_.get(), server::ResolveArchiveRoot(data_dir_, retention_.archive_root));
    return absl::OkStatus();
  }

  // Opened at the first retention call (it creates each environment's ledger directory).
  absl::StatusOr<server::RetentionRunner*> runner() {
    if (runner_ == nullptr) {
      server::RetentionRunnerOptions options = retention_;
      options.data_dir = data_dir_;
      options.open_restore_targets = true;
      KQ_ASSIGN_OR_RETURN(runner_, server::RetentionRunner::Create(store_.get(), options));
    }
    return runner_.get();
  }

  std::unique_ptr<storage::Store> store_;
  bool wrote_ = false;  // something was appended: seal it at close
  server::Metrics metrics_;
  server::TailHub hub_;
  std::unique_ptr<server::StoreReaderFactory> readers_;  // archive root may follow --kqd-config
  server::IngestPipeline pipeline_;
  std::string data_dir_;
  server::RetentionRunnerOptions retention_;  // policy and archive root (UseKqdConfig)
  std::unique_ptr<server::RetentionRunner> runner_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenEmbedded(const std::string& data_dir) {
  storage::StoreOptions options;
  options.data_dir = data_dir;
  // Restored areas (`kq archive restore`) are environments of their own; open those present.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && name.size() > 9 &&
        name.compare(name.size() - 9, 9, "-restored") == 0) {
      options.environments.push_back({name, ""});
    }
  }
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::Store::Open(options));
  return std::make_unique<EmbeddedBackend>(std::move(store), data_dir);
}

}  // namespace kq::cli
