// kq gen: realistic audit.k8s.io/v1 traffic of one Kubernetes cluster, deterministic by seed.
//
// The Generator simulates a cluster's clients (kubelets, control plane, controllers, operators,
// CI deployers, people with kubectl, and a small share of attackers) against an API server
// whose audit policy is described in request.h (PolicyLevel). Requests arrive at
// `rate` events per second of simulated time from `start`; each request emits the stages the
// apiserver would (RequestReceived unless the policy omits it, ResponseStarted for
// long-running requests, ResponseComplete), and events come out in stageTimestamp order, as
// the log backend writes them. The same options give byte-identical output on every run and
// platform (our own PRNG; no std:: distributions).
//
// Cost: a few hundred thousand events per second on one core; memory grows only with the
// number of requests still open (watches and exec sessions), not with `events`.
#ifndef KQ_TOOLS_GEN_GENERATOR_H_
#define KQ_TOOLS_GEN_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/clock.h"

namespace kq::gen {

// 2026-11-02T00:00:00Z, the default simulated start.
inline constexpr TimeMicros kDefaultStart = 1'793'577'600'000'000;

struct GenOptions {
  enum class Format {
    kJsonLines,  // one Event per line, with kind and apiVersion (the log backend)
    kEventList,  // one webhook EventList per line, items without kind/apiVersion
  };

  uint64_t seed = 1;
  uint64_t events = 1000;            // number of events (not requests) to produce
  TimeMicros start = kDefaultStart;  // simulated time of the first request
  double rate = 200;                 // events per second of simulated time; > 0
  std::string cluster = "demo";      // names the nodes; also seeds the cluster's cast
  Format format = Format::kJsonLines;
  size_t batch_size = 400;  // events per EventList (kEventList only); > 0
};

// Checks ranges: rate > 0 and finite, batch_size > 0, cluster a DNS label (1-40 of [a-z0-9-]).
[[nodiscard]] absl::Status ValidateGenOptions(const GenOptions& options);

// Produces events one at a time. Not thread-safe; use one per thread.
class Generator {
 public:
  // `options` must be valid (ValidateGenOptions); `format` and `batch_size` are ignored here.
  explicit Generator(const GenOptions& options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Appends the next event as one JSON object (no newline) to `out`; with `type_meta` false
  // the event has no kind/apiVersion (EventList items). Returns false, appending nothing, once
  // `options.events` events have been produced.
  bool Next(std::string* out, bool type_meta = true);

  uint64_t produced() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes all events of `options` in `options.format`, newline-terminated, to `sink` in chunks
// of about 1 MiB. Stops at and returns the first error of `sink`, or of the options.
[[nodiscard]] absl::Status Generate(const GenOptions& options,
                                    const std::function<absl::Status(std::string_view)>& sink);

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_GENERATOR_H_
