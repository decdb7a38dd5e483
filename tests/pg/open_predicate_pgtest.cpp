// The open predicate, defined once (schema 018: hitl_decision_is_open), and
// the partial indexes of 001 that are defined with its literal form. A
// predicate the planner cannot match to an index's makes an index scan a
// sequential scan without any error, so these read the plans of the
// service's own statements, as its runtime role prepares them.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/connection_pool.hpp"
#include "persistence/decision_sql.hpp"
#include "persistence/pending_sql.hpp"
#include "persistence/sql_statement.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <string>

using namespace hitl;
using namespace hitl::test;

namespace {

// 20,000 decisions, 400 of them open, in every priority: fewer rows than
// ANALYZE samples, so that the statistics, and with them the plans, are
// the same on every run.
std::string queue_database() {
  auto url = migrated_database("hitl_open_plans");
  sql_exec(url, R"(
    INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, package_name,
      current_version, target_version, severity, priority, policy_version,
      content_hash, created_by, sla_deadline)
    SELECT 'd-' || g, 'p-' || g, 'a', 'openssl', '1', '2', 'high',
      (ARRAY['low', 'medium', 'high', 'critical'])[1 + g % 4], '1.x',
      repeat('a', 64), 'svc', now() + g * interval '1 second'
    FROM generate_series(1, 20000) g)");
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'approved',"
                " decided_by = 'bob', decided_at = now()"
                " WHERE substr(decision_id, 3)::int % 50 <> 0");
  sql_exec(url, "INSERT INTO hitl_approvals (decision_id, reviewer)"
                " SELECT decision_id, 'carol' FROM hitl_decisions"
                " WHERE substr(decision_id, 3)::int % 100 = 0");
  sql_exec(url, "ANALYZE");
  return url;
}

// The plan of `sql`, one line per node.
std::string plan(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction q{conn};
  std::string out;
  for (const auto& r : q.exec("EXPLAIN " + sql))
    out += r[0].as<std::string>() + "\n";
  return out;
}

// The plan of prepared statement `s`, run with `args`. libpqxx prepares a
// statement on its first use: this prepares it now.
std::string plan_of(pqxx::connection& conn, const sql_statement& s,
                    const std::string& args = {}) {
  conn.prepare_now(s.name);
  return plan(conn, std::string{"EXECUTE "} + s.name + args);
}

bool uses(const std::string& plan, const std::string& index) {
  return plan.find("using " + index + " on hitl_decisions")
         != std::string::npos;
}

bool scans_decisions(const std::string& plan) {
  return plan.find("Seq Scan on hitl_decisions") != std::string::npos;
}

// Whether the plan finds the open decisions through an index on their
// state: a partial index of 001, or the index on `decision` searched for
// the open states, which an inlined predicate becomes. Not scanning the
// table is not enough: a join can reach each row by its key instead and
// filter on any predicate at all.
bool finds_open_by_index(const std::string& plan) {
  for (auto index : {"idx_hitl_pending_rank", "idx_hitl_pending_priority",
                     "hitl_decisions_one_open_per_patch"})
    if (uses(plan, index))
      return true;
  return plan.find("Index Cond: ((decision)::text = ANY "
                   "('{pending,escalated}'")
           != std::string::npos
         || plan.find("Index Cond: (decision = ANY ('{pending,escalated}'")
              != std::string::npos;
}

// The query under a DECLARE … CURSOR FOR statement.
std::string cursor_query(const sql_statement& s) {
  auto text = expand_sql(s.text);
  return text.substr(text.find(" FOR\n") + 5);
}

} // namespace

TEST_CASE("the open predicate is one inlinable function that the views and "
          "triggers use") {
  auto url = migrated_database("hitl_open_function");
  CHECK(sql_scalar(url, "SELECT hitl_decision_is_open('pending')") == "t");
  CHECK(sql_scalar(url, "SELECT hitl_decision_is_open('escalated')") == "t");
  for (const char* final_state :
       {"approved", "rejected", "auto_approved", "cancelled"})
    CHECK(sql_scalar(url, std::string{"SELECT hitl_decision_is_open('"}
                            + final_state + "')")
          == "f");
  // What PostgreSQL inlines: SQL, IMMUTABLE, one SELECT of an expression.
  CHECK(sql_scalar(url, "SELECT l.lanname || ' ' || p.provolatile::text"
                        " FROM pg_proc p JOIN pg_language l"
                        " ON l.oid = p.prolang"
                        " WHERE p.proname = 'hitl_decision_is_open'")
        == "sql i");
  // The pending view and the open counts' triggers ask it, and no longer
  // spell it out.
  for (const char* f : {"hitl_open_counts_insert", "hitl_open_counts_update",
                        "hitl_open_counts_delete"}) {
    auto body = sql_scalar(url, std::string{"SELECT prosrc FROM pg_proc"
                                            " WHERE proname = '"}
                                  + f + "'");
    CHECK_MESSAGE(body.find("hitl_decision_is_open(decision)")
                    != std::string::npos,
                  f);
    CHECK_MESSAGE(body.find("'escalated'") == std::string::npos, f);
  }
  auto view = sql_scalar(url, "SELECT pg_get_viewdef('hitl_pending_patches')");
  CHECK(view.find("hitl_decision_is_open(") != std::string::npos);
  CHECK(view.find("'escalated'") == std::string::npos);
}

TEST_CASE("the service's statements on open decisions keep their indexes") {
  auto url = queue_database();
  pqxx::connection conn{runtime_url(url)};
  prepare_statements(conn);
  SUBCASE("a page of the queue by priority: the partial rank index") {
    for (std::string mode : {"auto", "force_generic_plan"}) {
      CAPTURE(mode);
      pqxx::nontransaction{conn}.exec("SET plan_cache_mode = " + mode);
      auto first = plan_of(conn, sql::pending_by_priority,
                           "(NULL, NULL, NULL, NULL, NULL, 51)");
      CAPTURE(first);
      CHECK(uses(first, "idx_hitl_pending_rank"));
      CHECK_FALSE(scans_decisions(first));
      auto later = plan_of(conn, sql::pending_by_priority,
                           "('high', NULL, 2, 0, 'd-1', 51)");
      CAPTURE(later);
      // Within one priority, the other partial index may serve as well.
      CHECK((uses(later, "idx_hitl_pending_rank")
             || uses(later, "idx_hitl_pending_priority")));
      CHECK_FALSE(scans_decisions(later));
    }
  }
  SUBCASE("the queue by age and by deadline, and the open count") {
    for (auto p : {plan_of(conn, sql::pending_by_age,
                           "(NULL, NULL, NULL, NULL, 51)"),
                   plan_of(conn, sql::pending_by_deadline,
                           "(NULL, NULL, NULL, NULL, 51)"),
                   plan_of(conn, sql::decisions_open_count)}) {
      CAPTURE(p);
      CHECK_FALSE(scans_decisions(p));
      CHECK(finds_open_by_index(p));
    }
  }
  SUBCASE("recovery: the open decisions and their approvals") {
    auto open = plan(conn, cursor_query(sql::decisions_open_cursor));
    CAPTURE(open);
    CHECK_FALSE(scans_decisions(open));
    CHECK(finds_open_by_index(open));
    auto approvals = plan_of(conn, sql::approvals_of_open);
    CAPTURE(approvals);
    CHECK_FALSE(scans_decisions(approvals));
    CHECK(finds_open_by_index(approvals));
  }
  SUBCASE("a takeover: the open decisions of a few partitions, by the "
          "partition index (schema 020)") {
    const std::string some = "'{3,17,200}'";
    auto count = plan_of(conn, sql::decisions_open_count_in, "(" + some + ")");
    CAPTURE(count);
    CHECK(count.find("hitl_decisions_open_by_partition") != std::string::npos);
    CHECK_FALSE(scans_decisions(count));
    auto query = cursor_query(sql::decisions_open_cursor_in);
    query.replace(query.find("$1"), 2, some);
    auto open = plan(conn, query);
    CAPTURE(open);
    CHECK(open.find("hitl_decisions_open_by_partition") != std::string::npos);
    CHECK_FALSE(scans_decisions(open));
    auto approvals =
      plan_of(conn, sql::approvals_of_open_in, "(" + some + ")");
    CAPTURE(approvals);
    CHECK_FALSE(scans_decisions(approvals));
  }
  SUBCASE("the open decision of a patch: the partial unique index") {
    // The supervisor knows a patch's open decision from memory; this is
    // the lookup that the index of one open decision per patch answers.
    auto p = plan(conn, "SELECT decision_id FROM hitl_decisions"
                        " WHERE hitl_decision_is_open(decision)"
                        " AND patch_id = 'p-50'");
    CAPTURE(p);
    CHECK(uses(p, "hitl_decisions_one_open_per_patch"));
    auto latest = plan_of(conn, sql::decision_latest_by_patch, "('p-50')");
    CAPTURE(latest);
    CHECK_FALSE(scans_decisions(latest));
  }
  SUBCASE("a predicate the indexes do not imply loses them (the control)") {
    auto p = plan(conn, "SELECT decision_id FROM hitl_decisions"
                        " WHERE decision <> 'approved'"
                        " ORDER BY hitl_urgency_rank(priority) DESC,"
                        " created_at, decision_id LIMIT 51");
    CAPTURE(p);
    CHECK_FALSE(uses(p, "idx_hitl_pending_rank"));
    CHECK_FALSE(finds_open_by_index(p));
  }
}
