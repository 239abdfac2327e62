#include "tools/gen/gen_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "tools/gen/generator.h"

namespace kq {
namespace {

struct GenFlags {
  gen::GenOptions options;
  std::string start = "2026-11-02T00:00:00Z";
  std::string format = "jsonl";
  std::string output;
};

[[nodiscard]] absl::StatusOr<TimeMicros> ResolveStart(std::string_view text) {
  if (text.substr(0, 3) != "now") return ParseTimestamp(text);
  const TimeMicros now = Clock::Real()->Now();
  if (text == "now") return now;
  if (text[3] != '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("--start: expected now-DURATION, got \"", Sv(text), "\""));
  }
  KQ_ASSIGN_OR_RETURN(TimeMicros ago, ParseDuration(text.substr(4)));
  return now - ago;
}

[[nodiscard]] absl::Status RunGen(GenFlags& flags) {
  KQ_ASSIGN_OR_RETURN(flags.options.start, ResolveStart(flags.start));
  flags.options.format = flags.format == "eventlist" ? gen::GenOptions::Format::kEventList
                                                     : gen::GenOptions::Format::kJsonLines;
  KQ_RETURN_IF_ERROR(gen::ValidateGenOptions(flags.options));
  std::FILE* out = stdout;
  if (!flags.output.empty()) {
    out = std::fopen(flags.output.c_str(), "wb");
    if (out == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot open ", flags.output, ": ", std::strerror(errno)));
    }
  }
  absl::Status status = gen::Generate(flags.options, [out](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
      return absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  });
  const int close_result = out == stdout ? std::fflush(out) : std::fclose(out);
  if (status.ok() && close_result != 0) {
    status = absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(errno)));
  }
  return status;
}

}  // namespace

void AddGenCommand(CLI::App& app) {
  auto flags = std::make_shared<GenFlags>();
  CLI::App* cmd = app.add_subcommand(
      "gen", "Generate realistic Kubernetes audit events (audit.k8s.io/v1), deterministic by seed");
  cmd->add_option("--seed", flags->options.seed, "Random seed; same flags, same bytes")
      ->capture_default_str();
  cmd->add_option("--events", flags->options.events, "Number of events to write")
      ->capture_default_str();
  cmd->add_option("--start", flags->start,
                  "Simulated time of the first request: RFC 3339, now, or now-DURATION")
      ->capture_default_str();
  cmd->add_option("--rate", flags->options.rate, "Events per second of simulated time (> 0)")
      ->capture_default_str();
  cmd->add_option("--cluster", flags->options.cluster, "Cluster name (names nodes, seeds cast)")
      ->capture_default_str();
  cmd->add_option("--format", flags->format,
                  "jsonl: one Event per line; eventlist: one webhook EventList per line")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsonl", "eventlist"}));
  cmd->add_option("--batch-size", flags->options.batch_size, "Events per EventList (> 0)")
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "Write to FILE instead of stdout");
  cmd->callback([flags] {
    if (absl::Status status = RunGen(*flags); !status.ok()) {
      std::fprintf(stderr, "kq gen: %s\n", std::string(StdSv(status.message())).c_str());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace kq
