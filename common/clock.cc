#include "common/clock.h"

#include <chrono>

namespace kq {
namespace {

class RealClock : public Clock {
 public:
  TimeMicros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

}  // namespace kq
