#pragma once

// Node leases and partition ownership in PostgreSQL (SPEC §8, schema 019):
// what a node's membership scan reads and writes, and the fence a group
// commit checks. Every time is the database's.

#include "persistence/db_error.hpp"
#include "persistence/fwd.hpp"
#include "policy/partition.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// Who a node is and where the others reach it.
struct node_identity {
  std::string node_id; ///< a UUID, chosen at start
  std::string node_endpoint; ///< host:port of its CAF gateway; empty: none
  std::string http_endpoint; ///< host:port of its HTTP edge
  std::string policy_version;
  int wire_version = 1;
};

/// A node as `hitl cluster status` shows it.
struct node_status {
  node_identity identity;
  timestamp started_at{};
  timestamp lease_until{};
  bool live = false;
  int partitions = 0;
};

/// A partition's live owner (std::nullopt when nobody live holds it) and
/// its epoch.
struct partition_owner {
  std::optional<std::string> node_id;
  std::int64_t epoch = 0;
};

/// Another node's membership scan held the lock longer than the wait
/// given to lock_membership. The transaction is aborted; nothing changed.
struct membership_busy : db_error {
  explicit membership_busy(const std::string& what)
    : db_error(db_errc::retry, what) {
  }
};

/// Waits until no other membership scan runs, and keeps them waiting until
/// the transaction ends. Call first in a scan's transaction: its statements
/// then see every earlier scan whole. Throws membership_busy after `wait`.
void lock_membership(pqxx::transaction_base& txn, duration wait);

/// Registers the node or renews its lease for `lease`; returns the lease's
/// end.
timestamp renew_node_lease(pqxx::transaction_base& txn,
                           const node_identity& node, duration lease);

/// Ends the node's lease now (graceful stop).
void end_node_lease(pqxx::transaction_base& txn, const std::string& node_id);

/// The live nodes with this policy and wire version, by id.
std::vector<std::string> live_peers(pqxx::transaction_base& txn,
                                    const std::string& policy_version,
                                    int wire_version);

/// How long until the earliest lease among the other live nodes of this
/// policy and wire version runs out, on the database's clock; nullopt when
/// no other node is live. A scan waits no longer than that (a dead node's
/// partitions are taken as soon as its lease ends).
std::optional<duration> peer_lease_left(pqxx::transaction_base& txn,
                                        const node_identity& me);

/// A live node's gateway: where the other nodes forward requests to it.
struct node_gateway {
  std::string node_id;
  std::string endpoint; ///< host:port
};

/// The gateways of the live nodes with this policy and wire version, by id.
std::vector<node_gateway> live_gateways(pqxx::transaction_base& txn,
                                        const std::string& policy_version,
                                        int wire_version);

/// Every node ever registered: the live first, then by start.
std::vector<node_status> list_nodes(pqxx::transaction_base& txn);

/// The 256 partitions' live owners, indexed by partition.
std::vector<partition_owner> partition_owners(pqxx::transaction_base& txn);

/// Takes those of `wanted` that nobody live holds, or that the node holds
/// itself (an earlier run of it), while the node's own lease runs; returns
/// what it took, each at its new epoch.
std::vector<partition_lease> acquire_partitions(
  pqxx::transaction_base& txn, const std::string& node_id,
  const std::vector<partition_id>& wanted);

/// Gives up partitions held at these epochs; returns those released.
std::vector<partition_id> release_partitions(
  pqxx::transaction_base& txn, const std::string& node_id,
  const std::vector<partition_lease>& held);

/// hitl_partition_of, the SQL twin of partition_of.
partition_id sql_partition_of(pqxx::transaction_base& txn,
                              const std::string& patch_id);

} // namespace hitl
