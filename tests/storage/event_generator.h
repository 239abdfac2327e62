// Random audit events for property tests: every optional field randomly present, absent or
// empty, odd strings, times from 1969 to 2100, bodies, unknown fields. Deterministic per seed.
// Not thread-safe.
#ifndef KQ_TESTS_STORAGE_EVENT_GENERATOR_H_
#define KQ_TESTS_STORAGE_EVENT_GENERATOR_H_

#include <cstdint>
#include <random>

#include "storage/event.h"

namespace kq::testing {

class EventGenerator {
 public:
  explicit EventGenerator(uint64_t seed);
  storage::Event Next();

 private:
  std::mt19937_64 rng_;
};

}  // namespace kq::testing

#endif  // KQ_TESTS_STORAGE_EVENT_GENERATOR_H_
