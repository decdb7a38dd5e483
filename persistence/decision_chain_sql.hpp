#pragma once

// The SQL of decision_chain_reader: every decision and every decision's
// audit entry, through two cursors, for `audit verify`.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// Both in byte order of decision_id, the order the replay merges in. The
// approvals are grouped once and merged in, not looked up per decision:
// 1M decisions, 8.8 s instead of 13.5 s of PostgreSQL's time. Their
// decision_id has the database's collation, the decisions' key "C" (014),
// so the join names the one it compares in.
inline constexpr sql_statement chain_check_rows_cursor{
  "chain_check_rows_cursor", R"(
  DECLARE hitl_check_rows NO SCROLL CURSOR FOR
  SELECT d.decision_id, d.decision, d.decided_by,
    a.reviewers::text AS reviewers, d.approvals_required,
    d.escalation_level, d.version, d.created_by
  FROM hitl_decisions d LEFT JOIN (
    SELECT decision_id COLLATE "C" AS decision_id,
      json_agg(reviewer ORDER BY approved_at, reviewer) AS reviewers
    FROM hitl_approvals GROUP BY 1) a ON a.decision_id = d.decision_id
  ORDER BY d.decision_id COLLATE "C")"};
inline constexpr sql_statement chain_check_rows_fetch{
  "chain_check_rows_fetch", "FETCH 5000 FROM hitl_check_rows"};
inline constexpr sql_statement chain_check_rows_close{
  "chain_check_rows_close", "CLOSE hitl_check_rows"};

// Only the details that the replay reads travel: comments can be long. A
// token's entries belong to no decision (017); the chain walk checks them,
// and verify compares them with the tokens' rows.
inline constexpr sql_statement chain_check_entries_cursor{
  "chain_check_entries_cursor", R"(
  DECLARE hitl_check_entries NO SCROLL CURSOR FOR
  SELECT decision_id, seq, action, performed_by, hitl_micros("timestamp"),
    CASE WHEN action IN ('created', 'escalated', 'rejected', 'cancelled')
         THEN details::text ELSE '{}' END
  FROM hitl_audit_logs WHERE decision_id IS NOT NULL
  ORDER BY decision_id COLLATE "C", seq)"};
inline constexpr sql_statement chain_check_entries_fetch{
  "chain_check_entries_fetch", "FETCH 10000 FROM hitl_check_entries"};
inline constexpr sql_statement chain_check_entries_close{
  "chain_check_entries_close", "CLOSE hitl_check_entries"};

inline constexpr sql_statement decision_chain_statements[] = {
  chain_check_rows_cursor,    chain_check_rows_fetch,
  chain_check_rows_close,     chain_check_entries_cursor,
  chain_check_entries_fetch,  chain_check_entries_close};

} // namespace hitl::sql
