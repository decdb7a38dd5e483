// The schema on a real PostgreSQL: migrations, CHECKs, the immutable audit
// table, and the pending view's SLA status.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/migrations.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace hitl;
using namespace hitl::test;

namespace {

// A valid row; each CHECK case overrides one column.
const char* valid_decision_columns =
  "decision_id, patch_id, apv_id, package_name, current_version,"
  " target_version, severity, policy_version, content_hash, created_by";

std::string valid_values(const std::string& id) {
  return "'" + id + "', 'patch-" + id
         + "', 'apv-1', 'openssl', '1.0', '1.1', 'high', '1.test',"
           " repeat('a', 64), 'wargaming'";
}

void insert_valid(pqxx::connection& conn, const std::string& id) {
  pqxx::work w{conn};
  w.exec(std::string{"INSERT INTO hitl_decisions ("} + valid_decision_columns
         + ") VALUES (" + valid_values(id) + ")");
  w.commit();
}

// An INSERT of a valid entry of partition 1's chain (seq from its
// sequence), but for the columns given in `change`.
std::string audit_insert(
  const std::vector<std::pair<std::string, std::string>>& change = {}) {
  std::vector<std::pair<std::string, std::string>> columns{
    {"partition_id", "1"},
    {"pseq", "1"},
    {"epoch", "0"},
    {"decision_id", "'ok-1'"},
    {"action", "'created'"},
    {"performed_by", "'x'"},
    {"\"timestamp\"", "now()"},
    {"prev_hash", "repeat('0', 64)"},
    {"hash", "repeat('1', 64)"}};
  for (const auto& [column, value] : change) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const auto& c) { return c.first == column; });
    if (it == columns.end())
      columns.emplace_back(column, value);
    else
      it->second = value;
  }
  std::string names, values;
  for (const auto& [column, value] : columns) {
    names += (names.empty() ? "" : ", ") + column;
    values += (values.empty() ? "" : ", ") + value;
  }
  return "INSERT INTO hitl_audit_logs (" + names + ") VALUES (" + values
         + ")";
}

} // namespace

TEST_CASE("migrations apply on an empty database and re-apply as a no-op") {
  auto url = fresh_database("hitl_migrate");
  auto first = apply_migrations(url);
  CHECK(first.applied.size() == embedded_migrations().size());
  CHECK(first.current_version == embedded_migrations().back().version);
  auto second = apply_migrations(url);
  CHECK(second.applied.empty());
  CHECK(second.current_version == first.current_version);
  CHECK(sql_scalar(url, "SELECT count(*) FROM schema_migrations")
        == std::to_string(embedded_migrations().size()));
  for (const char* table : {"hitl_decisions", "hitl_audit_logs",
                            "hitl_comments", "hitl_approvals", "hitl_outbox",
                            "hitl_api_tokens"})
    CHECK_MESSAGE(sql_scalar(url, std::string{"SELECT to_regclass('"} + table
                                    + "') IS NOT NULL")
                    == "t",
                  table);
  for (const char* view : {"hitl_pending_patches", "hitl_decision_summary"})
    CHECK(sql_scalar(url, std::string{"SELECT to_regclass('"} + view
                            + "') IS NOT NULL")
          == "t");
  // The ten indexes of the original design are all there.
  for (const char* index :
       {"idx_hitl_decisions_status", "idx_hitl_decisions_priority",
        "idx_hitl_decisions_created_at", "idx_hitl_decisions_apv_id",
        "idx_hitl_decisions_cve_id", "idx_hitl_pending_priority",
        "idx_hitl_ml_accuracy", "idx_hitl_audit_decision_id",
        "idx_hitl_audit_timestamp", "idx_hitl_audit_action"})
    CHECK_MESSAGE(sql_scalar(url, std::string{"SELECT to_regclass('"} + index
                                    + "') IS NOT NULL")
                    == "t",
                  index);
}

TEST_CASE("concurrent migrators apply each migration once") {
  auto url = fresh_database("hitl_migrate_race");
  std::vector<std::thread> threads;
  std::atomic<int> applied{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      applied += static_cast<int>(apply_migrations(url).applied.size());
    });
  for (auto& t : threads)
    t.join();
  CHECK(applied == static_cast<int>(embedded_migrations().size()));
}

TEST_CASE("every CHECK on hitl_decisions rejects a bad row") {
  auto url = migrated_database("hitl_checks");
  pqxx::connection conn{url};
  insert_valid(conn, "ok-1"); // the baseline is valid
  struct bad {
    const char* what;
    const char* assignment;
  };
  const bad cases[] = {
    {"decision_id charset", "decision_id = 'bad id!'"},
    {"empty patch_id", "patch_id = ''"},
    {"severity enum", "severity = 'urgent'"},
    {"priority enum", "priority = 'asap'"},
    {"decision enum", "decision = 'maybe'"},
    {"cvss above 10", "cvss_score = 10.5"},
    {"cvss below 0", "cvss_score = -0.1"},
    {"confidence above 1", "ml_confidence = 1.01, ml_prediction = true"},
    {"confidence below 0", "ml_confidence = -0.01, ml_prediction = true"},
    {"negative patch size", "patch_size_lines = -1"},
    {"negative ml time", "ml_execution_time_ms = -1"},
    {"negative wargaming time", "wargaming_execution_time_ms = -1"},
    {"approvals_required 0", "approvals_required = 0"},
    {"negative escalation", "escalation_level = -1"},
    {"content hash", "content_hash = 'xyz'"},
    {"content hash, 63 hex digits", "content_hash = repeat('a', 63)"},
    {"content hash, upper case", "content_hash = repeat('A', 64)"},
    {"content hash, inner space", "content_hash = 'a ' || repeat('a', 62)"},
    {"decision_id empty", "decision_id = ''"},
    {"decision_id slash", "decision_id = 'a/b'"},
    {"decision_id non-ASCII", "decision_id = 'caf\u00e9'"},
    {"decision_id newline", "decision_id = 'a' || chr(10) || 'b'"},
    {"decision_id bracket and caret", "decision_id = 'a[^]b'"},
    {"decision_id backslash", "decision_id = 'a\\b'"},
    {"content hash, trailing newline",
     "content_hash = repeat('a', 63) || chr(10)"},
    {"final without decided_at",
     "decision = 'approved', decided_by = 'bob'"},
    {"open with decided_at", "decided_at = now(), decided_by = 'bob'"},
    {"rejected without reason",
     "decision = 'rejected', decided_by = 'bob', decided_at = now()"},
    {"escalated at level 0", "decision = 'escalated'"},
    {"ml half present", "ml_confidence = 0.5"},
    {"wargaming half present", "wargaming_passed = true"},
    {"shap not an object", "ml_shap_values = '[1,2]'"},
  };
  for (const auto& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    pqxx::work w{conn};
    CHECK_THROWS_AS(w.exec(std::string{"UPDATE hitl_decisions SET "}
                           + c.assignment + " WHERE decision_id = 'ok-1'"),
                    pqxx::check_violation);
  }
  // The widest values the charset and length rules allow still pass (the
  // transaction is rolled back: the later cases need ok-1 as it was).
  {
    pqxx::work w{conn};
    CHECK_NOTHROW(w.exec(
      "UPDATE hitl_decisions SET decision_id = rpad('AZaz09._:-', 255, 'x'),"
      " content_hash = repeat('0123456789abcdef', 4)"
      " WHERE decision_id = 'ok-1'"));
  }
  // A second open decision for the same patch is refused.
  {
    pqxx::work w{conn};
    CHECK_THROWS_AS(
      w.exec(std::string{"INSERT INTO hitl_decisions ("}
             + valid_decision_columns
             + ") VALUES ('ok-2', 'patch-ok-1', 'apv-1', 'openssl', '1.0',"
               " '1.1', 'high', '1.test', repeat('a', 64), 'wargaming')"),
      pqxx::unique_violation);
  }
  // An audit row as a partition's entry must be goes in (rolled back); each
  // of the rows after it has one fault.
  {
    pqxx::work w{conn};
    CHECK_NOTHROW(w.exec(audit_insert()));
  }
  // Checks on the other tables.
  const std::string other[] = {
    "INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, package_name,"
    " current_version, target_version, severity, policy_version,"
    " content_hash, created_by, version) VALUES ('v0', 'p-v0', 'a', 'p',"
    " '1', '2', 'low', '1.x', repeat('a', 64), 'svc', 0)",
    audit_insert({{"action", "'deleted'"}}),
    audit_insert({{"seq", "0"}}),
    audit_insert({{"prev_hash", "'short'"}}),
    audit_insert({{"hash", "repeat('g', 64)"}}),
    audit_insert({{"prev_hash", "repeat('0', 63)"}}),
    // Since 021 every new entry is a partition's: none joins the common
    // prefix, and its place must be one.
    audit_insert({{"partition_id", "NULL"}, {"pseq", "NULL"},
                  {"epoch", "NULL"}}),
    audit_insert({{"pseq", "NULL"}}),
    audit_insert({{"epoch", "NULL"}}),
    audit_insert({{"partition_id", "256"}}),
    audit_insert({{"partition_id", "-1"}}),
    audit_insert({{"pseq", "0"}}),
    audit_insert({{"epoch", "-1"}}),
    "INSERT INTO hitl_comments (decision_id, author, comment)"
    " VALUES ('ok-1', 'bob', '')",
    "INSERT INTO hitl_api_tokens (name, role, token_hash)"
    " VALUES ('bob', 'root', repeat('a', 64))",
    "INSERT INTO hitl_api_tokens (name, role, token_hash)"
    " VALUES ('bad name', 'admin', repeat('a', 64))",
    "INSERT INTO hitl_outbox (event, decision_id, target_url, payload)"
    " VALUES ('decision.exploded', 'ok-1', 'http://x', '{}')",
    "INSERT INTO hitl_outbox (event, decision_id, target_url, payload)"
    " VALUES ('decision.created', 'ok-1', 'ftp://x', '{}')",
    "INSERT INTO hitl_outbox (event, decision_id, target_url, payload, state)"
    " VALUES ('decision.created', 'ok-1', 'http://x', '{}', 'delivered')",
  };
  for (const auto& sql : other) {
    CAPTURE(sql);
    pqxx::work w{conn};
    CHECK_THROWS_AS(w.exec(sql), pqxx::check_violation);
  }
  // The other 64-hex-digit columns (026): each bad form refused by its
  // check, a good one taken (the prefix's one row is there already: a good
  // hash passes its check and reaches the key).
  struct hash_column {
    std::string sql;
    bool one_row_there = false;
  };
  const hash_column hash_columns[] = {
    {"UPDATE hitl_partitions SET chain_hash = {} WHERE partition_id = 7"},
    {"INSERT INTO hitl_api_tokens (name, role, token_hash)"
     " VALUES ('hash-check', 'admin', {})"},
    {"INSERT INTO hitl_audit_checkpoints (seq, hash, signed_at, entry_count,"
     " key_id, signature) VALUES (1, {}, now(), 1, 'abc', 'c2ln')"},
    {"INSERT INTO hitl_audit_prefix (seq, hash) VALUES (1, {})", true},
  };
  const std::string bad_hashes[] = {
    "'xyz'", "repeat('a', 63)", "repeat('A', 64)", "repeat('g', 64)",
    "'a ' || repeat('a', 62)", "repeat('a', 63) || chr(10)"};
  auto with = [](std::string sql, const std::string& value) {
    return sql.replace(sql.find("{}"), 2, value);
  };
  for (const auto& column : hash_columns) {
    const auto& sql = column.sql;
    for (const auto& value : bad_hashes) {
      CAPTURE(with(sql, value));
      pqxx::work w{conn};
      CHECK_THROWS_AS(w.exec(with(sql, value)), pqxx::check_violation);
    }
    CAPTURE(sql);
    pqxx::work w{conn};
    auto good = with(sql, "repeat('0123456789abcdef', 4)");
    if (column.one_row_there)
      CHECK_THROWS_AS(w.exec(good), pqxx::unique_violation);
    else
      CHECK_NOTHROW(w.exec(good));
  }
}

TEST_CASE("triggers keep version, updated_at and the agreement flag true") {
  auto url = migrated_database("hitl_triggers");
  pqxx::connection conn{url};
  insert_valid(conn, "t-1");
  pqxx::work w{conn};
  auto before = w.exec("SELECT version, updated_at FROM hitl_decisions")[0];
  w.exec("UPDATE hitl_decisions SET ml_confidence = 0.9, ml_prediction = true,"
         " wargaming_phase1 = true, wargaming_phase2 = true,"
         " wargaming_passed = true, ml_wargaming_agreement = false");
  auto after = w.exec("SELECT version, ml_wargaming_agreement"
                      " FROM hitl_decisions")[0];
  CHECK(after[0].as<int>() == before[0].as<int>() + 1);
  CHECK(after[1].as<bool>());
  w.exec("UPDATE hitl_decisions SET wargaming_passed = false");
  CHECK_FALSE(w.exec("SELECT ml_wargaming_agreement FROM hitl_decisions")[0][0]
                .as<bool>());
}

TEST_CASE("the database refuses UPDATE, DELETE and TRUNCATE of audit rows") {
  auto url = migrated_database("hitl_audit_immutable");
  pqxx::connection conn{url};
  insert_valid(conn, "a-1");
  {
    pqxx::work w{conn};
    w.exec(audit_insert({{"decision_id", "'a-1'"}, {"performed_by", "'svc'"}}));
    w.commit();
  }
  for (const char* sql :
       {"UPDATE hitl_audit_logs SET performed_by = 'mallory'",
        "DELETE FROM hitl_audit_logs", "TRUNCATE hitl_audit_logs"}) {
    CAPTURE(sql);
    pqxx::work w{conn};
    CHECK_THROWS_AS(w.exec(sql), pqxx::insufficient_privilege);
  }
  CHECK(sql_scalar(url, "SELECT performed_by FROM hitl_audit_logs") == "svc");
}

TEST_CASE("the pending view's SLA status on either side of each deadline") {
  auto url = migrated_database("hitl_sla_view");
  // The rule itself, at exact instants: window 300 s, at risk in the last 75.
  auto status_at = [&](const char* offset) {
    return sql_scalar(url, std::string{"SELECT hitl_sla_status("
                                       "'2026-01-01 00:00:00+00',"
                                       " '2026-01-01 00:05:00+00',"
                                       " '2026-01-01 00:05:00+00'::timestamptz"
                                       " + interval '"}
                             + offset + "')");
  };
  CHECK(status_at("-300 seconds") == "ok");
  CHECK(status_at("-75 seconds") == "ok");
  CHECK(status_at("-74.999999 seconds") == "at_risk");
  CHECK(status_at("-1 microsecond") == "at_risk");
  CHECK(status_at("0 seconds") == "breached");
  CHECK(status_at("1 hour") == "breached");
  CHECK(sql_scalar(url, "SELECT hitl_sla_status(now(), NULL, now())") == "ok");

  // The view, with rows around now().
  pqxx::connection conn{url};
  struct row {
    const char* id;
    const char* created;
    const char* deadline;
    const char* expected;
  };
  const row rows[] = {
    {"fresh", "now() - interval '10 s'", "now() + interval '290 s'", "ok"},
    // At risk for the 200 s after the insert: far more than the test takes.
    {"risky", "now() - interval '2800 s'", "now() + interval '200 s'",
     "at_risk"},
    {"late", "now() - interval '301 s'", "now() - interval '1 s'", "breached"},
    {"nosla", "now() - interval '9 days'", "NULL", "ok"},
  };
  {
    pqxx::work w{conn};
    for (const auto& r : rows)
      w.exec(std::string{"INSERT INTO hitl_decisions ("}
             + valid_decision_columns
             + ", created_at, sla_deadline) VALUES (" + valid_values(r.id)
             + ", " + r.created + ", " + r.deadline + ")");
    w.commit();
  }
  for (const auto& r : rows) {
    CAPTURE(r.id);
    CHECK(sql_scalar(url, std::string{"SELECT sla_status FROM"
                                      " hitl_pending_patches WHERE"
                                      " decision_id = '"}
                            + r.id + "'")
          == r.expected);
  }
  // Final decisions leave the view.
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'approved',"
                " decided_by = 'bob', decided_at = now() WHERE decision_id"
                " = 'late'");
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_pending_patches") == "3");
  CHECK(sql_scalar(url, "SELECT approved FROM hitl_decision_summary") == "1");
}

namespace {

// The (priority, severity, partition) counts that differ from the open
// decisions there are; a row may stay at 0 once its decisions are closed.
std::string miscounted_rows(const std::string& url) {
  return sql_scalar(url, R"(
    SELECT count(*) FROM (
      SELECT priority, severity, hitl_partition_of(patch_id) AS partition_id,
        count(*) AS n
      FROM hitl_decisions WHERE hitl_decision_is_open(decision)
      GROUP BY 1, 2, 3) d
    FULL JOIN (SELECT * FROM hitl_open_counts WHERE n > 0) c
      USING (priority, severity, partition_id)
    WHERE c.n IS DISTINCT FROM d.n)");
}

} // namespace

TEST_CASE("open counts follow every insert, verdict and delete") {
  auto url = migrated_database("hitl_open_counts");
  pqxx::connection conn{url};
  for (int i = 0; i < 5; ++i)
    insert_valid(conn, "c-" + std::to_string(i)); // high/high... see below
  auto counted = [&] {
    return sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts");
  };
  auto actual = [&] {
    return sql_scalar(url, "SELECT count(*) FROM hitl_decisions WHERE"
                           " decision IN ('pending', 'escalated')");
  };
  CHECK(counted() == "5");
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'escalated',"
                " escalation_level = 1 WHERE decision_id = 'c-0'");
  CHECK(counted() == "5"); // still open
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'approved',"
                " decided_by = 'bob', decided_at = now()"
                " WHERE decision_id IN ('c-1', 'c-2')");
  CHECK(counted() == "3");
  CHECK(counted() == actual());
  CHECK(sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts WHERE priority ="
                        " 'medium' AND severity = 'high'")
        == "3");
  sql_exec(url, "DELETE FROM hitl_decisions WHERE decision_id = 'c-3'");
  CHECK(counted() == "2");
  CHECK(counted() == actual());
  // Each partition's rows count that partition's open decisions (024).
  CHECK(miscounted_rows(url) == "0");
}

namespace {

// Two patches whose partitions differ.
std::pair<std::string, std::string> patches_in_two_partitions(
  const std::string& url) {
  auto a = std::string{"patch-a"};
  for (int i = 0;; ++i) {
    auto b = "patch-b" + std::to_string(i);
    if (sql_scalar(url, "SELECT hitl_partition_of('" + a
                          + "') <> hitl_partition_of('" + b + "')")
        == "t")
      return {a, b};
  }
}

} // namespace

TEST_CASE("open counts: a write to one partition does not wait for another "
          "partition's open transaction") {
  // Two nodes commit to their own partitions at once: a counter row shared
  // by both would hold the second until the first commits (schema 024).
  auto url = migrated_database("hitl_open_count_rows");
  auto [a, b] = patches_in_two_partitions(url);
  auto insert = [](pqxx::transaction_base& t, const std::string& id,
                   const std::string& patch) {
    t.exec(std::string{"INSERT INTO hitl_decisions ("}
           + valid_decision_columns + ") VALUES ('" + id + "', '" + patch
           + "', 'apv-1', 'openssl', '1.0', '1.1', 'high', '1.test',"
             " repeat('a', 64), 'svc')");
  };
  pqxx::connection first{url};
  pqxx::connection second{url};
  pqxx::work held{first};
  insert(held, "d-a", a); // open, not committed: its counter row is locked
  {
    pqxx::work other{second};
    other.exec("SET LOCAL lock_timeout = '5s'");
    CHECK_NOTHROW(insert(other, "d-b", b));
    other.commit();
  }
  held.commit();
  CHECK(sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts") == "2");
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_open_counts") == "2");
  // The same partition's rows are shared, and still counted exactly.
  pqxx::work again{first};
  insert(again, "d-a2", a + "-2");
  again.commit();
  CHECK(sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts") == "3");
}

TEST_CASE("open counts: schema 024 splits the counts of a database by "
          "partition") {
  auto url = fresh_database("hitl_open_count_split");
  migrate_up_to(url, 23);
  pqxx::connection conn{url};
  for (int i = 0; i < 40; ++i)
    insert_valid(conn, "old-" + std::to_string(i));
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'approved',"
                " decided_by = 'bob', decided_at = now()"
                " WHERE decision_id LIKE 'old-1%'");
  CHECK(sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts") == "29");
  apply_migrations(url);
  CHECK(sql_scalar(url, "SELECT sum(n) FROM hitl_open_counts") == "29");
  CHECK(sql_scalar(url, "SELECT count(DISTINCT partition_id) > 1"
                        " FROM hitl_open_counts")
        == "t");
  CHECK(miscounted_rows(url) == "0");
}
