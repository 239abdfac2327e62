#include "tools/gen/generator.h"

#include <bit>
#include <cmath>
#include <queue>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "tools/gen/random.h"
#include "tools/gen/request.h"
#include "tools/gen/scenarios.h"

namespace kq::gen {
namespace {

// One stage of an open request, waiting for its stageTimestamp. The request is rebuilt from
// its seed when the stage is written, so an open request costs these few bytes only.
struct Pending {
  TimeMicros time;
  uint64_t sequence;  // tie-break: equal times come out in the order they were scheduled
  uint64_t request_seed;
  TimeMicros received;
  Scenario scenario;
  StageBit stage;
};

struct Later {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.time != b.time ? a.time > b.time : a.sequence > b.sequence;
  }
};

}  // namespace

absl::Status ValidateGenOptions(const GenOptions& options) {
  if (!(options.rate > 0) || !std::isfinite(options.rate)) {
    return absl::InvalidArgumentError(absl::StrCat("rate must be > 0, got ", options.rate));
  }
  if (options.batch_size == 0) return absl::InvalidArgumentError("batch size must be > 0");
  if (options.cluster.empty() || options.cluster.size() > 40) {
    return absl::InvalidArgumentError("cluster name must have 1 to 40 characters");
  }
  for (char c : options.cluster) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cluster name may hold only a-z, 0-9 and '-', got \"", options.cluster, "\""));
    }
  }
  return absl::OkStatus();
}

struct Generator::Impl {
  explicit Impl(const GenOptions& o)
      : options(o), cluster(o.cluster, o.seed, o.start), rng(o.seed), next_arrival(o.start) {
    double events_per_request = 0;
    uint32_t cumulative = 0;
    for (const ScenarioInfo& info : ScenarioTable()) {
      events_per_request +=
          static_cast<double>(info.weight) / kWeightTotal * std::popcount(info.stages);
      cumulative += info.weight;
      cumulative_weights.push_back(cumulative);
    }
    mean_gap_micros = events_per_request / o.rate * kMicrosPerSecond;
  }

  Scenario PickScenario() {
    const uint32_t r = static_cast<uint32_t>(rng.Below(kWeightTotal));
    size_t i = 0;
    while (cumulative_weights[i] <= r) ++i;
    return static_cast<Scenario>(i);
  }

  void StartRequest() {
    const Scenario scenario = PickScenario();
    const uint64_t request_seed = rng.Next();
    Rng request_rng(request_seed);
    cluster.Build(scenario, request_rng, next_arrival, /*bodies=*/false, &spec);
    for (StageBit stage : {kReceived, kStarted, kComplete}) {
      if (!(spec.stages & stage)) continue;
      const TimeMicros t = stage == kReceived  ? spec.received
                           : stage == kStarted ? spec.started
                                               : spec.completed;
      pending.push(Pending{t, sequence++, request_seed, spec.received, scenario, stage});
    }
    next_arrival += static_cast<TimeMicros>(rng.Exponential(mean_gap_micros)) + 1;
  }

  bool Next(std::string* out, bool type_meta) {
    if (produced >= options.events) return false;
    while (pending.empty() || pending.top().time > next_arrival) StartRequest();
    const Pending p = pending.top();
    pending.pop();
    Rng request_rng(p.request_seed);
    cluster.Build(p.scenario, request_rng, p.received, /*bodies=*/p.stage == kComplete, &spec);
    RenderEvent(spec, p.stage, type_meta, out);
    ++produced;
    return true;
  }

  GenOptions options;
  Cluster cluster;
  Rng rng;
  std::vector<uint32_t> cumulative_weights;
  double mean_gap_micros = 0;
  TimeMicros next_arrival;
  uint64_t sequence = 0;
  uint64_t produced = 0;
  std::priority_queue<Pending, std::vector<Pending>, Later> pending;
  RequestSpec spec;
};

Generator::Generator(const GenOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Generator::~Generator() = default;

bool Generator::Next(std::string* out, bool type_meta) { return impl_->Next(out, type_meta); }

uint64_t Generator::produced() const { return impl_->produced; }

absl::Status Generate(const GenOptions& options,
                      const std::function<absl::Status(std::string_view)>& sink) {
  KQ_RETURN_IF_ERROR(ValidateGenOptions(options));
  constexpr size_t kChunk = 1 << 20;
  Generator generator(options);
  std::string buffer;
  buffer.reserve(kChunk + (64 << 10));
  auto flush_if_full = [&]() -> absl::Status {
    if (buffer.size() < kChunk) return absl::OkStatus();
    absl::Status status = sink(buffer);
    buffer.clear();
    return status;
  };
  if (options.format == GenOptions::Format::kJsonLines) {
    while (generator.Next(&buffer)) {
      buffer.push_back('\n');
      KQ_RETURN_IF_ERROR(flush_if_full());
    }
  } else {
    while (generator.produced() < options.events) {
      buffer.append(
          R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)");
      for (size_t i = 0; i < options.batch_size; ++i) {
        if (i > 0) buffer.push_back(',');
        if (!generator.Next(&buffer, /*type_meta=*/false)) {
          buffer.pop_back();  // the ',' before an item that does not exist (i > 0 here)
          break;
        }
      }
      buffer.append("]}\n");
      KQ_RETURN_IF_ERROR(flush_if_full());
    }
  }
  if (!buffer.empty()) KQ_RETURN_IF_ERROR(sink(buffer));
  return absl::OkStatus();
}

}  // namespace kq::gen
