#include "server/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/yaml.h"
#include "server/retention_config.h"

namespace kq::server {
namespace {

using Setter = std::function<absl::Status(ServerConfig*, std::string_view)>;
using Printer = std::function<std::string(const ServerConfig&)>;
using YamlSetter = std::function<absl::Status(ServerConfig*, const yaml::Node&)>;

// One row of the table: what it is (OptionInfo), how a text value sets it, how a YAML node sets
// it (lists only; scalars go through `set`), how it prints, and how a list is emptied.
struct Option {
  OptionInfo info;
  Setter set;
  Printer print;
  YamlSetter set_yaml = nullptr;
  std::function<void(ServerConfig*)> clear = nullptr;
};

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(Sv(what)); }

Setter SetString(std::string ServerConfig::*field, bool allow_empty) {
  return [field, allow_empty](ServerConfig* c, std::string_view v) -> absl::Status {
    if (!allow_empty && v.empty()) return Bad("must not be empty");
    c->*field = std::string(v);
    return absl::OkStatus();
  };
}

Setter SetEnum(std::string ServerConfig::*field, std::vector<std::string> allowed) {
  return [field, allowed](ServerConfig* c, std::string_view v) -> absl::Status {
    for (const auto& a : allowed) {
      if (a == v) {
        c->*field = a;
        return absl::OkStatus();
      }
    }
    return Bad(
        absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "), "; got \"", Sv(v), "\""));
  };
}

Setter SetListen(std::string ServerConfig::*field) {
  return [field](ServerConfig* c, std::string_view v) -> absl::Status {
    size_t colon = v.rfind(':');
    uint32_t port = 0;
    if (colon == std::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(Sv(v.substr(colon + 1)), &port) || port > 65535) {
      return Bad(absl::StrCat(
          "expected HOST:PORT with a port 0-65535 (0 picks a free port), got \"", Sv(v), "\""));
    }
    c->*field = std::string(v);
    return absl::OkStatus();
  };
}

Setter SetUint(uint64_t ServerConfig::*field, uint64_t lo, uint64_t hi, bool size) {
  return [=](ServerConfig* c, std::string_view v) -> absl::Status {
    uint64_t n = 0;
    if (size) {
      KQ_ASSIGN_OR_RETURN(n, ParseSize(v));
    } else if (!absl::SimpleAtoi(Sv(v), &n)) {
      return Bad(absl::StrCat("expected a whole number, got \"", Sv(v), "\""));
    }
    if (n < lo || n > hi) {
      return Bad(size ? absl::StrCat("must be between ", FormatSize(lo), " and ", FormatSize(hi),
                                     ", got ", Sv(v))
                      : absl::StrCat("must be between ", lo, " and ", hi, ", got ", n));
    }
    c->*field = n;
    return absl::OkStatus();
  };
}

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    bool ok =
        (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && (ch == '-' || ch == '_'));
    if (!ok) return false;
  }
  return true;
}

absl::Status AddEnvironment(ServerConfig* c, std::string_view name, std::string_view dir) {
  if (!ValidName(name)) {
    return Bad(absl::StrCat("environment name \"", Sv(name),
                            "\" must match [a-z0-9][a-z0-9_-]* (at most 63 characters)"));
  }
  c->environments.push_back({std::string(name), std::string(dir)});
  return absl::OkStatus();
}

absl::Status AddTail(ServerConfig* c, std::string_view env, std::string_view cluster,
                     std::string_view glob) {
  if (!ValidName(env)) return Bad(absl::StrCat("tail env \"", Sv(env), "\" is not a valid name"));
  if (glob.empty()) return Bad("tail glob must not be empty");
  c->tail_sources.push_back({std::string(env), std::string(cluster), std::string(glob)});
  return absl::OkStatus();
}

absl::Status AddPolicyScope(ServerConfig* c, PolicyScope scope) {
  if (!ValidName(scope.env)) {
    return Bad(absl::StrCat("env \"", scope.env, "\" is not a valid name"));
  }
  if (!scope.source.empty() && std::find(std::begin(kPolicySources), std::end(kPolicySources),
                                         scope.source) == std::end(kPolicySources)) {
    return Bad(
        absl::StrCat("source \"", scope.source, "\" is not one of webhook, tail, grpc, import"));
  }
  c->audit_policies.push_back(std::move(scope));
  return absl::OkStatus();
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

const std::vector<Option>& Table() {
  static const auto* table = new std::vector<Option>{
      {{"data", "DIR", "a directory",
        "Data directory; each environment lives in <data>/<name> unless it names its own dir. "
        "Default ./kq-data."},
       SetString(&ServerConfig::data_dir, false),
       [](const ServerConfig& c) { return Quote(c.data_dir); }},
      {{"grpc-listen", "HOST:PORT", "port 0-65535; 0 = ephemeral",
        "gRPC API address (query, ingest, admin). Default 127.0.0.1:9910."},
       SetListen(&ServerConfig::grpc_listen),
       [](const ServerConfig& c) { return Quote(c.grpc_listen); }},
      {{"http-listen", "HOST:PORT", "port 0-65535; 0 = ephemeral",
        "HTTP address for the audit webhook (POST /ingest/<env>/<cluster>), /metrics, /healthz "
        "and /readyz. Default 127.0.0.1:9911."},
       SetListen(&ServerConfig::http_listen),
       [](const ServerConfig& c) { return Quote(c.http_listen); }},
      {{"memory-budget", "SIZE", "16MiB - 1TiB",
        "Block cache plus memtables of all environments together. Unit: bytes (KiB/MiB/GiB "
        "suffixes). Default 256MiB. More memory keeps more recent segments cached."},
       SetUint(&ServerConfig::memory_budget, 16ull << 20, 1ull << 40, true),
       [](const ServerConfig& c) { return FormatSize(c.memory_budget); }},
      {{"log-format", "FORMAT", "text | json", "Log lines on stderr. Default text."},
       SetEnum(&ServerConfig::log_format, {"text", "json"}),
       [](const ServerConfig& c) { return c.log_format; }},
      {{"log-level", "LEVEL", "debug | info | warning | error",
        "Least severe level logged. "
        "Default info."},
       SetEnum(&ServerConfig::log_level, {"debug", "info", "warning", "error"}),
       [](const ServerConfig& c) { return c.log_level; }},
      {{"durability", "MODE", "sync | buffered",
        "sync: acknowledge ingest after the WAL is fsynced (group commit shares syncs). "
        "buffered: after the WAL write; a machine crash may lose the last writes. Default sync."},
       SetEnum(&ServerConfig::durability, {"sync", "buffered"}),
       [](const ServerConfig& c) { return c.durability; }},
      {{"rocksdb-log", "MODE", "warnings | file",
        "warnings: RocksDB's warnings and errors go to kqd's log. file: RocksDB also writes its "
        "own LOG in each environment directory (flushes, compactions, stats every 10 minutes; "
        "up to about 12 MiB), for investigating write stalls. Default warnings."},
       SetEnum(&ServerConfig::rocksdb_log, {"warnings", "file"}),
       [](const ServerConfig& c) { return c.rocksdb_log; }},
      {{"environment", "NAME[=DIR]", "name [a-z0-9][a-z0-9_-]*",
        "An environment with its own store (own directory, WAL and lock). Repeat for several; "
        "the first use replaces the defaults prod and dev. YAML: environments: [{name, dir}].",
        true},
       [](ServerConfig* c, std::string_view v) {
         size_t eq = v.find('=');
         return AddEnvironment(c, v.substr(0, eq),
                               eq == std::string_view::npos ? "" : v.substr(eq + 1));
       },
       [](const ServerConfig& c) {
         std::string out;
         for (const auto& e : c.environments) {
           absl::StrAppend(&out, "\n  - name: ", e.name);
           if (!e.dir.empty()) absl::StrAppend(&out, "\n    dir: ", Quote(e.dir));
         }
         return out.empty() ? std::string("[]") : out;
       },
       [](ServerConfig* c, const yaml::Node& n) -> absl::Status {
         KQ_RETURN_IF_ERROR(n.ExpectMap({"name", "dir"}));
         const yaml::Node* name = n.Find("name");
         if (name == nullptr) return n.Error("missing \"name\"");
         KQ_ASSIGN_OR_RETURN(std::string name_text, name->String());
         std::string dir_text;
         if (const yaml::Node* dir = n.Find("dir"); dir != nullptr) {
           KQ_ASSIGN_OR_RETURN(dir_text, dir->String());
         }
         absl::Status s = AddEnvironment(c, name_text, dir_text);
         return s.ok() ? s : name->Error(StdSv(s.message()));
       },
       [](ServerConfig* c) { c->environments.clear(); }},
      {{"webhook-body-limit", "SIZE", "1KiB - 1GiB",
        "Largest accepted webhook request body; larger ones get 413. Unit: bytes. Default "
        "64MiB (a 400-event batch of large RequestResponse events can reach tens of MiB)."},
       SetUint(&ServerConfig::webhook_body_limit, 1ull << 10, 1ull << 30, true),
       [](const ServerConfig& c) { return FormatSize(c.webhook_body_limit); }},
      {{"queue-depth", "N", "1 - 100000",
        "Ingest batches (webhook POSTs, gRPC Ingest messages) admitted at once; beyond it the "
        "webhook answers 429 with Retry-After and gRPC RESOURCE_EXHAUSTED. Default 64. Memory "
        "cost: up to N batch bodies held at once."},
       SetUint(&ServerConfig::queue_depth, 1, 100000, false),
       [](const ServerConfig& c) { return absl::StrCat(c.queue_depth); }},
      {{"query-workers", "N", "1 - 256",
        "Threads running queries, explains and admin calls (never gRPC reactor threads). "
        "Default 4."},
       SetUint(&ServerConfig::query_workers, 1, 256, false),
       [](const ServerConfig& c) { return absl::StrCat(c.query_workers); }},
      {{"max-rows", "N", "1 - 1000000000",
        "Most rows one query may return unless the request asks for fewer. Default 1000000."},
       SetUint(&ServerConfig::max_rows, 1, 1'000'000'000, false),
       [](const ServerConfig& c) { return absl::StrCat(c.max_rows); }},
      {{"tls-cert", "FILE", "a PEM file",
        "Server certificate for the HTTP listener (webhook); with tls-key, serves HTTPS. "
        "Default none (plain HTTP)."},
       SetString(&ServerConfig::tls_cert, true),
       [](const ServerConfig& c) { return Quote(c.tls_cert); }},
      {{"tls-key", "FILE", "a PEM file", "Private key of tls-cert. Default none."},
       SetString(&ServerConfig::tls_key, true),
       [](const ServerConfig& c) { return Quote(c.tls_key); }},
      {{"tls-client-ca", "FILE", "a PEM file",
        "CA bundle; when set, HTTPS clients must present a certificate signed by it (the "
        "apiserver's client-certificate in its webhook kubeconfig). Default none."},
       SetString(&ServerConfig::tls_client_ca, true),
       [](const ServerConfig& c) { return Quote(c.tls_client_ca); }},
      {{"grpc-tls-cert", "FILE", "a PEM file",
        "Server certificate for the gRPC listener; with grpc-tls-key, serves gRPC over TLS. "
        "Default none (plain gRPC: keep the listener on a trusted network)."},
       SetString(&ServerConfig::grpc_tls_cert, true),
       [](const ServerConfig& c) { return Quote(c.grpc_tls_cert); }},
      {{"grpc-tls-key", "FILE", "a PEM file", "Private key of grpc-tls-cert. Default none."},
       SetString(&ServerConfig::grpc_tls_key, true),
       [](const ServerConfig& c) { return Quote(c.grpc_tls_key); }},
      {{"grpc-tls-client-ca", "FILE", "a PEM file",
        "CA bundle; when set, gRPC clients (kq) must present a certificate signed by it. "
        "Default none."},
       SetString(&ServerConfig::grpc_tls_client_ca, true),
       [](const ServerConfig& c) { return Quote(c.grpc_tls_client_ca); }},
      {{"tail", "ENV/CLUSTER=GLOB", "env must be configured",
        "Audit log files to follow (--audit-log-path of an apiserver), through rotation. "
        "Repeat for several. YAML: tail: [{env, cluster, glob}].",
        true},
       [](ServerConfig* c, std::string_view v) -> absl::Status {
         size_t slash = v.find('/');
         size_t eq = v.find('=');
         if (slash == std::string_view::npos || eq == std::string_view::npos || eq < slash) {
           return Bad(absl::StrCat("expected ENV/CLUSTER=GLOB, got \"", Sv(v), "\""));
         }
         return AddTail(c, v.substr(0, slash), v.substr(slash + 1, eq - slash - 1),
                        v.substr(eq + 1));
       },
       [](const ServerConfig& c) {
         std::string out;
         for (const auto& t : c.tail_sources) {
           absl::StrAppend(&out, "\n  - env: ", t.env, "\n    cluster: ", Quote(t.cluster),
                           "\n    glob: ", Quote(t.glob));
         }
         return out.empty() ? std::string("[]") : out;
       },
       [](ServerConfig* c, const yaml::Node& n) -> absl::Status {
         KQ_RETURN_IF_ERROR(n.ExpectMap({"env", "cluster", "glob"}));
         std::string parts[3];
         const char* keys[3] = {"env", "cluster", "glob"};
         for (int i = 0; i < 3; ++i) {
           const yaml::Node* f = n.Find(keys[i]);
           if (f == nullptr) {
             if (i == 1) continue;
             return n.Error(absl::StrCat("missing \"", keys[i], "\""));
           }
           KQ_ASSIGN_OR_RETURN(parts[i], f->String());
         }
         absl::Status s = AddTail(c, parts[0], parts[1], parts[2]);
         return s.ok() ? s : n.Error(StdSv(s.message()));
       },
       [](ServerConfig* c) { c->tail_sources.clear(); }},
      {{"audit-policy", "FILE", "an audit.k8s.io/v1 Policy YAML file",
        "Applied to every ingested event, as the apiserver would have: level None drops the "
        "event, lower levels drop bodies, omitted stages are dropped. The default of every "
        "environment and source; audit-policies overrides it per scope. Default none (keep "
        "everything as received)."},
       SetString(&ServerConfig::audit_policy, true),
       [](const ServerConfig& c) { return Quote(c.audit_policy); }},
      {{"audit-policies", "ENV[/SOURCE[/CLUSTER]]=FILE", "env must be configured",
        "An audit Policy for one environment, or one source kind (webhook, tail, grpc, import) "
        "and/or cluster of it; the most specific match of a batch wins over audit-policy. An "
        "empty FILE keeps everything in that scope. SOURCE * means any source. Repeat for "
        "several. YAML: audit-policies: [{env, source, cluster, file}]. Default none.",
        true},
       [](ServerConfig* c, std::string_view v) -> absl::Status {
         size_t eq = v.find('=');
         if (eq == std::string_view::npos) {
           return Bad(absl::StrCat("expected ENV[/SOURCE[/CLUSTER]]=FILE, got \"", Sv(v), "\""));
         }
         std::vector<std::string> parts = absl::StrSplit(Sv(v.substr(0, eq)), '/');
         if (parts.size() > 3) {
           return Bad(absl::StrCat("expected ENV[/SOURCE[/CLUSTER]]=FILE, got \"", Sv(v), "\""));
         }
         PolicyScope scope;
         scope.env = parts[0];
         if (parts.size() > 1 && parts[1] != "*") scope.source = parts[1];
         if (parts.size() > 2) scope.cluster = parts[2];
         scope.file = std::string(v.substr(eq + 1));
         scope.origin = "--audit-policies";
         return AddPolicyScope(c, std::move(scope));
       },
       [](const ServerConfig& c) {
         std::string out;
         for (const auto& p : c.audit_policies) {
           absl::StrAppend(&out, "\n  - env: ", p.env);
           if (!p.source.empty()) absl::StrAppend(&out, "\n    source: ", p.source);
           if (!p.cluster.empty()) absl::StrAppend(&out, "\n    cluster: ", Quote(p.cluster));
           absl::StrAppend(&out, "\n    file: ", Quote(p.file));
         }
         return out.empty() ? std::string("[]") : out;
       },
       [](ServerConfig* c, const yaml::Node& n) -> absl::Status {
         KQ_RETURN_IF_ERROR(n.ExpectMap({"env", "source", "cluster", "file"}));
         PolicyScope scope;
         std::string* fields[] = {&scope.env, &scope.source, &scope.cluster, &scope.file};
         const char* keys[] = {"env", "source", "cluster", "file"};
         for (int i = 0; i < 4; ++i) {
           const yaml::Node* f = n.Find(keys[i]);
           if (f == nullptr) {
             if (i == 0 || i == 3) return n.Error(absl::StrCat("missing \"", keys[i], "\""));
             continue;
           }
           KQ_ASSIGN_OR_RETURN(*fields[i], f->String());
         }
         scope.origin = absl::StrCat(n.source(), ":", n.line(), ":", n.column());
         absl::Status s = AddPolicyScope(c, std::move(scope));
         return s.ok() ? s : n.Error(StdSv(s.message()));
       },
       [](ServerConfig* c) { c->audit_policies.clear(); }},
      {{"tail-checkpoint", "FILE", "a path",
        "Where file-tail positions are persisted. Default <data>/tail-checkpoint."},
       SetString(&ServerConfig::tail_checkpoint, true),
       [](const ServerConfig& c) { return Quote(c.tail_checkpoint); }},
      {{"retention", "FILE", "a map of environment to tiers (docs/retention.md)",
        "Retention tiers per environment: hot (full), warm (bodies dropped), archive (files), "
        "then deleted; overrides per namespace and level. In the config file, the section "
        "itself; as a flag, a YAML file holding it. Default prod {hot: 7d, warm: 90d, archive: "
        "400d}, dev {hot: 1d, warm: 7d, archive: none, delete: 14d}."},
       [](ServerConfig* c, std::string_view v) -> absl::Status {
         KQ_ASSIGN_OR_RETURN(c->retention, ReadRetentionFile(std::string(v)));
         return absl::OkStatus();
       },
       [](const ServerConfig& c) { return FormatRetentionYaml(c.retention); },
       [](ServerConfig* c, const yaml::Node& n) -> absl::Status {
         KQ_ASSIGN_OR_RETURN(c->retention, ParseRetentionSection(n));
         return absl::OkStatus();
       }},
      {{"archive-root", "DIR", "a directory",
        "Where retention writes archives (<root>/<env>/date=YYYY-MM-DD/ns=<ns>/part-<n>.jsonl.zst "
        "with a manifest). Default <data>/archive."},
       SetString(&ServerConfig::archive_root, true),
       [](const ServerConfig& c) { return Quote(c.archive_root); }},
      {{"retention-interval", "DURATION", "1m - 30d",
        "Time between scheduled retention runs of every environment (the first one interval "
        "after startup). Default 1h. A run costs a plan scan of the days that became due."},
       [](ServerConfig* c, std::string_view v) -> absl::Status {
         KQ_ASSIGN_OR_RETURN(TimeMicros d, ParseDuration(v));
         if (d < kMicrosPerMinute || d > 30 * kMicrosPerDay) {
           return Bad(absl::StrCat("must be between 1m and 30d, got ", Sv(v)));
         }
         c->retention_interval = d;
         return absl::OkStatus();
       },
       [](const ServerConfig& c) { return FormatDuration(c.retention_interval); }},
  };
  return *table;
}

const Option* FindOption(std::string_view name) {
  for (const auto& o : Table()) {
    if (o.info.name == name) return &o;
  }
  return nullptr;
}

std::string KnownKeys() {
  std::vector<std::string> names;
  for (const auto& o : Table()) {
    names.emplace_back(o.info.name == "environment" ? "environments" : std::string(o.info.name));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

const std::vector<OptionInfo>& Options() {
  static const auto* infos = [] {
    auto* v = new std::vector<OptionInfo>;
    for (const auto& o : Table()) v->push_back(o.info);
    return v;
  }();
  return *infos;
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  std::string t = absl::AsciiStrToLower(Sv(text));
  size_t i = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  uint64_t n = 0;
  if (i == 0 || !absl::SimpleAtoi(t.substr(0, i), &n)) {
    return Bad(absl::StrCat("expected a size such as 256MiB or 1GiB, got \"", Sv(text), "\""));
  }
  std::string unit = t.substr(i);
  int shift = -1;
  if (unit.empty() || unit == "b") shift = 0;
  if (unit == "k" || unit == "kb" || unit == "kib") shift = 10;
  if (unit == "m" || unit == "mb" || unit == "mib") shift = 20;
  if (unit == "g" || unit == "gb" || unit == "gib") shift = 30;
  if (unit == "t" || unit == "tb" || unit == "tib") shift = 40;
  if (shift < 0) {
    return Bad(absl::StrCat("unknown size unit \"", unit, "\" in \"", Sv(text),
                            "\" (use B, KiB, MiB, GiB or TiB)"));
  }
  if (shift > 0 && n > (UINT64_MAX >> shift))
    return Bad(absl::StrCat("size too large: ", Sv(text)));
  return n << shift;
}

std::string FormatSize(uint64_t bytes) {
  static const char* kUnits[] = {"TiB", "GiB", "MiB", "KiB"};
  static const int kShifts[] = {40, 30, 20, 10};
  for (int i = 0; i < 4; ++i) {
    uint64_t unit = 1ull << kShifts[i];
    if (bytes >= unit && bytes % unit == 0) return absl::StrCat(bytes / unit, kUnits[i]);
  }
  return absl::StrCat(bytes);
}

absl::Status ApplyYaml(std::string_view text, std::string_view source, ServerConfig* config) {
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::Parse(text, source));
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) return root.Error("the config file must be a map of option: value");
  for (const auto& entry : root.entries()) {
    const std::string& key = entry.key.scalar();
    const Option* opt = FindOption(key == "environments" ? "environment" : key);
    if (opt == nullptr || key == "environment") {
      return entry.key.Error(
          absl::StrCat("unknown option \"", key, "\" (expected one of: ", KnownKeys(), ")"));
    }
    const yaml::Node& value = entry.value;
    if (opt->info.repeated) {
      if (!value.IsSequence() && !value.IsNull()) return value.Error("expected a list");
      opt->clear(config);
      for (const auto& item : value.items()) KQ_RETURN_IF_ERROR(opt->set_yaml(config, item));
      continue;
    }
    if (opt->set_yaml != nullptr) {  // a section (retention)
      KQ_RETURN_IF_ERROR(opt->set_yaml(config, value));
      continue;
    }
    if (!value.IsScalar()) return value.Error("expected a single value");
    absl::Status s = opt->set(config, value.scalar());
    if (!s.ok()) return value.Error(StdSv(s.message()));
  }
  config->config_file = std::string(source);
  return absl::OkStatus();
}

absl::StatusOr<ParsedArgs> ParseArgs(int argc, const char* const* argv) {
  ParsedArgs out;
  struct Flag {
    std::string name;
    std::string value;
  };
  std::vector<Flag> flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg == "--print-config") {
      out.print_config = true;
      continue;
    }
    if (arg == "--version") {
      out.version = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      return Bad(absl::StrCat("unexpected argument \"", Sv(arg), "\" (see kqd --help)"));
    }
    std::string name(arg.substr(2));
    std::string value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= argc) return Bad(absl::StrCat("--", name, " needs a value (see kqd --help)"));
      value = argv[++i];
    }
    if (name != "config" && FindOption(name) == nullptr) {
      return Bad(absl::StrCat("unknown flag --", name, " (see kqd --help)"));
    }
    flags.push_back({name, value});
  }
  for (const auto& f : flags) {
    if (f.name != "config") continue;
    std::ifstream in(f.value, std::ios::binary);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("--config ", f.value, ": cannot read the file: ", std::strerror(errno)));
    }
    std::stringstream text;
    text << in.rdbuf();
    KQ_RETURN_IF_ERROR(ApplyYaml(text.str(), f.value, &out.config));
  }
  std::set<std::string> cleared;
  for (const auto& f : flags) {
    if (f.name == "config") continue;
    const Option* opt = FindOption(f.name);
    if (opt->info.repeated && cleared.insert(f.name).second) opt->clear(&out.config);
    absl::Status s = opt->set(&out.config, f.value);
    if (!s.ok()) return Bad(absl::StrCat("--", f.name, ": ", s.message()));
  }
  if (!out.help && !out.version) KQ_RETURN_IF_ERROR(Validate(out.config));
  return out;
}

absl::Status Validate(const ServerConfig& c) {
  std::string where = c.config_file.empty() ? "" : absl::StrCat(c.config_file, ": ");
  if (c.environments.empty()) return Bad(absl::StrCat(where, "environments: at least one needed"));
  std::set<std::string> names;
  for (const auto& e : c.environments) {
    if (!names.insert(e.name).second) {
      return Bad(absl::StrCat(where, "environments: \"", e.name, "\" is listed twice"));
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return Bad(absl::StrCat(where, "tls-cert and tls-key must be given together"));
  }
  if (!c.tls_client_ca.empty() && c.tls_cert.empty()) {
    return Bad(absl::StrCat(where, "tls-client-ca needs tls-cert and tls-key (HTTPS)"));
  }
  if (c.grpc_tls_cert.empty() != c.grpc_tls_key.empty()) {
    return Bad(absl::StrCat(where, "grpc-tls-cert and grpc-tls-key must be given together"));
  }
  if (!c.grpc_tls_client_ca.empty() && c.grpc_tls_cert.empty()) {
    return Bad(absl::StrCat(where, "grpc-tls-client-ca needs grpc-tls-cert and grpc-tls-key"));
  }
  for (const auto& t : c.tail_sources) {
    if (names.count(t.env) == 0) {
      return Bad(absl::StrCat(where, "tail: environment \"", t.env,
                              "\" is not configured (environments: ", absl::StrJoin(names, ", "),
                              ")"));
    }
  }
  std::set<std::tuple<std::string, std::string, std::string>> scopes;
  for (const auto& p : c.audit_policies) {
    std::string at = p.origin.empty() ? where : absl::StrCat(p.origin, ": ");
    if (names.count(p.env) == 0) {
      return Bad(absl::StrCat(at, "audit-policies: environment \"", p.env,
                              "\" is not configured (environments: ", absl::StrJoin(names, ", "),
                              ")"));
    }
    if (!scopes.insert({p.env, p.source, p.cluster}).second) {
      return Bad(absl::StrCat(at, "audit-policies: env \"", p.env, "\" source \"", p.source,
                              "\" cluster \"", p.cluster, "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

std::string HelpText() {
  std::string out =
      "kqd: the kq server. Stores Kubernetes audit events per environment and serves the kq "
      "gRPC API\nand the kube-apiserver audit webhook.\n\n"
      "Usage: kqd [--config FILE] [--OPTION VALUE]...\n\n"
      "Every option is also a key of the YAML config file; flags override the file.\n"
      "  --config FILE       read options from a YAML file first\n"
      "  --print-config      print the effective configuration as YAML and exit\n"
      "  --help              this text\n"
      "  --version           print the version and exit\n\n"
      "Options:\n";
  for (const auto& o : Table()) {
    absl::StrAppend(&out, "  --", Sv(o.info.name), " ", Sv(o.info.value_name), "\n      ",
                    Sv(o.info.description), "\n      Allowed: ", Sv(o.info.range), "\n");
  }
  return out;
}

std::string PrintConfig(const ServerConfig& config) {
  std::string out = "# kqd configuration (kqd --print-config)\n";
  for (const auto& o : Table()) {
    std::string key = o.info.name == "environment" ? "environments" : std::string(o.info.name);
    absl::StrAppend(&out, key, ": ", o.print(config), "\n");
  }
  return out;
}

}  // namespace kq::server
