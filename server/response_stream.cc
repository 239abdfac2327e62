#include "server/response_stream.h"

#include "server/services.h"

namespace kq::server {

absl::Status ResponseStream::Push(kq::v1::QueryResponse response) {
  std::unique_lock<std::mutex> lock(mu_);
  space_.wait(lock, [this] { return cancelled_.load() || queue_.size() < max_pending_; });
  if (cancelled_.load()) return absl::CancelledError("the client cancelled the call");
  queue_.push_back(std::move(response));
  Pump(lock);
  return absl::OkStatus();
}

bool ResponseStream::TryPush(kq::v1::QueryResponse response) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_.load() || queue_.size() >= max_pending_) return false;
  queue_.push_back(std::move(response));
  Pump(lock);
  return true;
}

void ResponseStream::Close(const absl::Status& status) {
  std::unique_lock<std::mutex> lock(mu_);
  closed_ = true;
  final_ = ToGrpc(status);
  Pump(lock);
}

void ResponseStream::SetOnCancel(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  on_cancel_ = std::move(fn);
  if (cancelled_.load()) {
    auto call = on_cancel_;
    lock.unlock();
    call();
  }
}

void ResponseStream::OnWriteDone(bool ok) {
  std::unique_lock<std::mutex> lock(mu_);
  writing_ = false;
  queue_.pop_front();
  if (!ok) {
    cancelled_.store(true);
    queue_.clear();
  }
  space_.notify_all();
  Pump(lock);
}

void ResponseStream::OnCancel() {
  std::function<void()> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.store(true);
    call = on_cancel_;
  }
  space_.notify_all();
  if (call) call();
}

void ResponseStream::Pump(std::unique_lock<std::mutex>& lock) {
  if (writing_ || finished_) return;
  if (!queue_.empty() && !cancelled_.load()) {
    writing_ = true;
    const kq::v1::QueryResponse* next = &queue_.front();
    lock.unlock();
    StartWrite(next);
    return;
  }
  if (closed_) {
    finished_ = true;
    grpc::Status status =
        cancelled_.load() && final_.ok()
            ? grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the call")
            : final_;
    lock.unlock();
    Finish(status);
  }
}

}  // namespace kq::server
