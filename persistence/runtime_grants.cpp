#include "persistence/runtime_grants.hpp"

#include "persistence/migrations.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <set>

namespace hitl {

namespace {

// The service's relations in its schema. Only those named hitl_*: the
// schema may hold other things (an extension's views, an operator's tables)
// that are none of serve's business.
constexpr const char* schema_relations = R"(
  SELECT c.relname FROM pg_class c
  WHERE c.relnamespace = to_regnamespace(current_schema())
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND c.relname LIKE 'hitl\_%'
  ORDER BY c.relname)";

// Sequences that fill a column of the table (serial or identity).
constexpr const char* owned_sequences = R"(
  SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
  WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass($1::text)
    AND s.relkind = 'S' AND d.deptype IN ('a', 'i')
  ORDER BY s.relname)";

bool has_insert(const table_grant& g) {
  for (auto p : g.privileges)
    if (p == "INSERT")
      return true;
  return false;
}

std::string joined(const std::vector<std::string_view>& items,
                   pqxx::transaction_base* quote_with = nullptr) {
  std::string out;
  for (auto item : items) {
    if (!out.empty())
      out += ", ";
    out += quote_with ? quote_with->quote_name(std::string{item})
                      : std::string{item};
  }
  return out;
}

// A yes/no question to the catalog; NULL (no such object) is no.
template <class... Args>
bool yes(pqxx::transaction_base& txn, const std::string& sql,
         const Args&... args) {
  auto r = txn.exec_params(sql, args...);
  return !r.empty() && !r[0][0].is_null() && r[0][0].template as<bool>();
}

} // namespace

std::optional<std::string> unfit_runtime_role(pqxx::transaction_base& txn,
                                              const std::string& role) {
  auto who = txn.exec("SELECT current_user")[0][0].as<std::string>();
  auto r = txn.exec_params(
    "SELECT rolsuper OR rolbypassrls,"
    " pg_has_role($1::name, current_user, 'MEMBER')"
    " FROM pg_roles WHERE rolname = $1",
    role);
  if (r.empty())
    return "the runtime role '" + role + "' does not exist";
  if (role == who)
    return "the runtime role '" + role + "' is the owner that applies the "
           "migrations: it could rewrite the audit trail";
  if (r[0][0].as<bool>())
    return "the runtime role '" + role + "' is a superuser (or bypasses row "
           "security): it could rewrite the audit trail";
  if (r[0][1].as<bool>())
    return "the runtime role '" + role + "' is a member of the owner '" + who
           + "' and could act as it";
  auto owned = txn.exec_params(
    "SELECT c.relname FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner"
    " WHERE o.rolname = $1"
    " AND c.relnamespace = to_regnamespace(current_schema()) LIMIT 1",
    role);
  if (!owned.empty())
    return "the runtime role '" + role + "' owns "
           + owned[0][0].as<std::string>()
           + ": it could alter it and disable its triggers";
  return std::nullopt;
}

namespace {

void refuse_unlisted_relations(pqxx::transaction_base& txn) {
  std::set<std::string_view> listed;
  for (const auto& g : runtime_grants())
    listed.insert(g.table);
  for (const auto& row : txn.exec(schema_relations)) {
    auto name = row[0].as<std::string>();
    if (!listed.count(name))
      throw schema_error("relation " + name + " has no entry in the runtime "
                         "role's grants (persistence/runtime_grants.cpp): "
                         "list it, with what serve needs on it");
  }
}

} // namespace

const std::vector<table_grant>& runtime_grants() {
  // Read off the statements of persistence/. UPDATE is per column, so the
  // runtime role cannot rewrite a decision's content, its creator or its
  // quorum, only move its state; the version and updated_at columns are set
  // by the owner's trigger, which needs no privilege of the caller.
  static const std::vector<table_grant> all = {
    {"schema_migrations", {"SELECT"}, {}},
    {"hitl_decisions",
     {"SELECT", "INSERT"},
     {"decision", "decided_by", "decided_at", "reason", "comment",
      "escalation_level", "requires_escalation"}},
    {"hitl_audit_logs", {"SELECT", "INSERT"}, {}},
    // Written by the checkpoint signer; append-only like the log.
    {"hitl_audit_checkpoints", {"SELECT", "INSERT"}, {}},
    {"hitl_audit_prefix", {"SELECT"}, {}},
    {"hitl_approvals", {"SELECT", "INSERT"}, {}},
    {"hitl_comments", {"SELECT", "INSERT"}, {}},
    {"hitl_outbox",
     {"SELECT", "INSERT"},
     {"state", "attempts", "next_attempt_at", "last_error", "delivered_at",
      "claimed_by"}},
    // Tokens are issued and revoked by `hitl token` with the owner's
    // connection: serve only reads them and notes their last use, so it
    // cannot mint an identity.
    {"hitl_api_tokens", {"SELECT"}, {"last_used_at"}},
    // Membership (019): a node registers and renews its own lease, and
    // moves partitions' owners and epochs; the partitions' rows are made
    // by the migration.
    {"hitl_nodes",
     {"SELECT", "INSERT"},
     {"node_endpoint", "http_endpoint", "policy_version", "wire_version",
      "lease_until"}},
    {"hitl_partitions",
     {"SELECT"},
     {"owner_node", "epoch", "acquired_at", "chain_seq", "chain_hash"}},
    // Kept by the decisions' statement triggers, which run as the caller;
    // a partition's row is added by its first open decision (024).
    {"hitl_open_counts", {"SELECT", "INSERT"}, {"n"}},
    // Views for people at a psql prompt; serve reads the tables.
    {"hitl_pending_patches", {}, {}},
    {"hitl_decision_summary", {}, {}},
  };
  return all;
}

void grant_runtime_role(pqxx::transaction_base& txn, const std::string& role) {
  if (auto why = unfit_runtime_role(txn, role))
    throw schema_error(*why + ". Serve needs a role of its own: name "
                       "another with --runtime-role.");
  refuse_unlisted_relations(txn);
  auto grantee = txn.quote_name(role);
  auto schema = txn.quote_name(
    txn.exec("SELECT current_schema()")[0][0].as<std::string>());
  // Whatever an earlier version granted goes first, so the role ends with
  // exactly the list, even after a privilege was dropped from it.
  txn.exec("REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM "
           + grantee);
  txn.exec("REVOKE ALL ON ALL SEQUENCES IN SCHEMA " + schema + " FROM "
           + grantee);
  // Granted to PUBLIC by default; only its owner may grant it otherwise.
  if (!yes(txn,
           "SELECT has_schema_privilege($1::name, current_schema(), 'USAGE')",
           role))
    txn.exec("GRANT USAGE ON SCHEMA " + schema + " TO " + grantee);
  for (const auto& g : runtime_grants()) {
    auto table = txn.quote_name(std::string{g.table});
    if (!g.privileges.empty())
      txn.exec("GRANT " + joined(g.privileges) + " ON " + table + " TO "
               + grantee);
    if (!g.update_columns.empty())
      txn.exec("GRANT UPDATE (" + joined(g.update_columns, &txn) + ") ON "
               + table + " TO " + grantee);
    if (has_insert(g))
      for (const auto& s :
           txn.exec_params(owned_sequences, std::string{g.table}))
        txn.exec("GRANT USAGE ON SEQUENCE "
                 + txn.quote_name(s[0].as<std::string>()) + " TO "
                 + grantee);
  }
}

std::vector<std::string> missing_runtime_grants(pqxx::transaction_base& txn) {
  std::vector<std::string> missing;
  for (const auto& g : runtime_grants()) {
    std::string table{g.table};
    if (txn.exec_params("SELECT to_regclass($1::text)", table)[0][0]
          .is_null()) {
      missing.push_back("table " + table + " (not created)");
      continue;
    }
    for (auto p : g.privileges)
      if (!yes(txn, "SELECT has_table_privilege($1::text, $2::text)", table,
               std::string{p}))
        missing.push_back(std::string{p} + " on " + table);
    for (auto c : g.update_columns)
      if (!yes(txn,
               "SELECT has_column_privilege($1::text, $2::text, 'UPDATE')",
               table, std::string{c}))
        missing.push_back("UPDATE (" + std::string{c} + ") on " + table);
    if (has_insert(g))
      for (const auto& s : txn.exec_params(owned_sequences, table))
        if (!yes(txn, "SELECT has_sequence_privilege($1::text, 'USAGE')",
                 s[0].as<std::string>()))
          missing.push_back("USAGE on sequence " + s[0].as<std::string>());
  }
  return missing;
}

std::vector<std::string> excess_runtime_privileges(
  pqxx::transaction_base& txn) {
  std::vector<std::string> excess;
  auto r = txn.exec("SELECT rolsuper FROM pg_roles"
                    " WHERE rolname = current_user");
  if (!r.empty() && r[0][0].as<bool>())
    return {"superuser"};
  if (txn.exec("SELECT to_regclass('hitl_audit_logs')")[0][0].is_null())
    return excess;
  if (yes(txn, "SELECT pg_has_role(current_user, c.relowner, 'USAGE')"
               " FROM pg_class c WHERE c.oid = to_regclass($1::text)",
          std::string{"hitl_audit_logs"}))
    excess.push_back("owner of hitl_audit_logs");
  for (const char* p : {"UPDATE", "DELETE", "TRUNCATE"})
    if (yes(txn, "SELECT has_table_privilege($1::text, $2::text)",
            std::string{"hitl_audit_logs"}, std::string{p}))
      excess.push_back(std::string{p} + " on hitl_audit_logs");
  for (const auto& g : runtime_grants())
    if (yes(txn, "SELECT has_table_privilege(to_regclass($1::text), 'TRIGGER')",
            std::string{g.table}))
      excess.push_back("TRIGGER on " + std::string{g.table});
  return excess;
}

} // namespace hitl
