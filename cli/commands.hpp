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
int run_audit_verify(const std::string& database_url);
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
};

int run_serve(const serve_options& opts);

} // namespace hitl
