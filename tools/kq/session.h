// The state shared by kq's commands and its shell: where to connect, the default
// environment, the output format, and the open backend (opened lazily, once).
#ifndef KQ_TOOLS_KQ_SESSION_H_
#define KQ_TOOLS_KQ_SESSION_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/kq/backend.h"
#include "tools/kq/output.h"

namespace kq::cli {

// Process exit codes of kq.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // query or server error
inline constexpr int kExitUsage = 2;        // bad flags or arguments
inline constexpr int kExitUnavailable = 3;  // cannot connect

// Maps a status to the exit code above (Unavailable -> 3, otherwise 1).
int ExitCodeFor(const absl::Status& status);

// The default server when neither flags nor a context say where to go (./run.sh's kqd).
inline constexpr char kDefaultServer[] = "127.0.0.1:9910";

struct Target {
  std::string data;     // embedded store directory, or
  std::string server;   // HOST:PORT of kqd
  TlsFiles tls;         // with server: TLS files (none: plain gRPC)
  std::string context;  // the context these came from, if any
  std::string env = "prod";
};

class Session {
 public:
  // Resolves --data / --server / --context (in that order of precedence), then the current
  // context of the contexts file, then kDefaultServer. TLS files given as flags override a
  // context's.
  [[nodiscard]] static absl::StatusOr<Target> Resolve(const std::string& data,
                                                      const std::string& server,
                                                      const std::string& context,
                                                      const TlsFiles& tls = {});

  explicit Session(Target target) : target_(std::move(target)) {}

  const Target& target() const { return target_; }
  // Switches to another target (shell `.context NAME`); closes the open backend.
  void Retarget(Target target);
  void set_env(std::string env) { target_.env = std::move(env); }

  // The backend, opened on first use.
  [[nodiscard]] absl::StatusOr<Backend*> backend();

 private:
  Target target_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_SESSION_H_
