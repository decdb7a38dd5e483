#include "persistence/comment_repository.hpp"

#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

void prepare_comment_statements(pqxx::connection_base& conn) {
  conn.prepare("comment_insert", R"(
    INSERT INTO hitl_comments (decision_id, author, comment, created_at)
    VALUES ($1, $2, $3, hitl_from_micros($4)) RETURNING comment_id)");
  conn.prepare("comments_of", R"(
    SELECT comment_id, decision_id, author, comment, hitl_micros(created_at)
    FROM hitl_comments WHERE decision_id = $1 ORDER BY created_at, comment_id)");
  conn.prepare("approval_insert", R"(
    INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at)
    VALUES ($1, $2, $3, hitl_from_micros($4)))");
}

int64_t insert_comment(pqxx::transaction_base& txn, const comment& c) {
  auto r = txn.exec_prepared1("comment_insert", c.decision_id, c.author,
                              c.text, to_micros(c.at));
  return r[0].as<int64_t>();
}

std::vector<comment> list_comments(pqxx::transaction_base& txn,
                                   const std::string& decision_id) {
  std::vector<comment> out;
  for (const auto& r : txn.exec_prepared("comments_of", decision_id))
    out.push_back(comment{r[0].as<int64_t>(), r[1].as<std::string>(),
                          r[2].as<std::string>(), r[3].as<std::string>(),
                          from_micros(r[4].as<int64_t>())});
  return out;
}

void insert_approval(pqxx::transaction_base& txn,
                     const std::string& decision_id, const approval& a) {
  sql_params p;
  p.add(decision_id).add(a.by).add(a.comment).add(to_micros(a.at));
  txn.exec_prepared("approval_insert", p.dynamic());
}

} // namespace hitl
