// kq: the command line and interactive shell of kq.
//
//   kq [--data DIR | --server HOST:PORT | --context NAME] COMMAND ...
//   kq                      opens the interactive shell
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/gen/gen_command.h"
#include "tools/kq/commands.h"
#include "tools/kq/policy_commands.h"
#include "tools/kq/retention_commands.h"
#include "tools/kq/shell.h"

namespace {

constexpr char kDescription[] = R"(kq: query and manage Kubernetes audit logs.

Where to connect (first that applies): --data DIR opens a store in-process with no daemon;
--server HOST:PORT talks to kqd; --context NAME (or the current context, see `kq config`);
else kqd at 127.0.0.1:9910.

Examples:
  kq --data ./kq-data import --env prod --cluster east audit.log audit-1.log.gz
  kq query 'events | where verb == "delete" and ns == "payments" | take 20'
  kq query --format csv 'events | summarize n = count() by user | top 10 by n'
  kq explain 'events | where time > ago(1h) and resource == "secrets"'
  kq tail 'events | where code >= 400'
  kq retention plan --env prod      (also: retention run|log|report, hold, archive)
  kq                       (the shell; .help inside)

Exit codes: 0 success, 1 query or server error, 2 usage, 3 cannot connect.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace kq::cli;
  CLI::App app(kDescription, "kq");
  app.set_help_all_flag("--help-all", "Print help for every command");
  app.require_subcommand(0, 1);

  std::string data, server, context;
  app.add_option("--data", data, "Open the store in DIR in-process (no daemon)")->type_name("DIR");
  app.add_option("--server", server, "kqd's gRPC address")->type_name("HOST:PORT");
  app.add_option("--context", context, "Use a named context from the kq config file")
      ->type_name("NAME");
  TlsFiles tls;
  app.add_option("--tls-ca", tls.ca, "With --server: CA file that verifies kqd (gRPC over TLS)")
      ->type_name("FILE");
  app.add_option("--tls-cert", tls.cert, "With --server: client certificate, if kqd asks for one")
      ->type_name("FILE");
  app.add_option("--tls-key", tls.key, "With --server: the client certificate's key")
      ->type_name("FILE");

  QueryArgs query_args;
  auto add_query_flags = [&](CLI::App* cmd, bool with_format) {
    cmd->add_option("--env", query_args.env,
                    "Environment that plain `events` reads (default: the context's, else prod)");
    if (with_format) {
      cmd->add_option("--format", query_args.format, "Output: table, json, jsonl or csv")
          ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
    }
  };
  CLI::App* query_cmd = app.add_subcommand("query", "Run a query and print its rows");
  query_cmd->footer(
      "Example: kq query --format jsonl 'events | where user == \"system:anonymous\" | take 5'\n"
      "The language: docs/query-language.md");
  add_query_flags(query_cmd, true);
  query_cmd->add_flag("--timing", query_args.timing,
                      "Print rows scanned, segments read and pruned, the query's own time and the "
                      "total as seen here");
  query_cmd->add_option("QUERY", query_args.text, "The query text")->required();

  CLI::App* explain_cmd = app.add_subcommand("explain", "Print a query's plan without running it");
  explain_cmd->footer("Example: kq explain 'events | where ns == \"payments\" | take 10'");
  add_query_flags(explain_cmd, false);
  explain_cmd->add_option("QUERY", query_args.text, "The query text")->required();

  CLI::App* tail_cmd = app.add_subcommand("tail", "Stream new events as they arrive (needs kqd)");
  tail_cmd->footer("Example: kq tail 'events | where verb == \"delete\"'");
  add_query_flags(tail_cmd, true);
  query_args.text = "events";
  tail_cmd->add_option("QUERY", query_args.text, "A filtering query (default: events)");

  ImportArgs import_args;
  CLI::App* import_cmd = app.add_subcommand("import", "Import audit log files");
  import_cmd->footer(
      "Files hold JSON lines (the apiserver's log backend) or an EventList, plain, .gz or .zst.\n"
      "Example: kq --data ./kq-data import --env prod --cluster east audit*.log.gz");
  import_cmd->add_option("--env", import_args.env, "Environment to store into (default prod)");
  import_cmd->add_option("--cluster", import_args.cluster, "Cluster the events come from")
      ->capture_default_str();
  import_cmd->add_option("FILE", import_args.files, "Files to import")
      ->required()
      ->check(CLI::ExistingFile);

  std::string stats_env, stats_format = "table";
  CLI::App* stats_cmd = app.add_subcommand("stats",
                                           "Events and bytes per environment, tier and "
                                           "namespace");
  stats_cmd->add_option("--env", stats_env, "Only this environment");
  stats_cmd->add_option("--format", stats_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  std::string q_env;
  size_t q_limit = 50;
  uint64_t q_id = 0;
  CLI::App* quarantine_cmd =
      app.add_subcommand("quarantine", "Input that could not be decoded, kept with its reason");
  quarantine_cmd->require_subcommand(1);
  CLI::App* q_list = quarantine_cmd->add_subcommand("list", "Newest quarantined items first");
  q_list->add_option("--env", q_env, "Environment (default: the context's, else prod)");
  q_list->add_option("--limit", q_limit, "At most this many")->capture_default_str();
  CLI::App* q_show = quarantine_cmd->add_subcommand("show", "One item with its payload");
  q_show->add_option("--env", q_env, "Environment (default: the context's, else prod)");
  q_show->add_option("ID", q_id, "Quarantine id from `kq quarantine list`")->required();

  Context new_context;
  std::string use_name;
  CLI::App* config_cmd = app.add_subcommand("config", "Named contexts (server or data dir, env)");
  config_cmd->footer("The file: $KQ_CONFIG, else ~/.config/kq/config.yaml");
  config_cmd->require_subcommand(1);
  CLI::App* get_contexts = config_cmd->add_subcommand("get-contexts", "List the contexts");
  CLI::App* use_context = config_cmd->add_subcommand("use-context", "Switch the current context");
  use_context->add_option("NAME", use_name, "Context name")->required();
  CLI::App* set_context = config_cmd->add_subcommand("set-context", "Add or replace a context");
  set_context->footer("Example: kq config set-context prod --server kq.internal:9910 --env prod");
  set_context->add_option("NAME", new_context.name, "Context name")->required();
  set_context->add_option("--server", new_context.server, "kqd address")->type_name("HOST:PORT");
  set_context->add_option("--data", new_context.data, "Data directory")->type_name("DIR");
  set_context->add_option("--env", new_context.env, "Default environment");
  set_context->add_option("--tls-ca", new_context.tls_ca, "CA certificate file");
  set_context->add_option("--tls-cert", new_context.tls_cert, "Client certificate file");
  set_context->add_option("--tls-key", new_context.tls_key, "Client key file");

  std::string lint_format = "table";
  SimulateArgs simulate_args;
  CLI::App* policy_cmd =
      app.add_subcommand("policy", "Tune a kube-apiserver audit Policy (audit.k8s.io/v1)");
  policy_cmd->require_subcommand(1);
  CLI::App* lint_cmd = policy_cmd->add_subcommand(
      "lint", "Rules that never match, unknown verbs or resources, a missing catch-all");
  lint_cmd->footer(
      "Exit code 1 when there are findings.\nExample: kq policy lint audit-policy.yaml");
  lint_cmd->add_option("POLICY", simulate_args.policy_file, "Policy file")
      ->required()
      ->check(CLI::ExistingFile);
  lint_cmd->add_option("--format", lint_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  CLI::App* simulate_cmd = policy_cmd->add_subcommand(
      "simulate", "What a policy would keep and drop of the stored events, rule by rule");
  simulate_cmd->footer("Example: kq policy simulate --env prod --since 7d audit-policy.yaml");
  simulate_cmd->add_option("POLICY", simulate_args.policy_file, "Policy file")
      ->required()
      ->check(CLI::ExistingFile);
  simulate_cmd->add_option("--env", simulate_args.env, "Environment (default: the context's)");
  simulate_cmd->add_option("--since", simulate_args.since, "Only events this recent, e.g. 7d");
  simulate_cmd->add_option("--format", simulate_args.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  RetentionCommands retention_commands(app);
  kq::AddGenCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command that ran and failed (kq gen)
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (get_contexts->parsed()) return RunGetContexts();
  if (use_context->parsed()) return RunUseContext(use_name);
  if (set_context->parsed()) return RunSetContext(new_context);
  if (lint_cmd->parsed()) return RunPolicyLint(simulate_args.policy_file, lint_format);
  for (CLI::App* sub : app.get_subcommands()) {
    if (sub->get_name() == "gen") return kExitOk;  // ran in its callback
  }

  absl::StatusOr<Target> target = Session::Resolve(data, server, context, tls);
  if (!target.ok()) return ReportError(target.status()), kExitUsage;
  Session session(*target);

  if (query_cmd->parsed()) return RunQueryCommand(session, query_args);
  if (explain_cmd->parsed()) return RunExplainCommand(session, query_args);
  if (tail_cmd->parsed()) return RunTailCommand(session, query_args);
  if (import_cmd->parsed()) return RunImportCommand(session, import_args);
  if (stats_cmd->parsed()) return RunStatsCommand(session, stats_env, stats_format);
  if (q_list->parsed()) return RunQuarantineList(session, q_env, q_limit);
  if (q_show->parsed()) return RunQuarantineShow(session, q_env, q_id);
  if (simulate_cmd->parsed()) return RunPolicySimulate(session, simulate_args);
  if (retention_commands.parsed()) return retention_commands.Run(session);
  return RunShell(session);
}
