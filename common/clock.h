// Clock: the one way code asks for the current time, so tests can move time by months.
//
// Time in kq is UTC microseconds since the Unix epoch (TimeMicros). Every component that needs
// "now" takes a Clock* (not owned; must outlive the component).
#ifndef KQ_COMMON_CLOCK_H_
#define KQ_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace kq {

// Microseconds since 1970-01-01T00:00:00Z.
using TimeMicros = int64_t;

inline constexpr TimeMicros kMicrosPerSecond = 1'000'000;
inline constexpr TimeMicros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr TimeMicros kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr TimeMicros kMicrosPerDay = 24 * kMicrosPerHour;

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMicros Now() const = 0;

  // The process-wide wall clock. Never null, never destroyed.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimeMicros start) : now_(start) {}
  TimeMicros Now() const override { return now_.load(std::memory_order_relaxed); }
  void Set(TimeMicros t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(TimeMicros d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<TimeMicros> now_;
};

}  // namespace kq

#endif  // KQ_COMMON_CLOCK_H_
