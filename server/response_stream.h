// A server-streaming reactor fed from a worker thread: the producer (a query on the worker
// pool, a tail) pushes responses; the reactor writes them one at a time as the client reads.
// Push blocks the producer while `max_pending` responses are unsent (flow control), and fails
// once the client has cancelled, so cancellation reaches the producer.
//
// Lifetime: created with new; the producer calls Close(status) exactly once, as its last use
// of the object; the reactor deletes itself in OnDone after the final status is sent.
// Thread-safe between one producer and gRPC's callbacks.
#ifndef KQ_SERVER_RESPONSE_STREAM_H_
#define KQ_SERVER_RESPONSE_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "kq/v1/query.pb.h"

namespace kq::server {

class ResponseStream : public grpc::ServerWriteReactor<kq::v1::QueryResponse> {
 public:
  explicit ResponseStream(size_t max_pending = 4) : max_pending_(max_pending) {}

  // Queues a response; blocks while the queue is full. Cancelled once the client is gone.
  [[nodiscard]] absl::Status Push(kq::v1::QueryResponse response);
  // As Push, but never blocks: false (response dropped) when the queue is full.
  bool TryPush(kq::v1::QueryResponse response);
  // Ends the stream after the queued responses with `status`. Do not touch `this` after.
  void Close(const absl::Status& status);

  // Set when the client cancelled or the deadline passed; the producer polls it.
  const std::atomic<bool>* cancelled() const { return &cancelled_; }
  // Called (on a gRPC thread) when the client cancels; may be set before the producer starts.
  void SetOnCancel(std::function<void()> fn);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  // Under mu_: decides the next action; performs it after unlocking.
  void Pump(std::unique_lock<std::mutex>& lock);

  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable space_;
  std::deque<kq::v1::QueryResponse> queue_;
  bool writing_ = false;
  bool closed_ = false;
  bool finished_ = false;
  grpc::Status final_;
  std::atomic<bool> cancelled_{false};
  std::function<void()> on_cancel_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_RESPONSE_STREAM_H_
