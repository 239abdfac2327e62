#include "server/append_combiner.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace kq::server {

absl::Status AppendCombiner::Append(std::vector<storage::Event>& events,
                                    storage::AppendResult* result) {
  Request me;
  me.events = &events;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    // Lead a group when fewer than max_parallel_ groups are being stored and this batch has
    // not been taken into one yet.
    bool queued = std::find(queue_.begin(), queue_.end(), &me) != queue_.end();
    if (storing_ >= max_parallel_ || !queued) {
      done_.wait(lock);
      continue;
    }
    // The next group: everything queued, up to max_events_ (the first batch always).
    ++storing_;
    std::vector<Request*> group;
    size_t n = 0;
    while (!queue_.empty() &&
           (group.empty() || n + queue_.front()->events->size() <= max_events_)) {
      n += queue_.front()->events->size();
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    Store(group);
    lock.lock();
    for (Request* r : group) r->done = true;
    --storing_;
    done_.notify_all();
  }
  *result = me.result;
  return me.status;
}

void AppendCombiner::Store(const std::vector<Request*>& group) {
  if (group.size() == 1) {
    group[0]->status = env_->Append(*group[0]->events, &group[0]->result);
    return;
  }
  size_t n = 0;
  for (const Request* r : group) n += r->events->size();
  std::vector<storage::Event> all;
  all.reserve(n);
  for (Request* r : group) {
    std::move(r->events->begin(), r->events->end(), std::back_inserter(all));
  }
  storage::AppendResult total;
  absl::Status status = env_->Append(all, &total);
  auto from = all.begin();
  uint64_t duplicates = total.duplicates;
  for (Request* r : group) {
    std::move(from, from + static_cast<std::ptrdiff_t>(r->events->size()), r->events->begin());
    from += static_cast<std::ptrdiff_t>(r->events->size());
    r->status = status;
    uint64_t mine = std::min<uint64_t>(duplicates, r->events->size());
    duplicates -= mine;
    r->result.duplicates = mine;
    r->result.stored = r->events->size() - mine;
  }
}

}  // namespace kq::server
