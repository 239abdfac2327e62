// kq's subcommands, each a function from parsed arguments to an exit code. Errors are printed
// on stderr ("kq: <message>"); results on stdout.
#ifndef KQ_TOOLS_KQ_COMMANDS_H_
#define KQ_TOOLS_KQ_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tools/kq/contexts.h"
#include "tools/kq/session.h"

namespace kq::cli {

// Prints "kq: <status message>" on stderr and returns ExitCodeFor(status).
int ReportError(const absl::Status& status);

struct QueryArgs {
  std::string text;
  std::string env;  // empty: the session's
  std::string format = "table";
  bool timing = false;  // print rows, segments and elapsed time on stderr
};
int RunQueryCommand(Session& session, const QueryArgs& args);
int RunExplainCommand(Session& session, const QueryArgs& args);
int RunTailCommand(Session& session, const QueryArgs& args);

struct ImportArgs {
  std::vector<std::string> files;
  std::string env;
  std::string cluster = "default";
};
int RunImportCommand(Session& session, const ImportArgs& args);

int RunStatsCommand(Session& session, const std::string& env, const std::string& format);
int RunQuarantineList(Session& session, const std::string& env, size_t limit);
int RunQuarantineShow(Session& session, const std::string& env, uint64_t id);

int RunGetContexts();
int RunUseContext(const std::string& name);
int RunSetContext(const Context& context);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_COMMANDS_H_
