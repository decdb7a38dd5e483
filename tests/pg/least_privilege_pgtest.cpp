// The two roles of SPEC §11 on a real PostgreSQL: `hitl migrate` as the
// owner grants the runtime role exactly what serve needs; the runtime role
// cannot rewrite history; serve as that role works end to end, and refuses
// to start on a schema or grants it cannot use.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/migrations.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <thread>
#include <unistd.h>

using namespace hitl;
using namespace hitl::test;
using json = nlohmann::json;

namespace {

// A role of the cluster that no other test knows, dropped at the end.
struct scratch_role {
  std::string name;
  std::string db_url;

  explicit scratch_role(std::string url) : db_url(std::move(url)) {
    static std::atomic<int> n{0};
    name = "hitl_rt_" + std::to_string(getpid()) + "_" + std::to_string(n++);
  }
  ~scratch_role() {
    try {
      if (sql_scalar(admin_url(), "SELECT count(*) FROM pg_roles"
                                  " WHERE rolname = '" + name + "'")
          == "0")
        return;
      sql_exec(db_url, "DROP OWNED BY " + name);
      sql_exec(admin_url(), "DROP ROLE " + name);
    } catch (const std::exception& e) {
      MESSAGE("could not drop role " << name << ": " << e.what());
    }
  }
};

std::string privilege(const std::string& url, const std::string& role,
                      const std::string& table, const std::string& what) {
  return sql_scalar(url, "SELECT has_table_privilege('" + role + "', '"
                           + table + "', '" + what + "')");
}

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

// Runs `sql` as the runtime role; returns the SQLSTATE it fails with, or
// "ok".
std::string as_runtime(const std::string& url, const std::string& sql) {
  pqxx::connection conn{runtime_url(url)};
  pqxx::work w{conn};
  try {
    w.exec(sql);
    w.commit();
    return "ok";
  } catch (const pqxx::insufficient_privilege&) {
    return "42501";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate() + " " + e.what();
  }
}

} // namespace

TEST_CASE("migrate --runtime-role creates the role NOLOGIN and grants exactly "
          "what serve needs, again on every run") {
  auto url = fresh_database("hitl_grants");
  scratch_role role{url};
  auto first = run_hitl(
    {"migrate", "--database-url", url, "--runtime-role", role.name});
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  CHECK(first.err.find("created role " + role.name) != std::string::npos);
  CHECK(sql_scalar(url, "SELECT rolcanlogin FROM pg_roles WHERE rolname = '"
                          + role.name + "'")
        == "f");

  auto r = role.name;
  CHECK(privilege(url, r, "hitl_audit_logs", "INSERT") == "t");
  CHECK(privilege(url, r, "hitl_audit_logs", "SELECT") == "t");
  for (const char* denied : {"UPDATE", "DELETE", "TRUNCATE", "TRIGGER",
                             "REFERENCES"})
    CHECK_MESSAGE(privilege(url, r, "hitl_audit_logs", denied) == "f",
                  denied);
  // Checkpoints: appended and read, like the log.
  CHECK(privilege(url, r, "hitl_audit_checkpoints", "INSERT") == "t");
  CHECK(privilege(url, r, "hitl_audit_checkpoints", "SELECT") == "t");
  for (const char* denied : {"UPDATE", "DELETE", "TRUNCATE", "TRIGGER",
                             "REFERENCES"})
    CHECK_MESSAGE(privilege(url, r, "hitl_audit_checkpoints", denied) == "f",
                  denied);
  // Decisions change state only: UPDATE of some columns, never DELETE.
  CHECK(sql_scalar(url, "SELECT has_column_privilege('" + r
                          + "', 'hitl_decisions', 'decision', 'UPDATE')")
        == "t");
  for (const char* column : {"created_by", "approvals_required", "version",
                             "patch_id", "sla_deadline"})
    CHECK_MESSAGE(sql_scalar(url, "SELECT has_column_privilege('" + r
                                    + "', 'hitl_decisions', '" + column
                                    + "', 'UPDATE')")
                    == "f",
                  column);
  CHECK(privilege(url, r, "hitl_decisions", "DELETE") == "f");
  CHECK(privilege(url, r, "hitl_approvals", "DELETE") == "f");
  // Serve reads tokens; it cannot issue one.
  CHECK(privilege(url, r, "hitl_api_tokens", "INSERT") == "f");
  // The sequences of the tables it inserts into, and only those.
  CHECK(sql_scalar(url, "SELECT has_sequence_privilege('" + r
                          + "', 'hitl_comments_comment_id_seq', 'USAGE')")
        == "t");
  CHECK(sql_scalar(url, "SELECT has_sequence_privilege('" + r
                          + "', 'hitl_outbox_id_seq', 'USAGE')")
        == "t");
  CHECK(sql_scalar(url, "SELECT has_sequence_privilege('" + r
                          + "', 'hitl_api_tokens_id_seq', 'USAGE')")
        == "f");
  CHECK(sql_scalar(url, "SELECT has_schema_privilege('" + r
                          + "', 'public', 'CREATE')")
        == "f");

  // Re-applied on every run: a privilege granted by hand goes, one revoked
  // by hand comes back, and the role is not created twice.
  sql_exec(url, "GRANT UPDATE, DELETE ON hitl_audit_logs TO " + r);
  sql_exec(url, "REVOKE INSERT ON hitl_audit_logs FROM " + r);
  auto second = run_hitl(
    {"migrate", "--database-url", url, "--runtime-role", role.name});
  REQUIRE_MESSAGE(second.exit_code == 0, second.err);
  CHECK(second.err.find("nothing to do") != std::string::npos);
  CHECK(second.err.find("created role") == std::string::npos);
  CHECK(privilege(url, r, "hitl_audit_logs", "INSERT") == "t");
  CHECK(privilege(url, r, "hitl_audit_logs", "UPDATE") == "f");
  CHECK(privilege(url, r, "hitl_audit_logs", "DELETE") == "f");

  // A table of the service that the grants do not list stops the run, by
  // name, instead of failing later in serve.
  sql_exec(url, "CREATE TABLE hitl_unlisted (id int)");
  auto third = run_hitl(
    {"migrate", "--database-url", url, "--runtime-role", role.name});
  CHECK(third.exit_code != 0);
  CHECK_MESSAGE(third.err.find("hitl_unlisted has no entry in the runtime "
                               "role's grants")
                  != std::string::npos,
                third.err);
}

TEST_CASE("migrate refuses the owner as the runtime role") {
  auto url = fresh_database("hitl_grants_owner");
  auto r = run_hitl(
    {"migrate", "--database-url", url, "--runtime-role", "postgres"});
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("'postgres' is the owner that applies the "
                           "migrations")
                  != std::string::npos,
                r.err);
}

TEST_CASE("the runtime role cannot rewrite history") {
  auto url = migrated_database("hitl_runtime_denied");
  // One decision with its audit entry, written by the owner for the test.
  sql_exec(url,
           "INSERT INTO hitl_decisions (decision_id, patch_id, apv_id,"
           " package_name, current_version, target_version, severity,"
           " policy_version, content_hash, created_by) VALUES ('d-1', 'p-1',"
           " 'apv-1', 'zlib', '1', '2', 'high', '1.test', repeat('a', 64),"
           " 'wargaming');"
           "INSERT INTO hitl_audit_logs (partition_id, pseq, epoch,"
           " decision_id, action, performed_by, \"timestamp\", prev_hash,"
           " hash) VALUES (hitl_partition_of('p-1'), 1, 0, 'd-1', 'created',"
           " 'wargaming', now(), repeat('0', 64), repeat('1', 64));"
           "INSERT INTO hitl_audit_checkpoints (seq, hash, signed_at,"
           " entry_count, key_id, signature) VALUES (1, repeat('1', 64),"
           " now(), 1, 'ab', 'sig')");
  const std::string denied = "42501"; // insufficient_privilege
  const char* refused[] = {
    // The audit log: no change, no removal.
    "UPDATE hitl_audit_logs SET performed_by = 'mallory'",
    "DELETE FROM hitl_audit_logs",
    "TRUNCATE hitl_audit_logs",
    // Nor where its common prefix ends.
    "UPDATE hitl_audit_prefix SET seq = 7",
    "DELETE FROM hitl_audit_prefix",
    "TRUNCATE hitl_audit_prefix",
    "INSERT INTO hitl_audit_prefix (only_row, seq, hash)"
    " VALUES (false, 7, repeat('1', 64))",
    // Nor its checkpoints.
    "UPDATE hitl_audit_checkpoints SET seq = 2",
    "DELETE FROM hitl_audit_checkpoints",
    "TRUNCATE hitl_audit_checkpoints",
    // Triggers stay on: neither by table nor for the session.
    "ALTER TABLE hitl_audit_logs DISABLE TRIGGER"
    " hitl_audit_logs_no_update_delete",
    "ALTER TABLE hitl_audit_logs DISABLE TRIGGER ALL",
    "ALTER TABLE hitl_audit_checkpoints DISABLE TRIGGER ALL",
    "ALTER TABLE hitl_decisions DISABLE TRIGGER hitl_decisions_touch",
    "SET session_replication_role = replica",
    "CREATE TRIGGER t BEFORE UPDATE ON hitl_decisions FOR EACH ROW"
    " EXECUTE FUNCTION hitl_touch_decision()",
    // No ALTER of any table.
    "ALTER TABLE hitl_audit_logs ADD COLUMN forged text",
    "ALTER TABLE hitl_audit_logs DROP CONSTRAINT"
    " hitl_audit_logs_in_partition",
    "ALTER TABLE hitl_decisions DROP CONSTRAINT"
    " hitl_decisions_decided_by_iff_final",
    "ALTER TABLE hitl_approvals OWNER TO hitl_test_runtime",
    "ALTER TABLE hitl_api_tokens ADD COLUMN forged text",
    "ALTER TABLE hitl_outbox ADD COLUMN forged text",
    "ALTER TABLE hitl_comments ADD COLUMN forged text",
    "ALTER TABLE schema_migrations ADD COLUMN forged text",
    "DROP TABLE hitl_approvals",
    // Nothing new in the schema.
    "CREATE TABLE hitl_forged (id int)",
    "CREATE VIEW hitl_forged AS SELECT 1",
    "CREATE FUNCTION hitl_forged() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    // A decision's content, creator and quorum, its version, its approvals.
    "UPDATE hitl_decisions SET created_by = 'mallory'",
    "UPDATE hitl_decisions SET approvals_required = 1",
    "UPDATE hitl_decisions SET version = 1",
    "DELETE FROM hitl_decisions",
    "DELETE FROM hitl_approvals",
    "UPDATE hitl_approvals SET reviewer = 'mallory'",
    // No identity minted, no role taken.
    "INSERT INTO hitl_api_tokens (name, role, token_hash)"
    " VALUES ('mallory', 'reviewer', repeat('b', 64))",
    "SET ROLE postgres",
  };
  for (std::string sql : refused) {
    CAPTURE(sql);
    CHECK(as_runtime(url, sql) == denied);
  }
  // What it may do: append, and move a decision's state (the version
  // trigger still runs).
  CHECK(as_runtime(url, "UPDATE hitl_decisions SET decision = 'cancelled',"
                        " decided_by = 'x', decided_at = now()")
        == "ok");
  CHECK(sql_scalar(url, "SELECT version FROM hitl_decisions") == "2");
  CHECK(sql_scalar(url, "SELECT performed_by FROM hitl_audit_logs")
        == "wargaming");
  CHECK(sql_scalar(url, "SELECT seq FROM hitl_audit_checkpoints") == "1");
  CHECK(sql_scalar(url, "SELECT seq || ' ' || hash FROM hitl_audit_prefix")
        == "0 " + std::string(64, '0'));
  CHECK(sql_scalar(url, "SELECT count(*) FROM information_schema.columns"
                        " WHERE column_name = 'forged'")
        == "0");
}

TEST_CASE("serve as the runtime role: create, approve, verify") {
  auto url = fresh_database("hitl_runtime_e2e");
  // Tokens are issued with the owner's connection (it also migrates).
  auto svc = make_token(url, "wargaming", "service");
  auto rev = make_token(url, "alice", "reviewer");
  auto aud = make_token(url, "audrey", "auditor");
  served_hitl s{url};
  CHECK(s.log().find("can rewrite the audit trail") == std::string::npos);
  auto auth = [](const std::string& t) {
    return std::vector<std::string>{"Authorization: Bearer " + t,
                                    "Content-Type: application/json"};
  };
  json body{{"decision_id", "dec-rt"},
            {"patch_id", "p-rt"},
            {"patch_metadata",
             {{"apv_id", "a"}, {"package_name", "zlib"},
              {"current_version", "1"}, {"target_version", "2"},
              {"severity", "high"}}}};
  auto url_of = [&](const std::string& path) { return s.base_url() + path; };
  auto created = http_request("POST", url_of("/hitl/admin/create-decision"),
                              body.dump(), auth(svc));
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto commented = http_request("POST", url_of("/hitl/patches/p-rt/comment"),
                                R"({"comment":"looks fine"})", auth(rev));
  CHECK_MESSAGE(commented.status == 201, commented.body);
  auto approved = http_request("POST", url_of("/hitl/patches/p-rt/approve"),
                               "{}", auth(rev));
  REQUIRE_MESSAGE(approved.status == 200, approved.body);
  CHECK(json::parse(approved.body)["decision"] == "approved");
  auto verified =
    http_request("GET", s.base_url() + "/hitl/audit/verify", {}, auth(aud));
  REQUIRE(verified.status == 200);
  CHECK_MESSAGE(json::parse(verified.body)["intact"] == true, verified.body);
  // Every connection serve holds is the runtime role's (the owner's, for
  // the migration, is closed; its backend may take a moment to go).
  auto db = url.substr(url.find("dbname=") + 7);
  db = db.substr(0, db.find(' '));
  auto users = [&] {
    return sql_scalar(admin_url(), "SELECT string_agg(DISTINCT usename, ',')"
                                   " FROM pg_stat_activity WHERE datname = '"
                                     + db + "'");
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (users() != test_runtime_role
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(users() == test_runtime_role);
  // The chain it wrote verifies from the CLI, as the runtime role too.
  auto cli = run_hitl({"audit", "verify", "--database-url", runtime_url(url)});
  CHECK_MESSAGE(cli.exit_code == 0, cli.out << cli.err);
}

TEST_CASE("serve refuses an outdated schema or missing grants, naming the "
          "command to run") {
  auto url = fresh_database("hitl_runtime_refuse");
  auto serve = [&] {
    return run_hitl({"serve", "--listen",
                     "127.0.0.1:" + std::to_string(free_port()),
                     "--database-url", runtime_url(url)});
  };
  // An empty database.
  auto empty = serve();
  CHECK(empty.exit_code != 0);
  CHECK_MESSAGE(empty.out.find("the database schema is at version 0 and "
                               "this hitl needs version "
                               + std::to_string(latest_schema_version()))
                  != std::string::npos,
                empty.out);
  CHECK(empty.out.find("run `hitl migrate --database-url OWNER_URL "
                       "--runtime-role hitl_test_runtime`")
        != std::string::npos);
  CHECK(sql_scalar(url, "SELECT to_regclass('hitl_decisions') IS NULL")
        == "t");

  // One migration behind.
  migrate_options opts;
  opts.runtime_role = test_runtime_role;
  apply_migrations(url, opts);
  sql_exec(url, "DELETE FROM schema_migrations WHERE version = "
                  + std::to_string(latest_schema_version()));
  auto behind = serve();
  CHECK(behind.exit_code != 0);
  CHECK_MESSAGE(behind.out.find("is at version "
                                + std::to_string(latest_schema_version() - 1))
                  != std::string::npos,
                behind.out);

  // Current, but the role lacks its grants.
  sql_exec(url, "INSERT INTO schema_migrations (version, name) VALUES ("
                  + std::to_string(latest_schema_version()) + ", 'again')");
  sql_exec(url, "REVOKE INSERT ON hitl_audit_logs FROM hitl_test_runtime");
  auto ungranted = serve();
  CHECK(ungranted.exit_code != 0);
  CHECK_MESSAGE(ungranted.out.find("role 'hitl_test_runtime' lacks what serve "
                                   "needs (INSERT on hitl_audit_logs)")
                  != std::string::npos,
                ungranted.out);

  // With the owner's connection, serve migrates and grants, then serves.
  served_hitl s{url};
  CHECK(http_request("GET", s.base_url() + "/health").status == 200);
  CHECK(privilege(url, test_runtime_role, "hitl_audit_logs", "INSERT")
        == "t");
}

TEST_CASE("serve as the schema's owner starts, with a warning") {
  auto url = fresh_database("hitl_serve_owner");
  REQUIRE(run_hitl({"migrate", "--database-url", url}).exit_code == 0);
  served_hitl s{url, {}, serve_as::given_url};
  CHECK(http_request("GET", s.base_url() + "/health").status == 200);
  CHECK_MESSAGE(s.log().find("serving as role 'postgres', which can rewrite "
                             "the audit trail (superuser)")
                  != std::string::npos,
                s.log());
}
