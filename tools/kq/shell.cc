#include "tools/kq/shell.h"

#include <editline/readline.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings.h"
#include "tools/kq/commands.h"
#include "tools/kq/contexts.h"

namespace kq::cli {
namespace {

constexpr int kHistoryLines = 2000;
constexpr size_t kValuesPerField = 200;

constexpr char kHelp[] = R"(Type a query and press Enter; it may span lines (a line ending in
`|` continues; an empty line or `;` ends it). Tab completes keywords, functions, fields and
values seen in the data. Examples:
  events | where verb == "delete" | take 10
  events | summarize n = count() by user | top 10 by n
  events("dev") | where code >= 400 | summarize count() by bin(time, 1h)
Commands:
  .help                this text
  .format [FORMAT]     show or set the output: table, json, jsonl, csv
  .env [NAME]          show or set the environment plain `events` reads
  .context [NAME]      show or switch the context (see `kq config get-contexts`)
  .timing [on|off]     print rows, segments and time after each query
  .explain QUERY       print the plan of QUERY
  .quit                leave (or Ctrl-D))";

// Words offered by completion before any data is seen: the language's keywords, operators,
// functions and field names (docs/query-language.md).
constexpr const char* kLanguageWords[] = {
    "events",
    "where",
    "project",
    "project-away",
    "extend",
    "summarize",
    "by",
    "sort",
    "order",
    "asc",
    "desc",
    "take",
    "limit",
    "top",
    "distinct",
    "count",
    "dedup",
    "and",
    "or",
    "not",
    "in",
    "has",
    "contains",
    "contains_cs",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "between",
    "isnull",
    "isnotnull",
    "ago",
    "now",
    "datetime",
    "bin",
    "dcount",
    "countif",
    "min",
    "max",
    "sum",
    "avg",
    "percentile",
    "make_set",
    "arg_max",
    "tolower",
    "toupper",
    "strlen",
    "split",
    "extract",
    "any",
    "true",
    "false",
    "archive",
    "time",
    "user",
    "ns",
    "resource",
    "subresource",
    "name",
    "code",
    "decision",
    "env",
    "cluster",
    "verb",
    "stage",
    "level",
    "auditID",
    "requestURI",
    "userAgent",
    "sourceIPs",
    "user.username",
    "user.groups",
    "user.extra",
    "impersonatedUser.username",
    "objectRef.namespace",
    "objectRef.resource",
    "objectRef.name",
    "objectRef.apiGroup",
    "objectRef.apiVersion",
    "objectRef.subresource",
    "responseStatus.code",
    "responseStatus.reason",
    "responseStatus.message",
    "annotations",
    "requestObject",
    "responseObject",
    "requestReceivedTimestamp",
    "stageTimestamp",
};

std::vector<std::string>* g_words = nullptr;

char* CompletionGenerator(const char* text, int state) {
  static size_t index;
  static std::string prefix;
  if (state == 0) {
    index = 0;
    prefix = text;
  }
  while (g_words != nullptr && index < g_words->size()) {
    const std::string& word = (*g_words)[index++];
    if (word.compare(0, prefix.size(), prefix) == 0) return strdup(word.c_str());
  }
  return nullptr;
}

char** Complete(const char* text, int, int) {
  rl_attempted_completion_over = 1;
  return rl_completion_matches(text, CompletionGenerator);
}

std::string HistoryPath() {
  if (const char* p = std::getenv("KQ_HISTORY"); p && *p) return p;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.kq_history";
}

// Collects values seen in the data (namespaces, users, resources, verbs) for completion.
// Best effort: a store that cannot answer leaves the language words only.
class ValueCollector : public query::RowSink {
 public:
  explicit ValueCollector(std::set<std::string>* out) : out_(out) {}
  absl::Status OnSchema(const std::vector<query::ColumnInfo>&) override { return absl::OkStatus(); }
  absl::Status OnRows(std::span<const query::Row> rows) override {
    for (const query::Row& row : rows) {
      if (!row.empty()) {
        if (auto* s = std::get_if<std::string>(&row[0]); s && !s->empty()) {
          out_->insert("\"" + *s + "\"");
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  std::set<std::string>* out_;
};

void RebuildWords(Session& session, std::vector<std::string>* words) {
  std::set<std::string> all(std::begin(kLanguageWords), std::end(kLanguageWords));
  absl::StatusOr<Backend*> backend = session.backend();
  if (backend.ok()) {
    for (const char* field : {"ns", "user", "resource", "verb", "cluster"}) {
      ValueCollector collector(&all);
      // The most frequent values, counted from one dictionary-coded column: a scan that
      // decodes nothing else (a top 100,000 by time made kqd build 100,000 whole events).
      std::string q = absl::StrCat("events | summarize n = count() by ", field, " | top ",
                                   kValuesPerField, " by n desc");
      (*backend)->Query(q, session.target().env, collector, nullptr).IgnoreError();
    }
  }
  words->assign(all.begin(), all.end());
}

}  // namespace

bool IsCompleteStatement(std::string_view text) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if (c == ')' || c == ']') {
      --depth;
    }
  }
  if (quote != 0 || depth > 0) return false;
  std::string_view t = StdSv(absl::StripTrailingAsciiWhitespace(Sv(text)));
  for (std::string_view tail : {"|", ",", "\\", " and", " or"}) {
    if (t.ends_with(tail)) return false;
  }
  return true;
}

int RunShell(Session& session) {
  std::string format = "table";
  bool timing = false;
  std::string history = HistoryPath();
  read_history(history.c_str());
  stifle_history(kHistoryLines);
  std::vector<std::string> words;
  RebuildWords(session, &words);
  g_words = &words;
  rl_attempted_completion_function = Complete;
  rl_basic_word_break_characters = " \t\n()[],=<>!|";

  std::fprintf(stderr, "kq shell: %s, environment %s. Type .help for help, .quit to leave.\n",
               session.target().data.empty() ? ("kqd at " + session.target().server).c_str()
                                             : ("store " + session.target().data).c_str(),
               session.target().env.c_str());
  std::string statement;
  while (true) {
    std::string prompt = statement.empty() ? "kq:" + session.target().env + "> " : "    ...> ";
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) break;
    std::string line = raw;
    std::free(raw);
    std::string trimmed(absl::StripAsciiWhitespace(line));
    if (statement.empty() && trimmed.empty()) continue;
    if (statement.empty() && trimmed.starts_with(".")) {
      std::vector<std::string> parts = absl::StrSplit(trimmed, absl::MaxSplits(' ', 1));
      std::string arg = parts.size() > 1 ? std::string(absl::StripAsciiWhitespace(parts[1])) : "";
      const std::string& cmd = parts[0];
      if (cmd == ".quit" || cmd == ".exit") break;
      add_history(trimmed.c_str());
      if (cmd == ".help") {
        std::puts(kHelp);
      } else if (cmd == ".format") {
        if (!arg.empty()) {
          if (ParseOutputFormat(arg).ok()) {
            format = arg;
          } else {
            std::fprintf(stderr, "unknown format \"%s\": use table, json, jsonl or csv\n",
                         arg.c_str());
          }
        }
        std::printf("format: %s\n", format.c_str());
      } else if (cmd == ".env") {
        if (!arg.empty()) session.set_env(arg);
        std::printf("environment: %s\n", session.target().env.c_str());
      } else if (cmd == ".timing") {
        if (!arg.empty()) timing = arg == "on";
        std::printf("timing: %s\n", timing ? "on" : "off");
      } else if (cmd == ".explain") {
        RunExplainCommand(session, QueryArgs{arg, "", format, false});
      } else if (cmd == ".context") {
        if (arg.empty()) {
          std::printf("context: %s\n", session.target().context.empty()
                                           ? "(none)"
                                           : session.target().context.c_str());
        } else {
          absl::StatusOr<Target> target = Session::Resolve("", "", arg);
          if (!target.ok()) {
            ReportError(target.status());
          } else {
            session.Retarget(*target);
            RebuildWords(session, &words);
            std::printf("context: %s, environment %s\n", arg.c_str(), target->env.c_str());
          }
        }
      } else {
        std::fprintf(stderr, "unknown command %s: try .help\n", cmd.c_str());
      }
      continue;
    }
    bool ends_with_semicolon = !trimmed.empty() && trimmed.back() == ';';
    if (ends_with_semicolon) trimmed.pop_back();
    if (!statement.empty()) statement += "\n";
    statement += trimmed;
    bool done = ends_with_semicolon || trimmed.empty() || IsCompleteStatement(statement);
    if (!done) continue;
    std::string text(absl::StripAsciiWhitespace(statement));
    statement.clear();
    if (text.empty()) continue;
    // One history line per statement, so Up recalls a multi-line query whole.
    std::string one_line = text;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    add_history(one_line.c_str());
    RunQueryCommand(session, QueryArgs{text, "", format, timing});
  }
  write_history(history.c_str());
  std::fputc('\n', stderr);
  return statement.empty() ? kExitOk : kExitUsage;
}

}  // namespace kq::cli
