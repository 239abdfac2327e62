// Fan-out of freshly stored events to live Tail streams. The ingest pipeline publishes every
// batch after it is durable; each subscriber copies what it needs and returns at once.
//
// Thread-safe. Listeners run on the publishing (ingest) thread and must not block.
#ifndef KQ_SERVER_TAIL_HUB_H_
#define KQ_SERVER_TAIL_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <span>
#include <string_view>

#include "storage/event.h"

namespace kq::server {

class TailHub {
 public:
  using Listener = std::function<void(std::string_view env, std::span<const storage::Event>)>;

  // Returns an id for Unsubscribe. The listener may be called until Unsubscribe returns.
  uint64_t Subscribe(Listener listener);
  void Unsubscribe(uint64_t id);
  void Publish(std::string_view env, std::span<const storage::Event> events);
  bool empty() const;

 private:
  mutable std::shared_mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Listener> listeners_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_TAIL_HUB_H_
