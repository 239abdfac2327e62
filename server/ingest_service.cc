#include <chrono>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "server/services.h"

namespace kq::server {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

namespace {

constexpr std::chrono::milliseconds kAdmitWait{30'000};

// One client-streaming Ingest call: read a batch, store it on the ingest pool, read the next.
// Only one batch of a call is in the pipeline at a time, so order within a stream is kept.
class IngestReactor : public grpc::ServerReadReactor<kq::v1::IngestRequest> {
 public:
  IngestReactor(const ServiceContext& ctx, kq::v1::IngestResponse* response)
      : ctx_(ctx), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed the stream (or went away): report what was stored
      response_->set_stored(stats_.stored);
      response_->set_duplicates(stats_.duplicates);
      response_->set_quarantined(stats_.quarantined);
      response_->set_filtered(stats_.filtered);
      for (uint64_t id : stats_.quarantine_ids) response_->add_quarantine_ids(id);
      Finish(grpc::Status::OK);
      return;
    }
    if (!request_.env().empty()) env_ = request_.env();
    if (!request_.cluster().empty()) cluster_ = request_.cluster();
    if (!request_.source().empty()) source_ = request_.source();
    if (env_.empty()) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "IngestRequest.env is required in the first message (e.g. \"prod\")"));
      return;
    }
    // Waiting for a slot blocks, so it happens on the ingest pool; the stream is not read
    // meanwhile, which is the backpressure the client sees.
    bool submitted = ctx_.ingest_pool->Submit([this] {
      IngestPipeline::Ticket ticket = ctx_.pipeline->Admit(kAdmitWait);
      if (!ticket) {
        bool draining = ctx_.draining->load();
        ctx_.metrics->AddRejected("grpc", draining ? "UNAVAILABLE" : "RESOURCE_EXHAUSTED");
        Finish(draining ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                       "kqd is shutting down; retry against the restarted server")
                        : grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                       "ingest queue full for 30s; retry later"));
        return;
      }
      absl::Status s = Process();
      ticket = IngestPipeline::Ticket();
      if (!s.ok()) {
        Finish(ToGrpc(s));
        return;
      }
      StartRead(&request_);
    });
    if (!submitted) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ingest workers unavailable; retry"));
    }
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Process() {
    std::string source = source_.empty() ? std::string("grpc") : source_;
    // kq import against kqd names its source "import:<path>": the same kind as an embedded import.
    std::string_view kind = source_.rfind("import:", 0) == 0 ? "import" : "grpc";
    if (request_.events_size() > 0) {
      std::vector<std::string_view> items;
      items.reserve(request_.events_size());
      for (const auto& e : request_.events()) items.emplace_back(e);
      absl::Status s =
          ctx_.pipeline->IngestItems(env_, cluster_, source, kind, items, items_seen_, &stats_);
      items_seen_ += items.size();
      if (!s.ok()) return s;
    }
    if (!request_.raw().empty()) {
      return ctx_.pipeline->IngestText(env_, cluster_, source, kind, request_.raw(),
                                       TextKind::kBody, request_.first_line(), &stats_);
    }
    return absl::OkStatus();
  }

  ServiceContext ctx_;
  kq::v1::IngestResponse* response_;
  kq::v1::IngestRequest request_;
  std::string env_, cluster_, source_;
  uint64_t items_seen_ = 0;
  IngestStats stats_;
};

}  // namespace

grpc::ServerReadReactor<kq::v1::IngestRequest>* IngestServiceImpl::Ingest(
    grpc::CallbackServerContext*, kq::v1::IngestResponse* response) {
  return new IngestReactor(ctx_, response);
}

}  // namespace kq::server
