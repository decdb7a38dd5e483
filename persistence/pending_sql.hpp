#pragma once

// The SQL of pending_repository: a page of the queue in each sort order.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// The count of open decisions under the filters $1 (priority) and $2
// (severity), from the counters of 005.
inline constexpr sql_fragment pending_total{"pending_total", R"(
  SELECT coalesce(sum(n), 0)::bigint FROM hitl_open_counts
  WHERE ($1::text IS NULL OR priority = $1)
    AND ($2::text IS NULL OR severity = $2))"};

// The open decisions under the filters, what a pending_item holds, and the
// total in a last column: an uncorrelated subquery, computed once, so that
// a page and its total are one statement, one snapshot and one round trip
// without a transaction around them. Under a load of writes every GET
// pending misses the cache and comes here: BEGIN, SET TRANSACTION, two
// SELECTs and COMMIT were five round trips.
inline constexpr sql_fragment pending_page{"pending_page", R"(
  SELECT {decision: decision_id, patch_id, apv_id, cve_id, package_name,
    severity, priority, decision, ml_confidence, ml_prediction,
    wargaming_passed, created_at, sla_deadline, escalation_level,
    approvals_required},
    ({pending_total}) AS total
  FROM hitl_decisions
  WHERE hitl_decision_is_open(decision)
    AND ($1::text IS NULL OR priority = $1)
    AND ($2::text IS NULL OR severity = $2))"};

// No deadline sorts after every deadline.
inline constexpr sql_fragment pending_deadline_key{"pending_deadline_key",
  "coalesce(hitl_micros(sla_deadline), 9223372036854775807)"};

// After the cursor ($3 rank, $4 created_at, $5 decision_id), $6 rows.
inline constexpr sql_statement pending_by_priority{"pending_by_priority", R"(
  {pending_page}
    AND ($3::int IS NULL OR hitl_urgency_rank(priority) < $3
         OR (hitl_urgency_rank(priority) = $3
             AND (created_at, decision_id) > (hitl_from_micros($4), $5)))
  ORDER BY hitl_urgency_rank(priority) DESC, created_at, decision_id
  LIMIT $6)"};

// After the cursor ($3 created_at, $4 decision_id), $5 rows.
inline constexpr sql_statement pending_by_age{"pending_by_age", R"(
  {pending_page}
    AND ($3::bigint IS NULL
         OR (created_at, decision_id) > (hitl_from_micros($3), $4))
  ORDER BY created_at, decision_id LIMIT $5)"};

// After the cursor ($3 deadline, $4 decision_id), $5 rows.
inline constexpr sql_statement pending_by_deadline{"pending_by_deadline", R"(
  {pending_page}
    AND ($3::bigint IS NULL
         OR ({pending_deadline_key}, decision_id) > ($3, $4))
  ORDER BY {pending_deadline_key}, decision_id LIMIT $5)"};

// The total alone, for a page past the last.
inline constexpr sql_statement pending_count{"pending_count",
                                             "{pending_total}"};

inline constexpr sql_fragment pending_fragments[] = {
  pending_total, pending_page, pending_deadline_key};

inline constexpr sql_statement pending_statements[] = {
  pending_by_priority, pending_by_age, pending_by_deadline, pending_count};

} // namespace hitl::sql
