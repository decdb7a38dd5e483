#pragma once

// Internal to persistence/: the service's SQL as named constants, one per
// use case, in a `*_sql.hpp` beside each repository (as userver's
// `Query kSelectValue{"…", Query::Name{"sample_select_value"}}`). Every
// pool connection prepares all of them (statements.cpp); a repository runs
// one as `txn.exec_prepared(sql::token_by_id.name, …)`, so that a
// statement's name is written once, next to its text.

#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// A prepared statement: its name on every connection and its text. In the
/// text, `{name}` stands for the sql_fragment of that name, `{decision}` for
/// the select list of a whole decision and `{decision: c1, c2}` for that of
/// some of its columns (decision_columns.hpp); they are expanded once, when
/// the statements are first prepared.
struct sql_statement {
  const char* name;
  std::string_view text;
};

/// A piece of SQL that several statements share (a select list, a
/// predicate), named so that they can say `{name}`.
struct sql_fragment {
  std::string_view name;
  std::string_view text;
};

/// A statement's text as prepared, its fragments expanded. Throws
/// std::logic_error naming an unknown fragment or decision column.
std::string expand_sql(std::string_view text);

/// Every statement a pool connection prepares, with its expanded text.
struct prepared_sql {
  std::string name;
  std::string text;
};
const std::vector<prepared_sql>& all_statements();

} // namespace hitl
