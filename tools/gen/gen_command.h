// The `kq gen` subcommand: writes generated audit traffic (tools/gen/generator.h) to stdout or
// a file.
//
//   kq gen [--seed N] [--events N] [--start TIME] [--rate EVENTS_PER_S] [--cluster NAME]
//          [--format jsonl|eventlist] [--batch-size N] [--output FILE]
//
// --start takes an RFC 3339 time, "now", or "now-DURATION" ("now-1d"); the default is a fixed
// time so that the same flags always give the same bytes. On error the command prints
// "kq gen: ..." to stderr and exits 1 (by throwing CLI::RuntimeError, CLI11's way to set the
// exit code from a callback; the caller's app.exit() turns it into the return code).
#ifndef KQ_TOOLS_GEN_GEN_COMMAND_H_
#define KQ_TOOLS_GEN_GEN_COMMAND_H_

namespace CLI {
class App;
}  // namespace CLI

namespace kq {

// Registers the `gen` subcommand on `app`. The subcommand owns its state; `app` must outlive
// parsing and running.
void AddGenCommand(CLI::App& app);

}  // namespace kq

#endif  // KQ_TOOLS_GEN_GEN_COMMAND_H_
