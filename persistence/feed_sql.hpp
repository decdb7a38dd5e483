#pragma once

// The SQL of feed_repository: what the cluster feed reads every 100 ms.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// Every partition's head, then the entries after the positions asked for
// ($1 partitions, $2 positions: only those named), up to the heads read in
// the same snapshot, by the index of 023. Each partition's chain_seq moves
// in the transaction that appends to it, so an entry at or below a head
// read here is committed and visible here: nothing is skipped, though
// nodes commit out of `seq` order.
inline constexpr sql_statement feed_heads{"feed_heads", R"(
  SELECT partition_id, chain_seq FROM hitl_partitions ORDER BY partition_id)"};

// Each partition's range is its own LATERAL scan, so that both of its
// bounds are index conditions: as a plain join, PostgreSQL 15 bounded the
// index scan by the head alone and filtered `pseq > known` afterwards,
// reading the partition's whole history on every read (18.8 ms against
// 3.7 ms at 27k entries, and growing with the log).
// The comment of a `commented` entry is the newest of its author's with its
// text on that decision (hitl_comments has no link to its entry).
inline constexpr sql_statement feed_entries{"feed_entries", R"(
  SELECT a.partition_id, a.pseq, a.action, a.decision_id, a.performed_by,
    hitl_micros(a."timestamp"), c.comment_id, c.comment,
    hitl_micros(c.created_at),
    CASE WHEN a.action = 'escalated'
      THEN (a.details ->> 'level')::int END AS level
  FROM unnest($1::smallint[], $2::bigint[]) AS k(partition_id, known)
  JOIN hitl_partitions p
    ON p.partition_id = k.partition_id AND p.chain_seq > k.known
  CROSS JOIN LATERAL (
    SELECT * FROM hitl_audit_logs
    WHERE partition_id = k.partition_id AND pseq > k.known
      AND pseq <= p.chain_seq
    ORDER BY pseq LIMIT $3) a
  LEFT JOIN LATERAL (
    SELECT comment_id, comment, created_at FROM hitl_comments
    WHERE a.action = 'commented'
      AND decision_id = a.decision_id COLLATE "default"
      AND author = a.performed_by AND comment = a.details ->> 'comment'
    ORDER BY comment_id DESC LIMIT 1) c ON true
  ORDER BY a.partition_id, a.pseq
  LIMIT $3)"};

inline constexpr sql_statement feed_decisions{"feed_decisions", R"(
  SELECT {decision} FROM hitl_decisions WHERE decision_id = ANY($1::text[]))"};

inline constexpr sql_statement feed_approvals{"feed_approvals", R"(
  SELECT decision_id, reviewer, hitl_micros(approved_at), comment
  FROM hitl_approvals
  WHERE decision_id = ANY($1::text[]) ORDER BY approved_at, reviewer)"};

inline constexpr sql_statement feed_statements[] = {
  feed_heads, feed_entries, feed_decisions, feed_approvals};

} // namespace hitl::sql
