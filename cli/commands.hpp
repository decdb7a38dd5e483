#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hitl {

/// Where the database is: --database-url, else HITL_DATABASE_URL, else a
/// local socket connection to database `hitl`.
std::string resolve_database_url(const std::string& flag);

int run_migrate(const std::string& database_url,
                const std::string& runtime_role);
/// `expires_in` as given to --expires-in (e.g. "12h"); none: never expires.
/// `issued_by` (empty: the OS user) is recorded in the chain's
/// token_created entry.
int run_token_create(const std::string& database_url, const std::string& name,
                     const std::string& role,
                     const std::optional<std::string>& expires_in,
                     const std::string& issued_by);
int run_token_list(const std::string& database_url);
int run_token_revoke(const std::string& database_url, const std::string& name,
                     const std::string& revoked_by);
/// Nodes, their leases and how many partitions each holds (SPEC §8).
int run_cluster_status(const std::string& database_url);
/// What `hitl audit verify` checks beyond the chain and the decisions.
struct audit_verify_options {
  /// A JSON-lines file of signed checkpoints kept outside the database.
  std::string checkpoints_file;
  /// The PEM of the key that signed them; with it, the database's own
  /// checkpoint table is checked too.
  std::string public_key_file;
};

/// Exit codes of `hitl audit verify`, the first that applies in this order.
inline constexpr int exit_chain_broken = 2;
inline constexpr int exit_checkpoint_contradicted = 4;
inline constexpr int exit_checkpoint_unsigned = 5;
inline constexpr int exit_decision_mismatch = 3;

int run_audit_verify(const std::string& database_url,
                     const audit_verify_options& opts = {});

struct audit_export_options {
  /// RFC 3339; empty: from the start / to the end.
  std::string since;
  std::string until;
  /// jsonl or csv.
  std::string format = "jsonl";
  /// File to write; empty: stdout.
  std::string out;
};

/// Writes the audit export (persistence/README.md describes it).
int run_audit_export(const std::string& database_url,
                     const audit_export_options& opts);

/// Verifies an export with no database; prints the line of the first
/// fault and returns exit_chain_broken then.
int run_export_verify(const std::string& file,
                      const std::string& public_key_file);

/// Creates an Ed25519 signing key in a new file of mode 0600 and prints its
/// public key's PEM on stdout.
int run_key_create(const std::string& out_path);
int run_outbox_list(const std::string& database_url, const std::string& state,
                    int limit);
int run_outbox_retry(const std::string& database_url, int64_t id);

struct serve_options {
  std::string listen = "127.0.0.1:8027";
  std::string database_url;
  /// The owner's connection: when set, serve migrates at start.
  std::string migrate_database_url;
  std::string config_path;
  unsigned http_threads = 2;
  unsigned scheduler_threads = 2;
  /// A UUID; empty: derived from the host name and `listen`.
  std::string node_id;
  /// host:port where the other nodes reach this one's gateway; empty: the
  /// node forwards nothing and takes nothing forwarded (SPEC §8).
  std::string node_listen;
  /// host:port that the other nodes should use for it; empty: node_listen.
  std::string advertise;
  /// "text" (spdlog's lines) or "json" (one object a line).
  std::string log_format = "text";
  /// A line per answered request.
  bool access_log = true;
};

int run_serve(const serve_options& opts);

} // namespace hitl
