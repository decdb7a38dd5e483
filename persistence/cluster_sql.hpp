#pragma once

// The SQL of cluster_repository: node leases and partition ownership
// (019), every time on the database's clock.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// A node is live while its lease runs.
inline constexpr sql_fragment node_live{"node_live", R"(lease_until > now())"};

// Membership scans, one at a time across the cluster, until the holder's
// transaction ends. Each statement of a READ COMMITTED transaction reads
// what was committed when it began: taken first, the lock makes a scan
// read every owner as the scan before it left them, so that two scans
// never plan with the same partitions. (When the renewal was in the scan,
// two nodes starting together each found the other not live and both took
// all 256.) Leases are now renewed outside it (actors/membership.cpp): a
// renewal queued behind sixteen nodes' scans on a busy machine ran past
// the lease.
inline constexpr sql_statement membership_lock{"membership_lock", R"(
  SELECT pg_advisory_xact_lock(hashtext('hitl_membership_scan')))"};

// Registers a node ($1 id, $2 CAF endpoint, $3 HTTP endpoint, $4 policy
// version, $5 wire version) or renews its lease, for $6 microseconds.
// Returns the lease's end.
inline constexpr sql_statement node_renew{"node_renew", R"(
  INSERT INTO hitl_nodes (node_id, node_endpoint, http_endpoint,
                          policy_version, wire_version, lease_until)
  VALUES ($1::uuid, $2, $3, $4, $5,
          now() + $6::bigint * interval '1 microsecond')
  ON CONFLICT (node_id) DO UPDATE
    SET node_endpoint = excluded.node_endpoint,
        http_endpoint = excluded.http_endpoint,
        policy_version = excluded.policy_version,
        wire_version = excluded.wire_version,
        lease_until = excluded.lease_until
  RETURNING hitl_micros(lease_until))"};

// Ends a node's lease now (a graceful stop).
inline constexpr sql_statement node_leave{"node_leave", R"(
  UPDATE hitl_nodes SET lease_until = least(lease_until, now())
  WHERE node_id = $1::uuid)"};

// Live nodes that may share partitions with a node of policy $1 and wire
// version $2.
inline constexpr sql_statement node_peers{"node_peers", R"(
  SELECT node_id::text FROM hitl_nodes
  WHERE {node_live} AND policy_version = $1 AND wire_version = $2
  ORDER BY node_id)"};

// Microseconds until the earliest lease among the live nodes other than
// $1 (of policy $2 and wire version $3) runs out; NULL when there is none.
inline constexpr sql_statement peer_lease_left{"peer_lease_left", R"(
  SELECT hitl_micros(min(lease_until)) - hitl_micros(now()) FROM hitl_nodes
  WHERE {node_live} AND node_id <> $1::uuid AND policy_version = $2
    AND wire_version = $3)"};

// Where the live nodes of policy $1 and wire version $2 that have a
// gateway listen.
inline constexpr sql_statement node_gateways{"node_gateways", R"(
  SELECT node_id::text, node_endpoint FROM hitl_nodes
  WHERE {node_live} AND node_endpoint IS NOT NULL AND policy_version = $1
    AND wire_version = $2
  ORDER BY node_id)"};

// Every node ever seen, with its live flag and how many partitions it
// holds.
inline constexpr sql_statement node_list{"node_list", R"(
  SELECT n.node_id::text, n.node_endpoint, n.http_endpoint, n.policy_version,
         n.wire_version, hitl_micros(n.started_at), hitl_micros(n.lease_until),
         n.{node_live},
         (SELECT count(*) FROM hitl_partitions p WHERE p.owner_node = n.node_id)
  FROM hitl_nodes n
  ORDER BY n.{node_live} DESC, n.started_at, n.node_id)"};

// Each partition's owner while that owner's lease runs (NULL otherwise),
// and its epoch, in partition order.
inline constexpr sql_statement partition_owners{"partition_owners", R"(
  SELECT p.partition_id, n.node_id::text, p.epoch
  FROM hitl_partitions p
  LEFT JOIN hitl_nodes n ON n.node_id = p.owner_node AND n.{node_live}
  ORDER BY p.partition_id)"};

// Node $1 takes the partitions of $2 that nobody live holds, or that it
// holds itself (an earlier run of it), while its own lease runs; each taken
// partition's epoch moves on. Rows a commit in flight holds (the auditor's
// batch locks them in hitl_advance_chains) are waited for, then re-checked.
inline constexpr sql_statement partition_acquire{"partition_acquire", R"(
  UPDATE hitl_partitions p
  SET owner_node = $1::uuid, epoch = p.epoch + 1, acquired_at = now()
  WHERE p.partition_id = ANY($2::smallint[])
    AND EXISTS (SELECT 1 FROM hitl_nodes me
                WHERE me.node_id = $1::uuid AND me.{node_live})
    AND (p.owner_node IS NULL OR p.owner_node = $1::uuid
         OR NOT EXISTS (SELECT 1 FROM hitl_nodes o
                        WHERE o.node_id = p.owner_node AND o.{node_live}))
  RETURNING p.partition_id, p.epoch)"};

// Node $1 gives up the partitions of $2 that it holds at the epochs of $3;
// the epoch stays, the next owner's acquisition moves it.
inline constexpr sql_statement partition_release{"partition_release", R"(
  UPDATE hitl_partitions p SET owner_node = NULL, acquired_at = NULL
  FROM unnest($2::smallint[], $3::bigint[]) AS r(partition_id, epoch)
  WHERE p.partition_id = r.partition_id AND p.epoch = r.epoch
    AND p.owner_node = $1::uuid
  RETURNING p.partition_id)"};

// The partition of patch $1, as the database computes it.
inline constexpr sql_statement partition_of_patch{"partition_of_patch", R"(
  SELECT hitl_partition_of($1))"};

inline constexpr sql_fragment cluster_fragments[] = {node_live};

inline constexpr sql_statement cluster_statements[] = {
  membership_lock, node_renew, node_leave, node_peers, peer_lease_left,
  node_gateways, node_list,
  partition_owners,
  partition_acquire, partition_release, partition_of_patch,
};

} // namespace hitl::sql
