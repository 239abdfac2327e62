// Benchmarks of the audit Policy engine on the shared corpus:
//   policy_bench [--benchmark_filter=...]
// BM_Evaluate: one Evaluate() of the GCE production policy (17 rules) on a mix of requests.
// BM_ApplyToEvent: ApplyPolicy() of the website policy on real RequestResponse events (copy
//   included), as ingest would.
// BM_SimulateEventJson: one stored event through simulate (decode, apply, re-serialize).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "retention/policy.h"
#include "retention/policy_apply.h"
#include "retention/policy_simulate.h"
#include "storage/decoder.h"

namespace kq::retention {
namespace {

std::filesystem::path Corpus() {
  const char* env = std::getenv("KQ_CORPUS_DIR");
  if (env != nullptr) return env;
  return std::filesystem::path(KQ_SOURCE_DIR) / ".." / "shared" / "corpus";
}

std::vector<std::string> SampleLines() {
  std::ifstream in(Corpus() / "samples/openshift-4.12-clo-audit_in.requestresponse.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void BM_Evaluate(benchmark::State& state) {
  absl::StatusOr<Policy> policy =
      Policy::LoadFile((Corpus() / "policies/gce-configure-helper-audit-policy.yaml").string());
  if (!policy.ok()) {
    state.SkipWithError("cannot load the GCE policy");
    return;
  }
  std::vector<RequestAttributes> requests;
  for (std::string_view user : {"system:kube-proxy", "kubelet", "alice", "system:apiserver"}) {
    for (std::string_view verb : {"get", "list", "watch", "update"}) {
      for (std::string_view resource : {"pods", "secrets", "endpoints", "leases"}) {
        RequestAttributes a;
        a.user = user;
        a.groups = {"system:authenticated"};
        a.verb = verb;
        a.is_resource_request = true;
        a.resource = resource;
        a.ns = "default";
        requests.push_back(a);
      }
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->Evaluate(requests[i++ % requests.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Evaluate);

void BM_ApplyToEvent(benchmark::State& state) {
  absl::StatusOr<Policy> policy =
      Policy::LoadFile((Corpus() / "policies/k8s-website-audit-policy.yaml").string());
  std::vector<std::string> lines = SampleLines();
  if (!policy.ok() || lines.empty()) {
    state.SkipWithError("cannot load the corpus");
    return;
  }
  storage::Decoder decoder;
  std::vector<storage::Event> events(lines.size());
  int64_t bytes = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!decoder.DecodeEvent(lines[i], &events[i]).ok()) {
      state.SkipWithError("undecodable sample");
      return;
    }
    bytes += static_cast<int64_t>(lines[i].size());
  }
  size_t i = 0;
  for (auto _ : state) {
    storage::Event copy = events[i++ % events.size()];
    benchmark::DoNotOptimize(ApplyPolicy(*policy, &copy));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bytes / static_cast<int64_t>(events.size()));
}
BENCHMARK(BM_ApplyToEvent);

void BM_SimulateEventJson(benchmark::State& state) {
  absl::StatusOr<Policy> policy =
      Policy::LoadFile((Corpus() / "policies/k8s-website-audit-policy.yaml").string());
  std::vector<std::string> lines = SampleLines();
  if (!policy.ok() || lines.empty()) {
    state.SkipWithError("cannot load the corpus");
    return;
  }
  PolicySimulation sim(*policy);
  int64_t bytes = 0;
  for (const std::string& l : lines) bytes += static_cast<int64_t>(l.size());
  size_t i = 0;
  for (auto _ : state) sim.AddEventJson(lines[i++ % lines.size()]);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bytes / static_cast<int64_t>(lines.size()));
}
BENCHMARK(BM_SimulateEventJson);

}  // namespace
}  // namespace kq::retention

BENCHMARK_MAIN();
