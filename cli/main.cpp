// hitl: the command line of the HITL patch service (SPEC §7).

#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>

int main(int argc, char** argv) {
  CLI::App app{"HITL patch service: the human gate between generated security "
               "patches and production"};
  app.require_subcommand(1);
  std::string db_flag;
  auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--database-url", db_flag,
                    "PostgreSQL URL (env HITL_DATABASE_URL)");
  };

  hitl::serve_options serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the service");
  add_db(serve_cmd);
  serve_cmd->add_option("--listen", serve.listen, "host:port (env HITL_LISTEN)")
    ->envname("HITL_LISTEN");
  serve_cmd->add_option("--config", serve.config_path,
                        "JSON config file (env HITL_CONFIG)")
    ->envname("HITL_CONFIG");
  serve_cmd
    ->add_option("--migrate-database-url", serve.migrate_database_url,
                 "The schema owner's PostgreSQL URL: apply pending "
                 "migrations at start (env HITL_MIGRATE_DATABASE_URL)")
    ->envname("HITL_MIGRATE_DATABASE_URL");
  serve_cmd->add_option("--http-threads", serve.http_threads,
                        "HTTP I/O threads")
    ->check(CLI::Range(1u, 64u));
  serve_cmd
    ->add_option("--scheduler-threads", serve.scheduler_threads,
                 "Threads that run the actors (env HITL_SCHEDULER_THREADS); "
                 "1 for many nodes on one machine")
    ->envname("HITL_SCHEDULER_THREADS")
    ->check(CLI::Range(1u, 64u));
  serve_cmd
    ->add_option("--node-id", serve.node_id,
                 "This node's id in the cluster, a UUID (env HITL_NODE_ID); "
                 "default: derived from the host name and --listen, so that "
                 "a node restarted on the same host and port takes its "
                 "partitions back at once")
    ->envname("HITL_NODE_ID");
  serve_cmd
    ->add_option("--node-listen", serve.node_listen,
                 "host:port where the other nodes reach this one (CAF's "
                 "remote actors; a private network only: it has no "
                 "authentication) (env HITL_NODE_LISTEN); without it the node "
                 "forwards no request to another node")
    ->envname("HITL_NODE_LISTEN");
  serve_cmd
    ->add_option("--advertise", serve.advertise,
                 "host:port the other nodes should connect to, when not "
                 "--node-listen (NAT, containers) (env HITL_ADVERTISE)")
    ->envname("HITL_ADVERTISE");
  serve_cmd
    ->add_option("--log-format", serve.log_format,
                 "text, or json: one JSON object a line, with ts, level and "
                 "msg, and an access line's fields (env HITL_LOG_FORMAT)")
    ->envname("HITL_LOG_FORMAT")
    ->check(CLI::IsMember({"text", "json"}));
  std::string access_log = "on";
  serve_cmd
    ->add_option("--access-log", access_log,
                 "on or off: a line per answered request, with its request "
                 "id, route, status and duration (env HITL_ACCESS_LOG)")
    ->envname("HITL_ACCESS_LOG")
    ->check(CLI::IsMember({"on", "off"}));

  auto* migrate_cmd = app.add_subcommand(
    "migrate", "Apply pending migrations as the schema's owner, and grant "
               "the runtime role what serve needs");
  add_db(migrate_cmd);
  std::string runtime_role = "hitl_runtime";
  migrate_cmd->add_option("--runtime-role", runtime_role,
                          "Role that serve connects as (created NOLOGIN if "
                          "missing)")
    ->capture_default_str();

  auto* token_cmd = app.add_subcommand("token", "Manage API tokens");
  token_cmd->require_subcommand(1);
  std::string name, role, expires_in;
  auto* create_cmd = token_cmd->add_subcommand(
    "create", "Create a token; prints it once, alone on stdout");
  add_db(create_cmd);
  create_cmd->add_option("--name", name, "Identity of the holder")->required();
  create_cmd->add_option("--role", role, "reviewer, service, auditor or admin")
    ->required()
    ->check(CLI::IsMember({"reviewer", "service", "auditor", "admin"}));
  auto* expires_opt = create_cmd->add_option(
    "--expires-in", expires_in,
    "Lifetime: a number and s, m, h or d (e.g. 90s, 30m, 12h, 7d); "
    "without it the token never expires");
  std::string performed_by;
  create_cmd->add_option("--issued-by", performed_by,
                         "Who issues it, for the audit trail (default: the "
                         "OS user)");
  auto* list_cmd = token_cmd->add_subcommand("list", "List tokens");
  add_db(list_cmd);
  auto* revoke_cmd = token_cmd->add_subcommand("revoke", "Revoke a token");
  add_db(revoke_cmd);
  revoke_cmd->add_option("--name", name, "Identity to revoke")->required();
  revoke_cmd->add_option("--revoked-by", performed_by,
                         "Who revokes it, for the audit trail (default: the "
                         "OS user)");

  auto* cluster_cmd = app.add_subcommand("cluster", "Nodes sharing the database");
  cluster_cmd->require_subcommand(1);
  auto* cluster_status_cmd = cluster_cmd->add_subcommand(
    "status", "List nodes, their leases and the partitions each holds");
  add_db(cluster_status_cmd);

  auto* audit_cmd = app.add_subcommand("audit", "Audit trail");
  audit_cmd->require_subcommand(1);
  auto* verify_cmd =
    audit_cmd->add_subcommand("verify", "Check the audit hash chain");
  add_db(verify_cmd);
  hitl::audit_verify_options verify_opts;
  auto* key_opt = verify_cmd->add_option(
    "--public-key", verify_opts.public_key_file,
    "PEM of the key that signs checkpoints: also check the database's "
    "checkpoint table against the chain");
  verify_cmd
    ->add_option("--checkpoints", verify_opts.checkpoints_file,
                 "JSON-lines file of signed checkpoints kept outside the "
                 "database (audit.checkpoint_file): check the chain against "
                 "them")
    ->needs(key_opt);
  std::string export_file;
  verify_cmd
    ->add_option("--file", export_file,
                 "Verify this export (hitl audit export) with no database; "
                 "needs --public-key")
    ->needs(key_opt);

  auto* export_cmd = audit_cmd->add_subcommand(
    "export", "Write the audit trail with its hashes and checkpoints");
  add_db(export_cmd);
  hitl::audit_export_options export_opts;
  export_cmd->add_option("--since", export_opts.since,
                         "From the first entry at or after this time "
                         "(RFC 3339)");
  export_cmd->add_option("--until", export_opts.until,
                         "To the last entry before this time (RFC 3339)");
  export_cmd->add_option("--format", export_opts.format, "jsonl or csv")
    ->check(CLI::IsMember({"jsonl", "csv"}))
    ->capture_default_str();
  export_cmd->add_option("--out", export_opts.out,
                         "File to write (default: stdout)");

  auto* key_cmd = app.add_subcommand("key", "Checkpoint signing keys");
  key_cmd->require_subcommand(1);
  std::string key_out;
  auto* key_create_cmd = key_cmd->add_subcommand(
    "create", "Create an Ed25519 signing key (mode 0600); prints the public "
              "key");
  key_create_cmd->add_option("--out", key_out, "New file for the private key")
    ->required();

  auto* outbox_cmd = app.add_subcommand("outbox", "Webhook deliveries");
  outbox_cmd->require_subcommand(1);
  std::string state;
  int limit = 50;
  int64_t outbox_id = 0;
  auto* outbox_list_cmd =
    outbox_cmd->add_subcommand("list", "List deliveries, newest first");
  add_db(outbox_list_cmd);
  outbox_list_cmd->add_option("--state", state, "pending, delivered or dead")
    ->check(CLI::IsMember({"pending", "delivered", "dead"}));
  outbox_list_cmd->add_option("--limit", limit, "Rows to show")
    ->check(CLI::Range(1, 10000));
  auto* outbox_retry_cmd = outbox_cmd->add_subcommand(
    "retry", "Queue a dead (or pending) delivery again, due now");
  add_db(outbox_retry_cmd);
  outbox_retry_cmd->add_option("--id", outbox_id, "Outbox row id")->required();

  CLI11_PARSE(app, argc, argv);

  auto url = hitl::resolve_database_url(db_flag);
  if (*serve_cmd) {
    serve.database_url = url;
    serve.access_log = access_log == "on";
    return hitl::run_serve(serve);
  }
  if (*migrate_cmd)
    return hitl::run_migrate(url, runtime_role);
  if (*create_cmd)
    return hitl::run_token_create(
      url, name, role,
      expires_opt->count() > 0 ? std::optional<std::string>{expires_in}
                               : std::nullopt,
      performed_by);
  if (*list_cmd)
    return hitl::run_token_list(url);
  if (*revoke_cmd)
    return hitl::run_token_revoke(url, name, performed_by);
  if (*cluster_status_cmd)
    return hitl::run_cluster_status(url);
  if (*verify_cmd && !export_file.empty())
    return hitl::run_export_verify(export_file, verify_opts.public_key_file);
  if (*verify_cmd)
    return hitl::run_audit_verify(url, verify_opts);
  if (*export_cmd)
    return hitl::run_audit_export(url, export_opts);
  if (*key_create_cmd)
    return hitl::run_key_create(key_out);
  if (*outbox_list_cmd)
    return hitl::run_outbox_list(url, state, limit);
  if (*outbox_retry_cmd)
    return hitl::run_outbox_retry(url, outbox_id);
  return EXIT_FAILURE;
}
