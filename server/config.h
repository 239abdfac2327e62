// kqd's configuration and the ONE table of options that drives the YAML config file, the
// command-line flags, `kqd --help` and `kqd --print-config`.
//
// Precedence: built-in defaults < the config file (--config FILE) < flags. Every value is
// checked against its option's range; a bad value is refused with the file, the key and the
// reason ("kqd.yaml:4:15: queue-depth: must be between 1 and 100000, got 0").
//
// Plain value types; not thread-safe while being built, read-only afterwards.
#ifndef KQ_SERVER_CONFIG_H_
#define KQ_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "retention/tiers.h"
#include "storage/store.h"

namespace kq::server {

// A set of audit log files kqd follows (the apiserver's --audit-log-path), attributed to one
// environment and cluster.
struct TailSource {
  std::string env;
  std::string cluster;
  std::string glob;  // e.g. /var/log/kubernetes/audit/audit*.log
  bool operator==(const TailSource&) const = default;
};

// An audit Policy applied at ingest to one scope: an environment, optionally narrowed to one
// source kind and/or one cluster. The most specific scope of a batch wins (see
// server/ingest_policies.h); it overrides the global `audit-policy`.
struct PolicyScope {
  std::string env;
  std::string source;   // "" = every source; else webhook | tail | grpc | import
  std::string cluster;  // "" = every cluster
  std::string file;     // the Policy file; "" = no policy: keep everything in this scope
  std::string origin;   // where it was set, for errors: "kqd.yaml:12:5" or "--audit-policies"
  bool operator==(const PolicyScope& o) const {
    return env == o.env && source == o.source && cluster == o.cluster && file == o.file;
  }
};

// The source kinds a PolicyScope may name (the `source` label of ingest metrics).
inline constexpr std::string_view kPolicySources[] = {"webhook", "tail", "grpc", "import"};

struct ServerConfig {
  std::string config_file;  // the file read, "" when none
  std::string data_dir = "./kq-data";
  std::string grpc_listen = "127.0.0.1:9910";
  std::string http_listen = "127.0.0.1:9911";
  uint64_t memory_budget = 256ull << 20;  // bytes
  std::string log_format = "text";        // text | json
  std::string log_level = "info";         // debug | info | warning | error
  std::string durability = "sync";        // sync | buffered
  std::string rocksdb_log = "warnings";   // warnings | file
  std::vector<storage::EnvironmentOptions> environments = {{"prod", ""}, {"dev", ""}};
  uint64_t webhook_body_limit = 64ull << 20;  // bytes
  uint64_t queue_depth = 64;                  // ingest batches admitted at once
  uint64_t query_workers = 4;                 // threads running queries and admin calls
  uint64_t max_rows = 1'000'000;              // default QueryRequest.max_rows
  std::string tls_cert;            // PEM server certificate for the HTTP listener; "" = plain HTTP
  std::string tls_key;             // PEM private key of tls_cert
  std::string tls_client_ca;       // PEM CA bundle; when set, clients must present a certificate
  std::string grpc_tls_cert;       // PEM server certificate for the gRPC listener; "" = plain
  std::string grpc_tls_key;        // PEM private key of grpc_tls_cert
  std::string grpc_tls_client_ca;  // PEM CA bundle; when set, gRPC clients need a certificate
  std::vector<TailSource> tail_sources;
  std::string audit_policy;  // audit.k8s.io/v1 Policy applied at ingest by default; "" = keep all
  std::vector<PolicyScope> audit_policies;  // per environment / source / cluster overrides
  std::string tail_checkpoint;              // "" = <data>/tail-checkpoint
  // Retention tiers per environment (the `retention:` section); prod and dev have defaults.
  retention::RetentionConfig retention = retention::RetentionConfig::Defaults();
  std::string archive_root;                        // "" = <data>/archive
  TimeMicros retention_interval = kMicrosPerHour;  // time between scheduled retention runs
};

// One row of the option table.
struct OptionInfo {
  std::string_view name;         // flag --name and YAML key name
  std::string_view value_name;   // e.g. "HOST:PORT", "SIZE"
  std::string_view range;        // allowed values, for --help
  std::string_view description;  // unit, default, cost
  bool repeated = false;         // a list (flag may repeat; YAML sequence)
};

// The options, in --help order.
const std::vector<OptionInfo>& Options();

// The outcome of parsing the command line.
struct ParsedArgs {
  ServerConfig config;
  bool help = false;          // --help / -h
  bool print_config = false;  // --print-config
  bool version = false;       // --version
};

// Parses argv (argv[0] is skipped): reads --config FILE first, then applies the other flags
// over it. `--name value` and `--name=value` are both accepted. Unknown flags, missing values
// and out-of-range values are InvalidArgument naming the flag.
[[nodiscard]] absl::StatusOr<ParsedArgs> ParseArgs(int argc, const char* const* argv);

// Applies a YAML document (the config file's text) over *config. `source` names the file in
// errors. Unknown keys are refused, with the list of known ones.
[[nodiscard]] absl::Status ApplyYaml(std::string_view text, std::string_view source,
                                     ServerConfig* config);

// Checks cross-option rules (TLS key without cert, duplicate environments, tail sources naming
// unknown environments, ...).
[[nodiscard]] absl::Status Validate(const ServerConfig& config);

// `kqd --help`: usage and one paragraph per option, from the table.
std::string HelpText();
// `kqd --print-config`: the effective configuration as YAML that ApplyYaml reads back.
std::string PrintConfig(const ServerConfig& config);

// Parses a size: plain bytes or with a KiB/MiB/GiB (or K/M/G, KB/MB/GB as powers of 1024)
// suffix: "256MiB", "1G", "4096".
[[nodiscard]] absl::StatusOr<uint64_t> ParseSize(std::string_view text);
std::string FormatSize(uint64_t bytes);

}  // namespace kq::server

#endif  // KQ_SERVER_CONFIG_H_
