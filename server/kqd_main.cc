// kqd: the kq server. See `kqd --help` and docs/operations.md.
//
// Prints "kqd ready grpc=HOST:PORT http=HOST:PORT" on stderr once both listeners accept
// connections (with the ports actually bound, also when 0 asked for ephemeral ones). SIGTERM
// or SIGINT drains: stop accepting, finish acknowledged work, flush, exit 0.
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "server/config.h"
#include "server/server.h"

#ifndef KQ_VERSION
#define KQ_VERSION "0.0.0"
#endif

namespace {

// glibc gives threads that allocate at the same time their own arenas, up to 8 per core, and
// an arena keeps what its threads freed. kqd's 70-odd threads (HTTP listener, ingest, gRPC,
// RocksDB) spread over many arenas: under 15 webhook senders kqd peaked at 475 to 499 MiB, and
// at 370 to 409 MiB with 2 arenas per core, for 2 % fewer events/s (docs/benchmarks.md,
// "Webhook memory"). MALLOC_ARENA_MAX or an arena_max in GLIBC_TUNABLES take precedence.
void LimitMallocArenas() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr ||
      (tunables != nullptr && std::strstr(tunables, "arena_max") != nullptr)) {
    return;
  }
  mallopt(M_ARENA_MAX, static_cast<int>(2 * std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace

int main(int argc, char** argv) {
  LimitMallocArenas();
  absl::StatusOr<kq::server::ParsedArgs> args = kq::server::ParseArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "kqd: %s\n", std::string(args.status().message()).c_str());
    return 2;
  }
  if (args->help) {
    std::fputs(kq::server::HelpText().c_str(), stdout);
    return 0;
  }
  if (args->version) {
    std::printf("kqd %s (api kq.v1)\n", KQ_VERSION);
    return 0;
  }
  if (args->print_config) {
    std::fputs(kq::server::PrintConfig(args->config).c_str(), stdout);
    return 0;
  }
  const kq::server::ServerConfig& config = args->config;
  kq::log::SetFormat(config.log_format == "json" ? kq::log::Format::kJson : kq::log::Format::kText);
  kq::log::Level level = kq::log::Level::kInfo;
  if (config.log_level == "debug") level = kq::log::Level::kDebug;
  if (config.log_level == "warning") level = kq::log::Level::kWarning;
  if (config.log_level == "error") level = kq::log::Level::kError;
  kq::log::SetMinLevel(level);

  // Every thread started from here on inherits the blocked signals; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<kq::server::Server>> server = kq::server::Server::Start(config);
  if (!server.ok()) {
    kq::log::Error("kqd cannot start: ", server.status().ToString());
    return 1;
  }
  kq::log::Info("kqd ", KQ_VERSION, " serving data=", config.data_dir,
                config.config_file.empty() ? "" : " config=", config.config_file);
  std::fprintf(stderr, "kqd ready grpc=%s http=%s\n", (*server)->grpc_address().c_str(),
               (*server)->http_address().c_str());
  std::fflush(stderr);

  int sig = 0;
  sigwait(&signals, &sig);
  kq::log::Info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ", draining");
  absl::Status drained = (*server)->Drain();
  server->reset();
  if (!drained.ok()) {
    kq::log::Error("drain failed: ", drained.ToString());
    return 1;
  }
  return 0;
}
