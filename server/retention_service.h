// kq.v1 RetentionService on the gRPC callback API: every call runs on the query worker pool
// (ledger files, store scans and archive I/O never run on a reactor thread) and is answered by
// the RetentionRunner, as `kq --data DIR` is.
//
// Borrows the runner and the pool, which must outlive the grpc::Server it is registered with.
// Thread-safe.
#ifndef KQ_SERVER_RETENTION_SERVICE_H_
#define KQ_SERVER_RETENTION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "kq/v1/retention.grpc.pb.h"
#include "server/retention_runner.h"
#include "server/worker_pool.h"

namespace kq::server {

class RetentionServiceImpl : public kq::v1::RetentionService::CallbackService {
 public:
  RetentionServiceImpl(RetentionRunner* runner, WorkerPool* pool) : runner_(runner), pool_(pool) {}

  grpc::ServerUnaryReactor* Plan(grpc::CallbackServerContext* context,
                                 const v1::RetentionPlanRequest* request,
                                 v1::RetentionPlanResponse* response) override;
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                const v1::RetentionRunRequest* request,
                                v1::RetentionRunResponse* response) override;
  grpc::ServerUnaryReactor* Log(grpc::CallbackServerContext* context,
                                const v1::RetentionLogRequest* request,
                                v1::RetentionLogResponse* response) override;
  grpc::ServerUnaryReactor* Report(grpc::CallbackServerContext* context,
                                   const v1::RetentionReportRequest* request,
                                   v1::RetentionReportResponse* response) override;
  grpc::ServerUnaryReactor* AddHold(grpc::CallbackServerContext* context,
                                    const v1::AddHoldRequest* request,
                                    v1::AddHoldResponse* response) override;
  grpc::ServerUnaryReactor* ListHolds(grpc::CallbackServerContext* context,
                                      const v1::ListHoldsRequest* request,
                                      v1::ListHoldsResponse* response) override;
  grpc::ServerUnaryReactor* ReleaseHold(grpc::CallbackServerContext* context,
                                        const v1::ReleaseHoldRequest* request,
                                        v1::ReleaseHoldResponse* response) override;
  grpc::ServerUnaryReactor* ListArchive(grpc::CallbackServerContext* context,
                                        const v1::ListArchiveRequest* request,
                                        v1::ListArchiveResponse* response) override;
  grpc::ServerUnaryReactor* VerifyArchive(grpc::CallbackServerContext* context,
                                          const v1::VerifyArchiveRequest* request,
                                          v1::VerifyArchiveResponse* response) override;
  grpc::ServerUnaryReactor* RestoreArchive(grpc::CallbackServerContext* context,
                                           const v1::RestoreArchiveRequest* request,
                                           v1::RestoreArchiveResponse* response) override;

 private:
  template <typename Fn>
  grpc::ServerUnaryReactor* OnPool(grpc::CallbackServerContext* context, Fn fn);

  RetentionRunner* runner_;
  WorkerPool* pool_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_RETENTION_SERVICE_H_
