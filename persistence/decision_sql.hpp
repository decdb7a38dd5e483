#pragma once

// The SQL of decision_repository: one constant per use case.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

inline constexpr sql_statement decision_by_id{"decision_by_id", R"(
  SELECT {decision} FROM hitl_decisions WHERE decision_id = $1)"};

// A decision's detail in one statement: the record, its approvals with who
// issued each approver's token, its comments, its audit trail, and the
// place of its latest entry in its partition's chain (what a write's
// answer reports, X-HITL-Position; NULL before schema 021). The
// approvals' and comments' decision_id keep the database's default
// collation while the decision's is "C" (schema 014): compared without
// COLLATE, their indexes only filter and each detail read scans them whole.
inline constexpr sql_statement decision_view{"decision_view", R"(
  SELECT {decision},
    (SELECT coalesce(json_agg(json_build_array(a.reviewer,
              hitl_micros(a.approved_at), a.comment, a.token_id,
              hitl_micros(t."timestamp"), t.performed_by)
              ORDER BY a.approved_at, a.reviewer), '[]')
       FROM hitl_approvals a
       -- who issued the approver's token, by the index of 017
       LEFT JOIN hitl_audit_logs t
         ON t.decision_id IS NULL AND t.action = 'token_created'
            AND (t.details ->> 'token_id')::bigint = a.token_id
       WHERE a.decision_id = d.decision_id COLLATE "default")::text
      AS approvals_json,
    (SELECT coalesce(json_agg(json_build_array(comment_id, author, comment,
              hitl_micros(created_at)) ORDER BY created_at, comment_id), '[]')
       FROM hitl_comments c
       WHERE c.decision_id = d.decision_id COLLATE "default")::text
      AS comments_json,
    trail.audit_trail_json, trail.audit_pseq
  FROM hitl_decisions d
  -- the trail and its latest place in one read of the decision's entries
  CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object(
             'seq', seq, 'decision_id', decision_id, 'action', action,
             'performed_by', performed_by,
             'timestamp', to_char("timestamp" AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'details', details, 'prev_hash', prev_hash, 'hash', hash,
             'partition', partition_id, 'pseq', pseq, 'epoch', epoch)
           ORDER BY seq), '[]')::text AS audit_trail_json,
      max(pseq) AS audit_pseq
    FROM hitl_audit_logs l WHERE l.decision_id = d.decision_id) trail
  WHERE d.decision_id = $1)"};

inline constexpr sql_statement decision_latest_by_patch{
  "decision_latest_by_patch", R"(
  SELECT {decision} FROM hitl_decisions WHERE patch_id = $1
  ORDER BY created_at DESC, decision_id DESC LIMIT 1)"};

// Recovery reads the open decisions through a cursor, a slice at a time
// (load_open_decisions), after counting them.
inline constexpr sql_statement decisions_open_count{"decisions_open_count", R"(
  SELECT count(*) FROM hitl_decisions
  WHERE hitl_decision_is_open(decision))"};
inline constexpr sql_statement decisions_open_cursor{
  "decisions_open_cursor", R"(
  DECLARE hitl_open_decisions NO SCROLL CURSOR FOR
  SELECT {decision} FROM hitl_decisions
  WHERE hitl_decision_is_open(decision))"};
inline constexpr sql_statement decisions_open_fetch{
  "decisions_open_fetch", "FETCH 20000 FROM hitl_open_decisions"};
inline constexpr sql_statement decisions_open_close{
  "decisions_open_close", "CLOSE hitl_open_decisions"};

// A takeover's loading (SPEC §8): the open decisions of some partitions
// ($1, an integer array), by the index of schema 020.
inline constexpr sql_statement decisions_open_count_in{
  "decisions_open_count_in", R"(
  SELECT count(*) FROM hitl_decisions
  WHERE hitl_decision_is_open(decision)
    AND hitl_partition_of(patch_id) = ANY($1::integer[]))"};
inline constexpr sql_statement decisions_open_cursor_in{
  "decisions_open_cursor_in", R"(
  DECLARE hitl_open_decisions NO SCROLL CURSOR FOR
  SELECT {decision} FROM hitl_decisions
  WHERE hitl_decision_is_open(decision)
    AND hitl_partition_of(patch_id) = ANY($1::integer[]))"};

inline constexpr sql_statement approvals_of{"approvals_of", R"(
  SELECT decision_id, reviewer, hitl_micros(approved_at), comment
  FROM hitl_approvals WHERE decision_id = $1
  ORDER BY approved_at, reviewer)"};
inline constexpr sql_statement approvals_of_open{"approvals_of_open", R"(
  SELECT a.decision_id, a.reviewer, hitl_micros(a.approved_at), a.comment
  FROM hitl_approvals a JOIN hitl_decisions d USING (decision_id)
  WHERE hitl_decision_is_open(d.decision)
  ORDER BY a.approved_at, a.reviewer)"};
inline constexpr sql_statement approvals_of_open_in{"approvals_of_open_in", R"(
  SELECT a.decision_id, a.reviewer, hitl_micros(a.approved_at), a.comment
  FROM hitl_approvals a JOIN hitl_decisions d USING (decision_id)
  WHERE hitl_decision_is_open(d.decision)
    AND hitl_partition_of(d.patch_id) = ANY($1::integer[])
  ORDER BY a.approved_at, a.reviewer)"};

inline constexpr sql_statement decision_statements[] = {
  decision_by_id,        decision_view,         decision_latest_by_patch,
  decisions_open_count,  decisions_open_cursor, decisions_open_fetch,
  decisions_open_close,  approvals_of,          approvals_of_open,
  decisions_open_count_in, decisions_open_cursor_in, approvals_of_open_in,
};

} // namespace hitl::sql
