// Backend over gRPC to a running kqd.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "kq/v1/admin.grpc.pb.h"
#include "kq/v1/ingest.grpc.pb.h"
#include "kq/v1/query.grpc.pb.h"
#include "kq/v1/retention.grpc.pb.h"
#include "server/importer.h"
#include "tools/kq/backend.h"

namespace kq::cli {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);

absl::Status FromGrpc(const grpc::Status& s, const std::string& address) {
  if (s.ok()) return absl::OkStatus();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(absl::StrCat("cannot reach kqd at ", address, ": ",
                                               s.error_message(), " (is kqd running?)"));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

query::Value FromProto(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kBoolValue:
      return v.bool_value();
    case v1::Value::kIntValue:
      return v.int_value();
    case v1::Value::kDoubleValue:
      return v.double_value();
    case v1::Value::kStringValue:
      return v.string_value();
    case v1::Value::kDatetimeMicros:
      return query::Datetime{v.datetime_micros()};
    case v1::Value::kTimespanMicros:
      return query::Timespan{v.timespan_micros()};
    case v1::Value::kJson:
      return query::Json{v.json()};
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return std::monostate{};
}

// Feeds a Query or Tail response stream into `sink`.
absl::Status Drain(grpc::ClientReaderInterface<v1::QueryResponse>& reader, query::RowSink& sink,
                   query::QueryStats* stats) {
  v1::QueryResponse response;
  std::vector<query::Row> rows;
  while (reader.Read(&response)) {
    switch (response.kind_case()) {
      case v1::QueryResponse::kSchema: {
        std::vector<query::ColumnInfo> columns;
        for (const v1::ColumnInfo& c : response.schema().columns()) {
          columns.push_back({c.name(), static_cast<query::ValueType>(c.type())});
        }
        KQ_RETURN_IF_ERROR(sink.OnSchema(columns));
        break;
      }
      case v1::QueryResponse::kRows: {
        rows.clear();
        for (const v1::Row& r : response.rows().rows()) {
          query::Row row;
          row.reserve(r.values_size());
          for (const v1::Value& v : r.values()) row.push_back(FromProto(v));
          rows.push_back(std::move(row));
        }
        KQ_RETURN_IF_ERROR(sink.OnRows(rows));
        break;
      }
      case v1::QueryResponse::kStats:
        if (stats != nullptr) {
          const v1::QueryStats& s = response.stats();
          stats->rows_returned = s.rows_returned();
          stats->rows_scanned = s.rows_scanned();
          stats->segments_total = s.segments_total();
          stats->segments_pruned = s.segments_pruned();
          stats->segments_read = s.segments_read();
          stats->bytes_read = s.bytes_read();
          stats->elapsed = s.elapsed_micros();
        }
        break;
      case v1::QueryResponse::kGap:
        std::fprintf(stderr, "kq: tail fell behind; %llu events skipped\n",
                     static_cast<unsigned long long>(response.gap().skipped()));
        break;
      case v1::QueryResponse::KIND_NOT_SET:
        break;
    }
  }
  return absl::OkStatus();
}

// The contents of a PEM file named by `flag`; "" when no file is named.
absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view flag) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", Sv(flag), " file ", path, ": give a readable PEM file"));
  }
  return text.str();
}

storage::QuarantineRecord FromProto(const v1::QuarantineRecord& r) {
  return {r.id(), r.received_micros(), r.source(), r.reason(), r.payload()};
}

class RemoteBackend : public Backend {
 public:
  RemoteBackend(std::string address, std::shared_ptr<grpc::Channel> channel)
      : address_(std::move(address)),
        query_(v1::QueryService::NewStub(channel)),
        ingest_(v1::IngestService::NewStub(channel)),
        admin_(v1::AdminService::NewStub(channel)),
        retention_(v1::RetentionService::NewStub(channel)) {}

  absl::Status Query(const std::string& text, const std::string& env, query::RowSink& sink,
                     query::QueryStats* stats) override {
    grpc::ClientContext context;
    v1::QueryRequest request;
    request.set_query(text);
    request.set_default_env(env);
    return DrainStream(context, *query_->Query(&context, request), sink, stats);
  }

  absl::StatusOr<std::string> Explain(const std::string& text, const std::string& env) override {
    v1::ExplainRequest request;
    request.set_query(text);
    request.set_default_env(env);
    v1::ExplainResponse response;
    KQ_RETURN_IF_ERROR(Unary(*query_, &v1::QueryService::Stub::Explain, request, &response));
    return response.plan();
  }

  absl::Status Tail(const std::string& text, const std::string& env,
                    query::RowSink& sink) override {
    grpc::ClientContext context;
    v1::TailRequest request;
    request.set_query(text);
    request.set_default_env(env);
    return DrainStream(context, *query_->Tail(&context, request), sink, nullptr);
  }

  absl::StatusOr<ImportSummary> Import(
      const ImportRequest& request,
      const std::function<void(const ImportProgress&)>& progress) override {
    ImportProgress total;
    for (const std::string& file : request.files) {
      std::error_code ec;
      total.bytes_total += std::filesystem::file_size(file, ec);
    }
    grpc::ClientContext context;
    v1::IngestResponse response;
    auto writer = ingest_->Ingest(&context, &response);
    bool first = true;
    // Chunks go up the stream as they are read; kqd answers for the whole stream at the end.
    server::ImportSink sink = [&](const server::ImportChunk& chunk, server::IngestStats*) {
      v1::IngestRequest message;
      if (first) {
        message.set_env(request.env);
        message.set_cluster(request.cluster);
        first = false;
      }
      message.set_source(chunk.source);
      message.set_raw(std::string(chunk.text));
      message.set_first_line(chunk.first_line);
      if (!writer->Write(message)) {
        return absl::UnavailableError("kqd closed the ingest stream");
      }
      return absl::OkStatus();
    };
    absl::Status sent = absl::OkStatus();
    for (const std::string& file : request.files) {
      const ImportProgress before = total;
      absl::StatusOr<server::IngestStats> stats =
          server::ImportFile(file, sink, [&](const server::ImportProgress& p) {
            total.bytes_done = before.bytes_done + p.bytes_done;
            progress(total);
          });
      if (!stats.ok()) {
        sent = stats.status();
        break;
      }
    }
    writer->WritesDone();
    // The server's verdict explains a closed stream better than the write failure does.
    KQ_RETURN_IF_ERROR(FromGrpc(writer->Finish(), address_));
    KQ_RETURN_IF_ERROR(sent);
    return ImportSummary{response.stored(), response.duplicates(), response.quarantined()};
  }

  absl::StatusOr<std::vector<storage::EnvironmentStats>> Stats(
      const std::string& env, std::vector<server::PolicyRuleStats>* policy_rules) override {
    v1::StatsRequest request;
    request.set_env(env);
    v1::StatsResponse response;
    KQ_RETURN_IF_ERROR(Unary(*admin_, &v1::AdminService::Stub::Stats, request, &response));
    if (policy_rules != nullptr) policy_rules->clear();
    std::vector<storage::EnvironmentStats> out;
    for (const v1::EnvironmentStats& e : response.environments()) {
      storage::EnvironmentStats s;
      s.env = e.env();
      s.events = e.events();
      s.raw_bytes = e.raw_bytes();
      s.disk_bytes = e.disk_bytes();
      s.quarantined = e.quarantined();
      s.oldest = e.oldest_micros();
      s.newest = e.newest_micros();
      for (const v1::NamespaceStats& n : e.namespaces()) {
        s.namespaces.push_back({n.tier(), n.ns(), n.events(), n.raw_bytes(), n.disk_bytes()});
      }
      s.write_stopped = e.write_stopped();
      s.delayed_write_rate = e.delayed_write_rate();
      s.write_stall_micros = e.write_stall_micros();
      for (const v1::PolicyRuleStats& r : e.policy_rules()) {
        if (policy_rules == nullptr) break;
        server::PolicyRuleStats p;
        p.env = e.env();
        p.source = r.source();
        p.cluster = r.cluster();
        p.file = r.policy();
        p.rule = r.rule();
        p.line = r.line();
        p.level = r.level();
        p.dropped = r.dropped();
        p.reduced = r.reduced();
        p.kept = r.kept();
        policy_rules->push_back(std::move(p));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::vector<storage::QuarantineRecord>> ListQuarantine(const std::string& env,
                                                                        size_t limit) override {
    v1::ListQuarantineRequest request;
    request.set_env(env);
    request.set_limit(static_cast<uint32_t>(limit));
    v1::ListQuarantineResponse response;
    KQ_RETURN_IF_ERROR(Unary(*admin_, &v1::AdminService::Stub::ListQuarantine, request, &response));
    std::vector<storage::QuarantineRecord> out;
    for (const v1::QuarantineRecord& r : response.records()) out.push_back(FromProto(r));
    return out;
  }

  absl::StatusOr<storage::QuarantineRecord> GetQuarantine(const std::string& env,
                                                          uint64_t id) override {
    v1::GetQuarantineRequest request;
    request.set_env(env);
    request.set_id(id);
    v1::QuarantineRecord response;
    KQ_RETURN_IF_ERROR(Unary(*admin_, &v1::AdminService::Stub::GetQuarantine, request, &response));
    return FromProto(response);
  }

  absl::Status SimulatePolicy(const v1::SimulatePolicyRequest& request,
                              v1::SimulatePolicyResponse* response) override {
    return Unary(*admin_, &v1::AdminService::Stub::SimulatePolicy, request, response);
  }

  absl::Status RetentionPlan(const v1::RetentionPlanRequest& request,
                             v1::RetentionPlanResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::Plan, request, response);
  }
  absl::Status RetentionRun(const v1::RetentionRunRequest& request,
                            v1::RetentionRunResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::Run, request, response);
  }
  absl::Status RetentionLog(const v1::RetentionLogRequest& request,
                            v1::RetentionLogResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::Log, request, response);
  }
  absl::Status RetentionReport(const v1::RetentionReportRequest& request,
                               v1::RetentionReportResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::Report, request, response);
  }
  absl::Status AddHold(const v1::AddHoldRequest& request, v1::AddHoldResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::AddHold, request, response);
  }
  absl::Status ListHolds(const v1::ListHoldsRequest& request,
                         v1::ListHoldsResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::ListHolds, request, response);
  }
  absl::Status ListArchive(const v1::ListArchiveRequest& request,
                           v1::ListArchiveResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::ListArchive, request, response);
  }
  absl::Status VerifyArchive(const v1::VerifyArchiveRequest& request,
                             v1::VerifyArchiveResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::VerifyArchive, request, response);
  }
  absl::Status RestoreArchive(const v1::RestoreArchiveRequest& request,
                              v1::RestoreArchiveResponse* response) override {
    return Unary(*retention_, &v1::RetentionService::Stub::RestoreArchive, request, response);
  }
  absl::Status UseKqdConfig(const std::string&) override {
    return absl::FailedPreconditionError(
        "--kqd-config is for --data DIR: kqd enforces the retention of its own config");
  }

  absl::Status ReleaseHold(const v1::ReleaseHoldRequest& request) override {
    v1::ReleaseHoldResponse response;
    return Unary(*retention_, &v1::RetentionService::Stub::ReleaseHold, request, &response);
  }

 private:
  // One unary call on a fresh context; gRPC errors become Status naming the server.
  template <typename Stub, typename Request, typename Response>
  absl::Status Unary(Stub& stub,
                     grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                     const Request& request, Response* response) {
    grpc::ClientContext context;
    return FromGrpc((stub.*method)(&context, request, response), address_);
  }

  // Reads a result stream into `sink`; when the sink fails, cancels the call and returns the
  // sink's error rather than the cancellation.
  template <typename Reader>
  absl::Status DrainStream(grpc::ClientContext& context, Reader& reader, query::RowSink& sink,
                           query::QueryStats* stats) {
    absl::Status drained = Drain(reader, sink, stats);
    if (!drained.ok()) {
      context.TryCancel();
      reader.Finish().ok();
      return drained;
    }
    return FromGrpc(reader.Finish(), address_);
  }

  std::string address_;
  std::unique_ptr<v1::QueryService::Stub> query_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::RetentionService::Stub> retention_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> ConnectRemote(const std::string& address,
                                                       const TlsFiles& tls) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (tls.enabled()) {
    grpc::SslCredentialsOptions options;
    KQ_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(tls.ca, "--tls-ca"));
    KQ_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem(tls.cert, "--tls-cert"));
    KQ_ASSIGN_OR_RETURN(options.pem_private_key, ReadPem(tls.key, "--tls-key"));
    credentials = grpc::SslCredentials(options);
  }
  auto channel = grpc::CreateChannel(address, credentials);
  // Fail at the first refused attempt rather than retrying until the timeout.
  const auto deadline = std::chrono::system_clock::now() + kConnectTimeout;
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN ||
        !channel->WaitForStateChange(state, deadline)) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to kqd at ", address,
                       ": is it running? (start one with ./run.sh, or use --data DIR)"));
    }
    state = channel->GetState(/*try_to_connect=*/true);
  }
  return std::make_unique<RemoteBackend>(address, std::move(channel));
}

}  // namespace kq::cli
