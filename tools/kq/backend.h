// What a kq command talks to: a store opened in-process (`--data DIR`) or a running kqd
// (`--server HOST:PORT`). Commands are written once against this interface.
#ifndef KQ_TOOLS_KQ_BACKEND_H_
#define KQ_TOOLS_KQ_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kq/v1/admin.pb.h"
#include "kq/v1/retention.pb.h"
#include "query/result.h"
#include "server/ingest_policies.h"
#include "storage/store.h"

namespace kq::cli {

struct ImportRequest {
  std::vector<std::string> files;  // JSON lines or EventList; plain, .gz or .zst
  std::string env;
  std::string cluster;
};

struct ImportProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // sum of file sizes on disk (compressed sizes for .gz/.zst)
  uint64_t events = 0;
};

struct ImportSummary {
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
};

// One implementation per connection kind. Not thread-safe; one command at a time.
class Backend {
 public:
  virtual ~Backend() = default;

  // At most the server's row limit (1,000,000 by default) rows; beyond it ResourceExhausted.
  [[nodiscard]] virtual absl::Status Query(const std::string& text, const std::string& env,
                                           query::RowSink& sink, query::QueryStats* stats) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::string> Explain(const std::string& text,
                                                            const std::string& env) = 0;
  // Streams events matching `text` (a where-pipeline) as they arrive, until `sink` fails or
  // the process is interrupted. Needs a server.
  [[nodiscard]] virtual absl::Status Tail(const std::string& text, const std::string& env,
                                          query::RowSink& sink) = 0;
  [[nodiscard]] virtual absl::StatusOr<ImportSummary> Import(
      const ImportRequest& request, const std::function<void(const ImportProgress&)>& progress) = 0;
  // Every environment when `env` is empty. `policy_rules` (may be null) receives the counts per
  // rule of the audit policies kqd applies at ingest to those environments (none embedded:
  // policies apply in kqd).
  [[nodiscard]] virtual absl::StatusOr<std::vector<storage::EnvironmentStats>> Stats(
      const std::string& env, std::vector<server::PolicyRuleStats>* policy_rules) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<storage::QuarantineRecord>> ListQuarantine(
      const std::string& env, size_t limit) = 0;
  [[nodiscard]] virtual absl::StatusOr<storage::QuarantineRecord> GetQuarantine(
      const std::string& env, uint64_t id) = 0;

  // `kq policy simulate`: the kq.v1 AdminService.SimulatePolicy call, answered where the events
  // are: by kqd or, embedded, in-process by the same server::SimulatePolicy. No row limit.
  [[nodiscard]] virtual absl::Status SimulatePolicy(const v1::SimulatePolicyRequest& request,
                                                    v1::SimulatePolicyResponse* response) = 0;

  // Retention, holds and archives (`kq retention|hold|archive`): the kq.v1 RetentionService
  // calls, answered by kqd or, embedded, in-process by the same server::RetentionRunner.
  [[nodiscard]] virtual absl::Status RetentionPlan(const v1::RetentionPlanRequest& request,
                                                   v1::RetentionPlanResponse* response) = 0;
  [[nodiscard]] virtual absl::Status RetentionRun(const v1::RetentionRunRequest& request,
                                                  v1::RetentionRunResponse* response) = 0;
  [[nodiscard]] virtual absl::Status RetentionLog(const v1::RetentionLogRequest& request,
                                                  v1::RetentionLogResponse* response) = 0;
  [[nodiscard]] virtual absl::Status RetentionReport(const v1::RetentionReportRequest& request,
                                                     v1::RetentionReportResponse* response) = 0;
  [[nodiscard]] virtual absl::Status AddHold(const v1::AddHoldRequest& request,
                                             v1::AddHoldResponse* response) = 0;
  [[nodiscard]] virtual absl::Status ListHolds(const v1::ListHoldsRequest& request,
                                               v1::ListHoldsResponse* response) = 0;
  [[nodiscard]] virtual absl::Status ReleaseHold(const v1::ReleaseHoldRequest& request) = 0;
  [[nodiscard]] virtual absl::Status ListArchive(const v1::ListArchiveRequest& request,
                                                 v1::ListArchiveResponse* response) = 0;
  [[nodiscard]] virtual absl::Status VerifyArchive(const v1::VerifyArchiveRequest& request,
                                                   v1::VerifyArchiveResponse* response) = 0;
  [[nodiscard]] virtual absl::Status RestoreArchive(const v1::RestoreArchiveRequest& request,
                                                    v1::RestoreArchiveResponse* response) = 0;
  // Embedded only, before any retention call: take the retention policy, archive root and
  // environment directories from a kqd config file, so that `kq --data` enforces what kqd
  // would. A server uses its own config: FailedPrecondition.
  [[nodiscard]] virtual absl::Status UseKqdConfig(const std::string& kqd_config_file) = 0;
};

// Opens the store under `data_dir` in-process (its lock keeps a running kqd out): prod, dev
// and every restored area (<data_dir>/<name>-restored) found there. Retention uses the default
// policy and archive root (<data_dir>/archive).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Backend>> OpenEmbedded(const std::string& data_dir);
// PEM files for gRPC over TLS. `ca` verifies kqd's certificate (empty: the system roots);
// `cert` and `key` are this client's certificate, for a kqd that asks for one.
struct TlsFiles {
  std::string ca, cert, key;
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

// Connects to kqd at `address` (HOST:PORT), over TLS when `tls.enabled()`. Unavailable (exit
// code 3) if it cannot connect; InvalidArgument when a TLS file cannot be read.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Backend>> ConnectRemote(const std::string& address,
                                                                     const TlsFiles& tls);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_BACKEND_H_
