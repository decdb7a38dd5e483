// The cluster feed reads, every 100 ms, what other nodes appended to each
// partition after the position it has seen. Its cost must follow what is
// new, not the size of the log: the index scan of each partition has to be
// bounded on both sides. PostgreSQL 15 planned the plain join form with the
// upper bound alone and filtered the lower one afterwards, reading every
// partition's whole history on each read; the plan says which it is.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/connection_pool.hpp"
#include "persistence/feed_sql.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <sstream>
#include <string>

using namespace hitl;
using namespace hitl::test;

namespace {

// Eight partitions of 2,500 entries each, their heads at the last one.
std::string log_database() {
  auto url = migrated_database("hitl_feed_plan");
  sql_exec(url, R"(
    INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, package_name,
      current_version, target_version, severity, policy_version,
      content_hash, created_by)
    VALUES ('d-1', 'p-1', 'a', 'openssl', '1', '2', 'high', '1.x',
      repeat('a', 64), 'svc'))");
  sql_exec(url, R"(
    INSERT INTO hitl_audit_logs (partition_id, pseq, epoch, decision_id,
      action, performed_by, "timestamp", prev_hash, hash)
    SELECT p, s, 1, 'd-1', 'commented', 'svc', now(), repeat('0', 64),
      repeat('1', 64)
    FROM generate_series(0, 7) p, generate_series(1, 2500) s)");
  sql_exec(url, "UPDATE hitl_partitions SET chain_seq = 2500"
                " WHERE partition_id < 8");
  sql_exec(url, "ANALYZE");
  return url;
}

std::string plan_of_feed(pqxx::connection& conn, const std::string& args) {
  pqxx::nontransaction q{conn};
  std::string out;
  for (const auto& r :
       q.exec(std::string{"EXPLAIN EXECUTE "} + sql::feed_entries.name + args))
    out += r[0].as<std::string>() + "\n";
  return out;
}

// The Index Cond lines of the scans of the log's partition index.
std::string log_index_conditions(const std::string& plan) {
  std::istringstream lines{plan};
  std::string line, out;
  bool in_scan = false;
  while (std::getline(lines, line)) {
    if (line.find("Index Scan") != std::string::npos
        || line.find("Bitmap Index Scan") != std::string::npos)
      in_scan =
        line.find("hitl_audit_partition_pseq") != std::string::npos;
    else if (in_scan && line.find("Index Cond:") != std::string::npos)
      out += line + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("cluster feed: each partition's read is bounded by the index on "
          "both sides") {
  auto url = log_database();
  pqxx::connection conn{runtime_url(url)};
  prepare_statements(conn);
  conn.prepare_now(sql::feed_entries.name);
  for (std::string mode : {"auto", "force_generic_plan"}) {
    CAPTURE(mode);
    pqxx::nontransaction{conn}.exec("SET plan_cache_mode = " + mode);
    // Seven executions: past the five custom plans, into the generic one.
    for (int i = 0; i < 7; ++i) {
      auto plan = plan_of_feed(
        conn, "('{0,1,2,3,4,5,6,7}', '{2490,2490,2490,2490,2490,2490,2490,"
              "2490}', 1000)");
      CAPTURE(plan);
      auto conditions = log_index_conditions(plan);
      CAPTURE(conditions);
      CHECK(conditions.find("pseq > ") != std::string::npos);
      CHECK(conditions.find("pseq <= ") != std::string::npos);
      CHECK(plan.find("Seq Scan on hitl_audit_logs") == std::string::npos);
    }
  }
  // What it reads: the ten entries after each position, in order.
  pqxx::nontransaction q{conn};
  auto rows = q.exec_prepared(sql::feed_entries.name, "{0,7}", "{2490,2495}",
                              1000);
  REQUIRE(rows.size() == 15);
  CHECK(rows[0][0].as<int>() == 0);
  CHECK(rows[0][1].as<int64_t>() == 2491);
  CHECK(rows[9][1].as<int64_t>() == 2500);
  CHECK(rows[10][0].as<int>() == 7);
  CHECK(rows[10][1].as<int64_t>() == 2496);
}
