#include "persistence/migrations.hpp"

#include "persistence/db_error.hpp"
#include "persistence/runtime_grants.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace hitl {

namespace {

// Arbitrary but fixed: "hitl" in ASCII. Every node takes the same key.
constexpr long long migration_lock_key = 0x6869746c;

bool schema_table_exists(pqxx::transaction_base& txn) {
  return !txn.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null();
}

int read_version(pqxx::transaction_base& txn) {
  return txn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")
    [0][0]
    .as<int>();
}

// Before any migration, so that a role that cannot be made leaves the
// schema as it was.
bool ensure_role(pqxx::connection& conn, const std::string& role) {
  auto exists = [&] {
    pqxx::nontransaction q{conn};
    return !q.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
              .empty();
  };
  if (exists())
    return false;
  try {
    pqxx::nontransaction q{conn};
    q.exec("CREATE ROLE " + q.quote_name(role) + " NOLOGIN");
    return true;
  } catch (const pqxx::insufficient_privilege&) {
    throw schema_error("the runtime role '" + role + "' does not exist and "
                       "this role may not create it: create it as a "
                       "superuser (CREATE ROLE " + role
                       + " LOGIN PASSWORD '...'), or name an existing role "
                         "with --runtime-role");
  } catch (const pqxx::sql_error&) {
    // Created meanwhile by another migrator (duplicate_object, or the
    // unique index of pg_authid when both got that far).
    if (exists())
      return false;
    throw;
  }
}

// Patch ids go to their partitions by the SHA-256 of their UTF-8 bytes,
// on the nodes and in hitl_partition_of alike. In another encoding the
// database's bytes of an id that is not ASCII differ, and the two would
// disagree on who owns it. Checked before anything is changed.
void require_utf8(pqxx::connection& conn) {
  pqxx::nontransaction q{conn};
  auto encoding = q.exec("SHOW server_encoding")[0][0].as<std::string>();
  if (encoding != "UTF8")
    throw schema_error("the database's encoding is " + encoding
                       + "; hitl needs a UTF8 database (CREATE DATABASE ..."
                         " ENCODING 'UTF8' TEMPLATE template0)");
}

migration_report apply_locked(pqxx::connection& conn,
                              const migrate_options& opts) {
  require_utf8(conn);
  migration_report report;
  if (opts.runtime_role && !opts.lenient)
    report.role_created = ensure_role(conn, *opts.runtime_role);
  {
    // Created only when missing: CREATE TABLE IF NOT EXISTS would still
    // need the right to create, which a non-owner has not.
    pqxx::work txn{conn};
    if (!schema_table_exists(txn))
      txn.exec("CREATE TABLE schema_migrations ("
               " version integer PRIMARY KEY,"
               " name text NOT NULL,"
               " applied_at timestamptz NOT NULL DEFAULT now())");
    report.current_version = read_version(txn);
    txn.commit();
  }
  for (const auto& m : embedded_migrations()) {
    if (m.version <= report.current_version)
      continue;
    pqxx::work txn{conn};
    txn.exec(m.sql);
    txn.exec_params("INSERT INTO schema_migrations (version, name) "
                    "VALUES ($1, $2)",
                    m.version, m.name);
    txn.commit();
    report.applied.push_back(m.name);
    report.current_version = m.version;
  }
  if (!opts.runtime_role)
    return report;
  // Every run, not only when a migration was applied: the grants of a
  // binary follow its statements, which may change with no new table.
  pqxx::work txn{conn};
  if (opts.lenient) {
    if (auto why = unfit_runtime_role(txn, *opts.runtime_role)) {
      report.grants_skipped = *why;
      return report;
    }
  }
  grant_runtime_role(txn, *opts.runtime_role);
  txn.commit();
  report.granted_role = *opts.runtime_role;
  return report;
}

void advisory(pqxx::connection& conn, const char* fn) {
  pqxx::nontransaction q{conn};
  q.exec(std::string{"SELECT "} + fn + "("
         + std::to_string(migration_lock_key) + ")");
}

} // namespace

int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

migration_report apply_migrations(const std::string& database_url,
                                  const migrate_options& opts) {
  try {
    pqxx::connection conn{database_url};
    // A session lock: it spans the transactions below, and closing the
    // connection on any failure releases it.
    advisory(conn, "pg_advisory_lock");
    auto report = apply_locked(conn, opts);
    advisory(conn, "pg_advisory_unlock");
    return report;
  } catch (const schema_error&) {
    throw;
  } catch (...) {
    rethrow_as_db_error();
  }
}

runtime_check check_runtime_role(const std::string& database_url) {
  try {
    pqxx::connection conn{database_url};
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn{conn};
    runtime_check check;
    check.user = txn.exec("SELECT current_user")[0][0].as<std::string>();
    if (schema_table_exists(txn)
        && !txn.exec("SELECT has_table_privilege('schema_migrations',"
                     " 'SELECT')")[0][0]
              .as<bool>())
      check.missing.push_back("SELECT on schema_migrations");
    else if (schema_table_exists(txn))
      check.schema_version = read_version(txn);
    if (check.schema_version >= latest_schema_version())
      check.missing = missing_runtime_grants(txn);
    check.excess = excess_runtime_privileges(txn);
    return check;
  } catch (...) {
    rethrow_as_db_error();
  }
}

} // namespace hitl
