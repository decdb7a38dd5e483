#pragma once

// What the runtime role of `hitl serve` may do (SPEC §11): exactly the
// privileges its statements need, table by table, and nothing that could
// rewrite history. The owner role, used only by `hitl migrate`, grants them
// after every migration run, so a table that a later migration adds is
// covered as soon as it is listed here.

#include "persistence/fwd.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// The runtime role's privileges on one table or view of the schema.
struct table_grant {
  std::string_view table;
  /// Table-wide privileges, e.g. {"SELECT", "INSERT"}; none for a relation
  /// that serve never touches.
  std::vector<std::string_view> privileges;
  /// Columns that serve may UPDATE; none for a table it never updates.
  std::vector<std::string_view> update_columns;
};

/// Every relation of the schema, with what the runtime role gets on it. A
/// migration that adds a table must add it here too: `grant_runtime_role`
/// refuses a schema with a relation that is not listed.
const std::vector<table_grant>& runtime_grants();

/// Why `role` must not be the runtime role (it does not exist, it is the
/// current user, a superuser, a member of the current user's role, or owns
/// a relation of the schema); std::nullopt when it may be.
std::optional<std::string> unfit_runtime_role(pqxx::transaction_base& txn,
                                              const std::string& role);

/// Revokes everything the current user granted `role` in the current schema,
/// then grants exactly `runtime_grants()`, with USAGE on the sequences of
/// the tables it may INSERT into. Throws schema_error (migrations.hpp) when
/// the role is unfit (`unfit_runtime_role`) or the schema has a relation
/// that is not listed. Run by the owner, in one transaction, so a running
/// serve never sees the role without its grants.
void grant_runtime_role(pqxx::transaction_base& txn, const std::string& role);

/// What the current user lacks of `runtime_grants()`, one item each, e.g.
/// "INSERT on hitl_audit_logs"; empty when it has them all.
std::vector<std::string> missing_runtime_grants(pqxx::transaction_base& txn);

/// What the current user may do that could rewrite history: superuser,
/// owner of the audit log, UPDATE/DELETE/TRUNCATE on it, TRIGGER on a table.
std::vector<std::string> excess_runtime_privileges(
  pqxx::transaction_base& txn);

} // namespace hitl
