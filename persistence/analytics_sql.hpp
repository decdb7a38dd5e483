#pragma once

// The SQL of analytics_repository.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// Counts by state, decision times and ML agreement of the decisions created
// in [$1, $2) (microseconds; NULL: unbounded). Human verdicts are approved
// and rejected; time to decision runs from creation to that verdict.
inline constexpr sql_statement decision_summary{"decision_summary", R"(
  SELECT
    count(*),
    count(*) FILTER (WHERE decision = 'pending'),
    count(*) FILTER (WHERE decision = 'escalated'),
    count(*) FILTER (WHERE decision = 'approved'),
    count(*) FILTER (WHERE decision = 'rejected'),
    count(*) FILTER (WHERE decision = 'auto_approved'),
    count(*) FILTER (WHERE decision = 'cancelled'),
    avg(EXTRACT(EPOCH FROM (decided_at - created_at)))
      FILTER (WHERE decision IN ('approved', 'rejected')),
    count(*) FILTER (WHERE decision IN ('approved', 'rejected')
                     AND ml_prediction IS NOT NULL),
    count(*) FILTER (WHERE decision IN ('approved', 'rejected')
                     AND ml_prediction = (decision = 'approved')),
    percentile_cont(0.5) WITHIN GROUP (
      ORDER BY EXTRACT(EPOCH FROM (decided_at - created_at)))
      FILTER (WHERE decision IN ('approved', 'rejected')),
    percentile_cont(0.9) WITHIN GROUP (
      ORDER BY EXTRACT(EPOCH FROM (decided_at - created_at)))
      FILTER (WHERE decision IN ('approved', 'rejected')),
    count(*) FILTER (WHERE escalation_level > 0)
  FROM hitl_decisions
  WHERE ($1::bigint IS NULL OR created_at >= hitl_from_micros($1))
    AND ($2::bigint IS NULL OR created_at < hitl_from_micros($2)))"};

inline constexpr sql_statement open_decision_count{"open_decision_count", R"(
  SELECT coalesce(sum(n), 0)::bigint FROM hitl_open_counts)"};

inline constexpr sql_statement analytics_statements[] = {decision_summary,
                                                         open_decision_count};

} // namespace hitl::sql
