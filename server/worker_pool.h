// A fixed set of threads running submitted tasks in FIFO order, with a bounded queue. kqd runs
// everything that touches RocksDB or evaluates a query here, never on a gRPC reactor thread.
//
// Thread-safe. The destructor calls Shutdown().
#ifndef KQ_SERVER_WORKER_POOL_H_
#define KQ_SERVER_WORKER_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kq::server {

class WorkerPool {
 public:
  // `threads` >= 1; at most `max_queued` tasks wait beyond the running ones.
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (task not run) when the queue is full or the pool is shut down.
  [[nodiscard]] bool Submit(std::function<void()> task);

  // Stops accepting, runs every queued task, joins the threads. Idempotent.
  void Shutdown();

  size_t queued() const;

 private:
  void Run();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_WORKER_POOL_H_
