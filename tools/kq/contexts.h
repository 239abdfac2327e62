// Named connection contexts, like kubectl's: a file under ~/.config/kq/ (or $KQ_CONFIG) that
// maps a name to a server address or data directory, a default environment and TLS files.
//
// File format (YAML):
//   current-context: prod
//   contexts:
//     - name: prod
//       server: kq.example.internal:9910
//       env: prod
//       tls-ca: /etc/kq/ca.pem
//     - name: laptop
//       data: /home/me/kq-data
//       env: dev
#ifndef KQ_TOOLS_KQ_CONTEXTS_H_
#define KQ_TOOLS_KQ_CONTEXTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kq::cli {

struct Context {
  std::string name;
  std::string server;  // HOST:PORT; exclusive with data
  std::string data;    // data directory for embedded mode
  std::string env;     // default environment; empty = "prod"
  std::string tls_ca, tls_cert, tls_key;
};

struct ContextConfig {
  std::string current;
  std::vector<Context> contexts;

  const Context* Find(const std::string& name) const;
};

// $KQ_CONFIG, else $XDG_CONFIG_HOME/kq/config.yaml, else ~/.config/kq/config.yaml.
std::string ContextConfigPath();

// A missing file is an empty config; a malformed one is InvalidArgument naming file and line.
[[nodiscard]] absl::StatusOr<ContextConfig> LoadContexts(const std::string& path);
// Writes atomically (temporary file + rename), creating the directory.
[[nodiscard]] absl::Status SaveContexts(const std::string& path, const ContextConfig& config);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_CONTEXTS_H_
