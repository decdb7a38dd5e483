// hitl_partition_of is the SQL twin of policy's partition_of: the nodes
// route by the one, the fence, the takeover's loading and the open counts
// use the other. They must agree on every patch id a client may send. 025
// made its body inlinable (a function call per row planned its body again
// in every group commit); the plan says whether it still is.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/migrations.hpp"
#include "policy/partition.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <string>
#include <vector>

using namespace hitl;
using namespace hitl::test;

namespace {

// Ids whose bytes an escape-format decode could misread (backslashes, octal
// and hex escapes written out), non-ASCII characters of 2, 3 and 4 bytes,
// and the longest id.
std::vector<std::string> awkward_ids() {
  std::vector<std::string> ids{
    "p-1",         "\\",          "a\\b",        "trailing\\", "\\\\",
    "\\000",       "\\101",       "\\x41",       "\\\\101",    "é",
    "€",           "😀",          "tab\tid",     "quote'id",   "x\\é\\€\\\\😀",
    std::string(255, 'z')};
  for (int i = 0; i < 500; ++i)
    ids.push_back("patch-" + std::to_string(i) + (i % 2 ? "\\" : "é"));
  return ids;
}

int sql_partition(pqxx::connection& conn, const std::string& id) {
  pqxx::nontransaction q{conn};
  return q.exec_params1("SELECT hitl_partition_of($1)", id)[0].as<int>();
}

std::string explain(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  q.exec("SET enable_seqscan = off");
  std::string out;
  for (const auto& r : q.exec("EXPLAIN (VERBOSE) " + sql))
    out += r[0].as<std::string>() + "\n";
  return out;
}

void insert_decisions(const std::string& url,
                      const std::vector<std::string>& patches) {
  pqxx::connection conn{url};
  pqxx::work w{conn};
  int n = 0;
  for (const auto& patch : patches)
    w.exec_params("INSERT INTO hitl_decisions (decision_id, patch_id, apv_id,"
                  " package_name, current_version, target_version, severity,"
                  " policy_version, content_hash, created_by)"
                  " VALUES ($1, $2, 'apv-1', 'openssl', '1.0', '1.1', 'high',"
                  " '1.test', repeat('a', 64), 'svc')",
                  "d-" + std::to_string(n++), patch);
  w.commit();
}

// Open decisions whose partition the index of 020 and a computation over
// the table disagree on (0 when the index is valid for the function).
std::string index_disagreements(const std::string& url) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  // Each partition's count of open decisions, `partition` computed by the
  // expression given, joined with commas.
  auto counts = [&](const std::string& partition) {
    std::string out;
    for (int p = 0; p < 256; ++p)
      out += q.exec("SELECT count(*) FROM hitl_decisions WHERE " + partition
                    + " = " + std::to_string(p)
                    + " AND decision IN ('pending', 'escalated')")[0][0]
               .as<std::string>()
             + ",";
    return out;
  };
  q.exec("SET enable_seqscan = off");
  auto by_index = counts("hitl_partition_of(patch_id)");
  q.exec("SET enable_seqscan = on; SET enable_indexscan = off;"
         " SET enable_bitmapscan = off");
  auto by_scan = counts("get_byte(sha256(convert_to(patch_id, 'UTF8')), 0)");
  return by_index == by_scan ? "0" : by_index + " against " + by_scan;
}

} // namespace

TEST_CASE("hitl_partition_of agrees with partition_of on backslashes and "
          "non-ASCII ids") {
  auto url = migrated_database("hitl_partition_fn");
  pqxx::connection conn{url};
  for (const auto& id : awkward_ids()) {
    CAPTURE(id);
    CHECK(sql_partition(conn, id) == partition_of(id).value);
  }
}

TEST_CASE("hitl_partition_of is inlined, and 020's index still serves it") {
  auto url = migrated_database("hitl_partition_inline");
  auto plan = explain(url, "SELECT hitl_partition_of(patch_id)"
                           " FROM hitl_decisions");
  CAPTURE(plan);
  CHECK(plan.find("get_byte(sha256(decode(") != std::string::npos);
  CHECK(plan.find("hitl_partition_of") == std::string::npos);

  auto takeover = explain(url, "SELECT decision_id FROM hitl_decisions"
                               " WHERE decision IN ('pending', 'escalated')"
                               " AND hitl_partition_of(patch_id) = 7");
  CAPTURE(takeover);
  CHECK(takeover.find("hitl_decisions_open_by_partition")
        != std::string::npos);
}

TEST_CASE("schema 025 keeps the partitions of a database's decisions") {
  auto url = fresh_database("hitl_partition_025");
  migrate_up_to(url, 24);
  insert_decisions(url, awkward_ids());
  apply_migrations(url);
  CHECK(index_disagreements(url) == "0");
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_open_counts c"
                        " FULL JOIN (SELECT priority, severity,"
                        "   hitl_partition_of(patch_id) AS partition_id,"
                        "   count(*) AS n FROM hitl_decisions"
                        "   GROUP BY 1, 2, 3) d"
                        " USING (priority, severity, partition_id)"
                        " WHERE c.n IS DISTINCT FROM d.n")
        == "0");
}

TEST_CASE("migrate refuses a database that is not UTF8, changing nothing") {
  auto url = fresh_database("hitl_partition_latin1",
                            "TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'");
  try {
    apply_migrations(url);
    FAIL("a LATIN1 database was migrated");
  } catch (const schema_error& e) {
    CHECK(std::string{e.what()}.find("UTF8") != std::string::npos);
    CHECK(std::string{e.what()}.find("LATIN1") != std::string::npos);
  }
  CHECK(sql_scalar(url, "SELECT to_regclass('schema_migrations') IS NULL")
        == "t");
}
