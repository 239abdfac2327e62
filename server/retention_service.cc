#include "server/retention_service.h"

#include "server/services.h"

namespace kq::server {

// Runs `fn` (returning absl::Status) on the pool and finishes the unary reactor with it.
template <typename Fn>
grpc::ServerUnaryReactor* RetentionServiceImpl::OnPool(grpc::CallbackServerContext* context,
                                                       Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  bool ok =
      pool_->Submit([reactor, fn = std::move(fn)]() mutable { reactor->Finish(ToGrpc(fn())); });
  if (!ok) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "kqd is busy or shutting down; retry"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* RetentionServiceImpl::Plan(grpc::CallbackServerContext* context,
                                                     const v1::RetentionPlanRequest* request,
                                                     v1::RetentionPlanResponse* response) {
  return OnPool(context, [this, request, response] { return runner_->Plan(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::Run(grpc::CallbackServerContext* context,
                                                    const v1::RetentionRunRequest* request,
                                                    v1::RetentionRunResponse* response) {
  return OnPool(context, [this, request, response] { return runner_->Run(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::Log(grpc::CallbackServerContext* context,
                                                    const v1::RetentionLogRequest* request,
                                                    v1::RetentionLogResponse* response) {
  return OnPool(context, [this, request, response] { return runner_->Log(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::Report(grpc::CallbackServerContext* context,
                                                       const v1::RetentionReportRequest* request,
                                                       v1::RetentionReportResponse* response) {
  return OnPool(context, [this, request, response] { return runner_->Report(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::AddHold(grpc::CallbackServerContext* context,
                                                        const v1::AddHoldRequest* request,
                                                        v1::AddHoldResponse* response) {
  return OnPool(context,
                [this, request, response] { return runner_->AddHold(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::ListHolds(grpc::CallbackServerContext* context,
                                                          const v1::ListHoldsRequest* request,
                                                          v1::ListHoldsResponse* response) {
  return OnPool(context,
                [this, request, response] { return runner_->ListHolds(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::ReleaseHold(grpc::CallbackServerContext* context,
                                                            const v1::ReleaseHoldRequest* request,
                                                            v1::ReleaseHoldResponse*) {
  return OnPool(context, [this, request] { return runner_->ReleaseHold(*request); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::ListArchive(grpc::CallbackServerContext* context,
                                                            const v1::ListArchiveRequest* request,
                                                            v1::ListArchiveResponse* response) {
  return OnPool(context,
                [this, request, response] { return runner_->ListArchive(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::VerifyArchive(
    grpc::CallbackServerContext* context, const v1::VerifyArchiveRequest* request,
    v1::VerifyArchiveResponse* response) {
  return OnPool(context,
                [this, request, response] { return runner_->VerifyArchive(*request, response); });
}

grpc::ServerUnaryReactor* RetentionServiceImpl::RestoreArchive(
    grpc::CallbackServerContext* context, const v1::RestoreArchiveRequest* request,
    v1::RestoreArchiveResponse* response) {
  return OnPool(context,
                [this, request, response] { return runner_->RestoreArchive(*request, response); });
}

}  // namespace kq::server
