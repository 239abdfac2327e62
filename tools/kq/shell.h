// The interactive shell: `kq` with no command.
//
// Line editing and persistent history (libedit), multi-line queries (a line ending in `|`, or
// with an open parenthesis or quote, continues; an empty line or `;` ends), tab completion of
// keywords, operators, functions, field names and of values seen in the data, and dot commands
// (.help, .format, .context, .env, .timing, .quit).
#ifndef KQ_TOOLS_KQ_SHELL_H_
#define KQ_TOOLS_KQ_SHELL_H_

#include <string>
#include <string_view>

#include "tools/kq/session.h"

namespace kq::cli {

// Runs until end of input or .quit; returns the exit code (0 unless input ends mid-query).
int RunShell(Session& session);

// True when `text` is a complete statement: balanced parentheses, brackets and quotes, and it
// does not end with `|`, `,`, `and`, `or` or a backslash. Exposed for tests.
bool IsCompleteStatement(std::string_view text);

}  // namespace kq::cli

#endif  // KQ_TOOLS_KQ_SHELL_H_
