// Every statement of the service's pool connections, gathered from the
// repositories' `*_sql.hpp` and prepared on each new connection, so that
// the service runs no ad-hoc SQL.

#include "persistence/sql_statement.hpp"

#include "persistence/analytics_sql.hpp"
#include "persistence/audit_sql.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/checkpoint_sql.hpp"
#include "persistence/cluster_sql.hpp"
#include "persistence/comment_sql.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_chain_sql.hpp"
#include "persistence/decision_columns.hpp"
#include "persistence/decision_sql.hpp"
#include "persistence/feed_sql.hpp"
#include "persistence/outbox_sql.hpp"
#include "persistence/pending_sql.hpp"
#include "persistence/token_sql.hpp"

#include <pqxx/connection>

#include <stdexcept>

namespace hitl {

namespace {

template <class T, size_t N>
void append(std::vector<T>& to, const T (&from)[N]) {
  to.insert(to.end(), from, from + N);
}

const std::vector<sql_fragment>& all_fragments() {
  static const auto all = [] {
    std::vector<sql_fragment> out;
    append(out, sql::audit_fragments);
    append(out, sql::checkpoint_fragments);
    append(out, sql::cluster_fragments);
    append(out, sql::outbox_fragments);
    append(out, sql::pending_fragments);
    append(out, sql::token_fragments);
    return out;
  }();
  return all;
}

std::vector<sql_statement> constant_statements() {
  std::vector<sql_statement> out;
  append(out, sql::analytics_statements);
  append(out, sql::audit_statements);
  append(out, sql::checkpoint_statements);
  append(out, sql::cluster_statements);
  append(out, sql::comment_statements);
  append(out, sql::decision_chain_statements);
  append(out, sql::decision_statements);
  append(out, sql::feed_statements);
  append(out, sql::outbox_statements);
  append(out, sql::pending_statements);
  append(out, sql::token_statements);
  return out;
}

bool is_word(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// `{decision: c1, c2}`: the select list of those decision columns.
std::string decision_columns_named(std::string_view names) {
  std::vector<decision_col> cols;
  while (!names.empty()) {
    auto comma = names.find(',');
    auto name = trimmed(names.substr(0, comma));
    auto col = decision_col_named(name);
    if (!col)
      throw std::logic_error("no decision column " + std::string{name});
    cols.push_back(*col);
    names = comma == std::string_view::npos ? std::string_view{}
                                            : names.substr(comma + 1);
  }
  return decision_select_list(cols);
}

} // namespace

// A brace around anything but a lower-case word (or `decision:`) is SQL's
// own: an array or JSON literal such as '{}'.
std::string expand_sql(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (;;) {
    auto open = text.find('{');
    auto close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      out += text;
      return out;
    }
    auto inside = text.substr(open + 1, close - open - 1);
    out += text.substr(0, open);
    text.remove_prefix(close + 1);
    constexpr std::string_view decision_prefix = "decision:";
    if (inside == "decision") {
      out += decision_select_list();
    } else if (inside.substr(0, decision_prefix.size()) == decision_prefix) {
      out += decision_columns_named(inside.substr(decision_prefix.size()));
    } else if (is_word(inside)) {
      const sql_fragment* found = nullptr;
      for (const auto& f : all_fragments())
        if (f.name == inside)
          found = &f;
      if (!found)
        throw std::logic_error("no SQL fragment {" + std::string{inside}
                               + "}");
      out += expand_sql(found->text);
    } else {
      out += '{';
      out += inside;
      out += '}';
    }
  }
}

const std::vector<prepared_sql>& all_statements() {
  static const auto all = [] {
    std::vector<prepared_sql> out;
    for (const auto& s : constant_statements())
      out.push_back({s.name, expand_sql(s.text)});
    for (const auto& s : batch_statements())
      out.push_back(s);
    return out;
  }();
  return all;
}

void prepare_statements(pqxx::connection_base& conn) {
  for (const auto& s : all_statements())
    conn.prepare(s.name, s.text);
}

} // namespace hitl
