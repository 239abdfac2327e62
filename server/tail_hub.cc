#include "server/tail_hub.h"

#include <mutex>

namespace kq::server {

uint64_t TailHub::Subscribe(Listener listener) {
  std::unique_lock lock(mu_);
  uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void TailHub::Unsubscribe(uint64_t id) {
  std::unique_lock lock(mu_);
  listeners_.erase(id);
}

void TailHub::Publish(std::string_view env, std::span<const storage::Event> events) {
  std::shared_lock lock(mu_);
  for (const auto& [id, fn] : listeners_) fn(env, events);
}

bool TailHub::empty() const {
  std::shared_lock lock(mu_);
  return listeners_.empty();
}

}  // namespace kq::server
