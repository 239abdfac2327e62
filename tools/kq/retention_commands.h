// `kq retention plan|run|log|report`, `kq hold add|list|release`, `kq archive
// list|verify|restore`: retention tiers, legal holds and archives (docs/retention.md), embedded
// or against kqd alike. Each prints a table for people or, with format "json", the response
// message as JSON (proto field names; 64-bit integers as strings, the protobuf JSON mapping).
#ifndef KQ_TOOLS_KQ_RETENTION_COMMANDS_H_
#define KQ_TOOLS_KQ_RETENTION_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tools/kq/session.h"

namespace kq::cli {

// The flags of every retention, hold and archive command.
struct RetentionArgs {
  std::string env;  // empty: every environment (plan, run, log, report, lists), else the session's
  std::string format = "table";
  std::string policy_file;  // report --policy
  uint32_t limit = 0;       // log --limit
  std::vector<std::string> namespaces;
  std::string from, to;  // RFC 3339 timestamps or YYYY-MM-DD (UTC midnight)
  std::string reason;
  std::string target;      // restore --target
  uint64_t id = 0;         // hold release
  bool all = false;        // hold list --all: released holds too
  std::string kqd_config;  // --kqd-config: embedded, enforce that kqd config's retention
};

// Registers the `retention`, `hold` and `archive` commands on `app` (which must outlive this).
// After parsing, parsed() says whether one of them was given and Run() runs it, returning the
// exit code (kExit*).
class RetentionCommands {
 public:
  explicit RetentionCommands(CLI::App& app);
  bool parsed() const;
  int Run(Session& session);

 private:
  RetentionArgs args_;
  std::vector<std::pair<CLI::App*, std::function<int(Session&, const RetentionArgs&)>>> commands_;
};

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_RETENTION_COMMANDS_H_
