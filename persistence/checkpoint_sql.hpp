#pragma once

// The SQL of checkpoint_repository and audit_export: signed checkpoints,
// the committed chain they sign, and the bounds of an export.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// What a stored_checkpoint is read from, in read_row's order.
inline constexpr sql_fragment checkpoint_columns{"checkpoint_columns", R"(
  id, seq, hash, hitl_micros(signed_at), entry_count, key_id, signature,
  heads::text)"};

// One signer at a time among the nodes of a cluster, until its
// transaction ends: the others skip the round and find its checkpoint at
// the next.
inline constexpr sql_statement checkpoint_signer_lock{
  "checkpoint_signer_lock", R"(
  SELECT pg_try_advisory_xact_lock(hashtext('hitl_checkpoint_signer')))"};

// The highest seq committed (0 for none).
inline constexpr sql_statement audit_max_seq{"audit_max_seq", R"(
  SELECT coalesce(max(seq), 0) FROM hitl_audit_logs)"};

inline constexpr sql_statement checkpoint_insert{"checkpoint_insert", R"(
  INSERT INTO hitl_audit_checkpoints
    (seq, hash, signed_at, entry_count, key_id, signature, heads)
  VALUES ($1, $2, hitl_from_micros($3), $4, $5, $6, $7::jsonb))"};

inline constexpr sql_statement checkpoint_last{"checkpoint_last", R"(
  SELECT {checkpoint_columns} FROM hitl_audit_checkpoints
  ORDER BY seq DESC, id DESC LIMIT 1)"};

inline constexpr sql_statement checkpoint_scan{"checkpoint_scan", R"(
  SELECT {checkpoint_columns} FROM hitl_audit_checkpoints
  WHERE id > $1 ORDER BY id LIMIT $2)"};

// The first seq at or after $1 and the last before $2 (microseconds; NULL:
// unbounded): an export's slice.
inline constexpr sql_statement audit_export_bounds{"audit_export_bounds", R"(
  SELECT
    (SELECT min(seq) FROM hitl_audit_logs
     WHERE $1::bigint IS NULL OR "timestamp" >= hitl_from_micros($1)),
    (SELECT max(seq) FROM hitl_audit_logs
     WHERE $2::bigint IS NULL OR "timestamp" < hitl_from_micros($2)))"};

inline constexpr sql_fragment checkpoint_fragments[] = {checkpoint_columns};

inline constexpr sql_statement checkpoint_statements[] = {
  checkpoint_signer_lock, audit_max_seq, checkpoint_insert, checkpoint_last, checkpoint_scan,
  audit_export_bounds};

} // namespace hitl::sql
