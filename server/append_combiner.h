// Group append for the ingest pipeline: batches that reach one environment at the same time
// (15 webhook senders, tail parts, gRPC streams) are stored with ONE Environment::Append, the
// way RocksDB groups concurrent writes: the first caller stores what is queued, the others
// wait for it; whoever arrives meanwhile goes into the next group. The store then encodes one
// segment per (hour, namespace) for the whole group instead of one per batch (fewer, larger
// segments: less encoding, compression and merging per event) and pays one WAL write and sync.
// A caller alone pays nothing extra: its group is just its own batch. Up to `max_parallel`
// groups are stored at once, so that the store's encoding runs on every core.
//
// Thread-safe. Borrows the environment, which must outlive the combiner.
#ifndef KQ_SERVER_APPEND_COMBINER_H_
#define KQ_SERVER_APPEND_COMBINER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "storage/event.h"
#include "storage/store.h"

namespace kq::server {

class AppendCombiner {
 public:
  // Groups hold at most `max_events` events (a single larger batch is stored alone); at most
  // `max_parallel` groups are stored at once (one Append runs on one thread: more than one lets
  // every core encode).
  explicit AppendCombiner(storage::Environment* env, int max_parallel = 2,
                          size_t max_events = 32768)
      : env_(env), max_parallel_(max_parallel), max_events_(max_events) {}

  // Stores `events` (perhaps with other callers' batches) and returns once they are durable
  // under the store's durability, with the store's status for the whole group. `events` is
  // moved from and back while stored: it holds the same events again on return. *result is
  // this batch's share of the group's counts: stored + duplicates == events.size(). The totals
  // of a group are exact; which batch of a group the store's skipped duplicates belonged to is
  // not known, so they are counted against the group's batches in arrival order.
  [[nodiscard]] absl::Status Append(std::vector<storage::Event>& events,
                                    storage::AppendResult* result);

 private:
  struct Request {
    std::vector<storage::Event>* events = nullptr;
    storage::AppendResult result;
    absl::Status status;
    bool done = false;
  };
  void Store(const std::vector<Request*>& group);

  storage::Environment* env_;
  const int max_parallel_;
  const size_t max_events_;
  std::mutex mu_;
  std::condition_variable done_;
  std::deque<Request*> queue_;  // waiting for a group
  int storing_ = 0;             // groups being stored
};

}  // namespace kq::server

#endif  // KQ_SERVER_APPEND_COMBINER_H_
