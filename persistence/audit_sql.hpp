#pragma once

// The SQL of audit_repository: the chain's head and its entries.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// What an audit_entry is read from, in read_entry's order.
inline constexpr sql_fragment audit_columns{"audit_columns", R"(
  seq, decision_id, action, performed_by, hitl_micros("timestamp"),
  details::text, ip_address, user_agent, prev_hash, hash, partition_id, pseq,
  epoch)"};

// Every partition's epoch and chain head, in partition order.
inline constexpr sql_statement audit_partition_chains{
  "audit_partition_chains", R"(
  SELECT partition_id, epoch, chain_seq, chain_hash FROM hitl_partitions
  ORDER BY partition_id)"};

// Partition $1's epoch and chain head, locked until commit: a writer that
// is no cluster member appends after it (token entries).
inline constexpr sql_statement audit_partition_chain_lock{
  "audit_partition_chain_lock", R"(
  SELECT epoch, chain_seq, chain_hash FROM hitl_partitions
  WHERE partition_id = $1 FOR UPDATE)"};

// Where the common prefix ends (021).
inline constexpr sql_statement audit_prefix{"audit_prefix", R"(
  SELECT seq, hash FROM hitl_audit_prefix)"};

// $2 entries after seq $1.
inline constexpr sql_statement audit_scan{"audit_scan", R"(
  SELECT {audit_columns} FROM hitl_audit_logs WHERE seq > $1
  ORDER BY seq LIMIT $2)"};

// $7 entries after seq $1 that match the filters (NULL: any): decision $2,
// action $3, performer $4, from $5 and before $6 (microseconds).
inline constexpr sql_statement audit_query{"audit_query", R"(
  SELECT {audit_columns} FROM hitl_audit_logs WHERE seq > $1
    AND ($2::text IS NULL OR decision_id = $2)
    AND ($3::text IS NULL OR action = $3)
    AND ($4::text IS NULL OR performed_by = $4)
    AND ($5::bigint IS NULL OR "timestamp" >= hitl_from_micros($5))
    AND ($6::bigint IS NULL OR "timestamp" < hitl_from_micros($6))
  ORDER BY seq LIMIT $7)"};

inline constexpr sql_fragment audit_fragments[] = {audit_columns};

inline constexpr sql_statement audit_statements[] = {
  audit_partition_chains, audit_partition_chain_lock, audit_prefix,
  audit_scan, audit_query};

} // namespace hitl::sql
