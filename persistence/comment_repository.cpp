#include "persistence/comment_repository.hpp"

#include "persistence/comment_sql.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

int64_t insert_comment(pqxx::transaction_base& txn, const comment& c) {
  auto r = txn.exec_prepared1(sql::comment_insert.name, c.decision_id, c.author,
                              c.text, to_micros(c.at));
  return r[0].as<int64_t>();
}

std::vector<comment> list_comments(pqxx::transaction_base& txn,
                                   const std::string& decision_id) {
  std::vector<comment> out;
  for (const auto& r : txn.exec_prepared(sql::comments_of.name, decision_id))
    out.push_back(comment{r[0].as<int64_t>(), r[1].as<std::string>(),
                          r[2].as<std::string>(), r[3].as<std::string>(),
                          from_micros(r[4].as<int64_t>())});
  return out;
}

void insert_approval(pqxx::transaction_base& txn,
                     const std::string& decision_id, const approval& a) {
  sql_params p;
  p.add(decision_id).add(a.by).add(a.comment).add(to_micros(a.at));
  txn.exec_prepared(sql::approval_insert.name, p.dynamic());
}

} // namespace hitl
