// QueryService.Tail: a live stream of newly stored events that match a query's filters.
//
// The stream subscribes to the TailHub, sends the schema (the signal that it is subscribed:
// every event stored after the client has the schema is seen), then evaluates the query on
// each published batch with the query engine over a MemoryReader, on its own thread (never a
// reactor thread). At most kMaxPendingEvents events wait for evaluation; beyond that they are
// skipped and the client gets a TailGap with the count. Ends on cancel, deadline or shutdown.
#ifndef KQ_SERVER_TAIL_STREAM_H_
#define KQ_SERVER_TAIL_STREAM_H_

#include <grpcpp/grpcpp.h>

#include "kq/v1/query.pb.h"
#include "server/services.h"

namespace kq::server {

inline constexpr size_t kMaxPendingEvents = 10'000;

// Validates the request (only `where` stages after the source) and starts the stream.
grpc::ServerWriteReactor<kq::v1::QueryResponse>* StartTail(const ServiceContext& ctx,
                                                           grpc::CallbackServerContext* context,
                                                           const kq::v1::TailRequest& request);

}  // namespace kq::server

#endif  // KQ_SERVER_TAIL_STREAM_H_
