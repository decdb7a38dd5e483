#include "persistence/migrations.hpp"

#include "persistence/db_error.hpp"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace hitl {

namespace {

// Arbitrary but fixed: "hitl" in ASCII. Every node takes the same key.
constexpr long long migration_lock_key = 0x6869746c;

migration_report apply_locked(pqxx::connection& conn) {
  {
    pqxx::work txn{conn};
    txn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
             " version integer PRIMARY KEY,"
             " name text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())");
    txn.commit();
  }
  migration_report report;
  {
    pqxx::nontransaction q{conn};
    auto r = q.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    report.current_version = r[0][0].as<int>();
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
  return report;
}

void advisory(pqxx::connection& conn, const char* fn) {
  pqxx::nontransaction q{conn};
  q.exec(std::string{"SELECT "} + fn + "("
         + std::to_string(migration_lock_key) + ")");
}

} // namespace

migration_report apply_migrations(const std::string& database_url) {
  try {
    pqxx::connection conn{database_url};
    // A session lock: it spans the transactions below, and closing the
    // connection on any failure releases it.
    advisory(conn, "pg_advisory_lock");
    auto report = apply_locked(conn);
    advisory(conn, "pg_advisory_unlock");
    return report;
  } catch (...) {
    rethrow_as_db_error();
  }
}

} // namespace hitl
