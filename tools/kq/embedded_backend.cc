// Backend over a store opened in-process (`kq --data DIR`): the same ingest pipeline and
// query engine as kqd, without the daemon.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "query/engine.h"
#include "server/importer.h"
#include "server/ingest_pipeline.h"
#include "server/metrics.h"
#include "server/store_readers.h"
#include "server/tail_hub.h"
#include "tools/kq/backend.h"

namespace kq::cli {
namespace {

// One import at a time goes through the pipeline; the bound only matters for servers.
constexpr uint64_t kQueueDepth = 4;

class EmbeddedBackend : public Backend {
 public:
  explicit EmbeddedBackend(std::unique_ptr<storage::Store> store)
      : store_(std::move(store)),
        readers_(store_.get()),
        pipeline_(store_.get(), &metrics_, &hub_, kQueueDepth) {}

  ~EmbeddedBackend() override {
    // Seal what was imported so the next open starts from segments; a failure here loses
    // nothing (the WAL has it) and is reported.
    for (const std::string& name : store_->EnvironmentNames()) {
      absl::Status flushed = store_->Find(name)->Flush();
      if (!flushed.ok()) {
        std::fprintf(stderr, "kq: flushing %s: %s\n", name.c_str(),
                     std::string(StdSv(flushed.message())).c_str());
      }
    }
  }

  absl::Status Query(const std::string& text, const std::string& env, query::RowSink& sink,
                     query::QueryStats* stats, uint64_t max_rows) override {
    query::QueryOptions options;
    options.default_env = env;
    if (max_rows > 0) options.max_rows = max_rows;
    return query::RunQuery(readers_, text, options, sink, stats);
  }

  absl::StatusOr<std::string> Explain(const std::string& text, const std::string& env) override {
    query::QueryOptions options;
    options.default_env = env;
    return query::Explain(readers_, text, options);
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
    for (const std::string& file : request.files) {
      const ImportProgress before = total;
      KQ_ASSIGN_OR_RETURN(server::IngestStats stats,
                          server::ImportFile(file, sink, [&](const server::ImportProgress& p) {
                            total.bytes_done = before.bytes_done + p.bytes_done;
                            total.events = before.events + p.events;
                            progress(total);
                          }));
      summary.stored += stats.stored;
      summary.duplicates += stats.duplicates;
      summary.quarantined += stats.quarantined;
    }
    return summary;
  }

  absl::StatusOr<std::vector<storage::EnvironmentStats>> Stats(const std::string& env) override {
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

 private:
  std::unique_ptr<storage::Store> store_;
  server::Metrics metrics_;
  server::TailHub hub_;
  server::StoreReaderFactory readers_;
  server::IngestPipeline pipeline_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenEmbedded(const std::string& data_dir) {
  storage::StoreOptions options;
  options.data_dir = data_dir;
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::Store::Open(options));
  return std::make_unique<EmbeddedBackend>(std::move(store));
}

}  // namespace kq::cli
