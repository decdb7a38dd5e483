#include "persistence/sql_statement.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

using namespace hitl;

TEST_CASE("SQL fragments expand, and SQL's own braces stay") {
  CHECK(expand_sql("SELECT {decision: decision_id, created_at} FROM t")
        == "SELECT decision_id, hitl_micros(created_at) AS created_at_us"
           " FROM t");
  CHECK(expand_sql("coalesce(x, '{}'), '{\"a\":1}', '{pending,escalated}'")
        == "coalesce(x, '{}'), '{\"a\":1}', '{pending,escalated}'");
  // A fragment may use others.
  auto page = expand_sql("{pending_page}");
  CHECK(page.find("AS total") != std::string::npos);
  CHECK(page.find("FROM hitl_open_counts") != std::string::npos);
  CHECK(page.find('{') == std::string::npos);
  CHECK_THROWS_WITH_AS(expand_sql("SELECT {no_such_piece}"),
                       "no SQL fragment {no_such_piece}", std::logic_error);
  CHECK_THROWS_WITH_AS(expand_sql("SELECT {decision: decision_id, colour}"),
                       "no decision column colour", std::logic_error);
}

TEST_CASE("every statement has a name of its own and a complete text") {
  std::set<std::string> names;
  for (const auto& s : all_statements()) {
    CAPTURE(s.name);
    CHECK(names.insert(s.name).second);
    CHECK_FALSE(s.text.empty());
    // Expanded: what is left in braces is a literal of SQL's own.
    for (auto at = s.text.find('{'); at != std::string::npos;
         at = s.text.find('{', at + 1))
      CHECK(s.text.compare(at, 2, "{}") == 0);
  }
  CHECK(names.count("decision_view") == 1);
  CHECK(names.count("batch_write") == 1);
  CHECK(names.size() >= 50);
}
