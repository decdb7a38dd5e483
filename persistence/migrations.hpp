#pragma once

#include "persistence/fwd.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hitl {

/// One numbered file of schema/, embedded into the binary at build time.
struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// All migrations of schema/, in ascending version order.
const std::vector<migration>& embedded_migrations();

/// The version that the embedded migrations bring a database to.
int latest_schema_version();

/// The schema or the roles are not what a command needs; the message says
/// what is wrong and which command fixes it.
struct schema_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct migrate_options {
  /// The role that `hitl serve` connects as. It is created NOLOGIN when it
  /// does not exist (the operator gives it LOGIN and a password), and after
  /// the migrations it gets exactly `runtime_grants()`. None: no grants.
  std::optional<std::string> runtime_role;
  /// For serve's own role: when it is unfit to be a runtime role (the owner
  /// itself, a superuser, ...), skip the grants and say why in the report
  /// instead of failing.
  bool lenient = false;
};

struct migration_report {
  std::vector<std::string> applied;
  int current_version = 0;
  /// The role granted the runtime privileges, if any.
  std::optional<std::string> granted_role;
  bool role_created = false;
  /// Why the grants were skipped (lenient only).
  std::optional<std::string> grants_skipped;
};

/// Applies every migration newer than the database's, each in its own
/// transaction, under a PostgreSQL advisory lock so that several nodes
/// starting together apply each one exactly once. Records each version in
/// `schema_migrations`. Then, with a runtime role, grants it what serve
/// needs (see migrate_options). Run it with the owner's connection. Throws
/// schema_error or db_error.
migration_report apply_migrations(const std::string& database_url,
                                  const migrate_options& opts = {});

/// What `hitl serve` finds with its own connection before it starts.
struct runtime_check {
  /// The role it is connected as.
  std::string user;
  /// The database's schema version; 0 without a schema, or when `user`
  /// may not read it (then `missing` says so).
  int schema_version = 0;
  /// Grants of `runtime_grants()` that `user` lacks.
  std::vector<std::string> missing;
  /// Privileges `user` has that could rewrite history (it owns the schema,
  /// it is a superuser, ...).
  std::vector<std::string> excess;
};

/// Throws db_error.
runtime_check check_runtime_role(const std::string& database_url);

} // namespace hitl
