// Inputs shared by the micro-benchmarks: kq gen default traffic (seed 1) as JSON lines and as
// decoded Events, made once per process before any timing.
#ifndef KQ_TOOLS_BENCH_MICRO_MICRO_CORPUS_H_
#define KQ_TOOLS_BENCH_MICRO_MICRO_CORPUS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "storage/event.h"

namespace kq::bench {

struct MicroCorpus {
  std::vector<std::string> lines;      // one event JSON per element, no newline
  std::vector<storage::Event> events;  // lines[i] decoded
  size_t json_bytes = 0;               // sum of lines[i].size()
};

// The first `events` events of `kq gen --seed 1`. Aborts if the generator or decoder fails,
// which would make every figure meaningless. Not thread-safe; call from the main thread.
const MicroCorpus& GetMicroCorpus(size_t events);

}  // namespace kq::bench

#endif  // KQ_TOOLS_BENCH_MICRO_MICRO_CORPUS_H_
