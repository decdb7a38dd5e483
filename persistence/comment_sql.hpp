#pragma once

// The SQL of comment_repository: comments and single approvals.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

inline constexpr sql_statement comment_insert{"comment_insert", R"(
  INSERT INTO hitl_comments (decision_id, author, comment, created_at)
  VALUES ($1, $2, $3, hitl_from_micros($4)) RETURNING comment_id)"};

inline constexpr sql_statement comments_of{"comments_of", R"(
  SELECT comment_id, decision_id, author, comment, hitl_micros(created_at)
  FROM hitl_comments WHERE decision_id = $1 ORDER BY created_at, comment_id)"};

inline constexpr sql_statement approval_insert{"approval_insert", R"(
  INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at)
  VALUES ($1, $2, $3, hitl_from_micros($4)))"};

inline constexpr sql_statement comment_statements[] = {
  comment_insert, comments_of, approval_insert};

} // namespace hitl::sql
