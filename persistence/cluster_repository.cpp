#include "persistence/cluster_repository.hpp"

#include "persistence/cluster_sql.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

#include <algorithm>

namespace hitl {

namespace {

std::string partitions_array(const std::vector<partition_lease>& leases) {
  return int_array_literal(leases, [](const partition_lease& l) {
    return l.partition.value;
  });
}

std::string epochs_array(const std::vector<partition_lease>& leases) {
  return int_array_literal(leases,
                           [](const partition_lease& l) { return l.epoch; });
}

} // namespace

void lock_membership(pqxx::transaction_base& txn, duration wait) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait);
  txn.exec("SET LOCAL lock_timeout = " + std::to_string(ms.count()));
  try {
    txn.exec_prepared(sql::membership_lock.name);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "55P03") // lock_not_available
      throw membership_busy(e.what());
    throw;
  }
  // The bound is for this wait only: the scan's row locks wait as long as
  // any write does.
  txn.exec("SET LOCAL lock_timeout TO DEFAULT");
}

timestamp renew_node_lease(pqxx::transaction_base& txn,
                           const node_identity& node, duration lease) {
  sql_params p;
  p.add(node.node_id);
  if (node.node_endpoint.empty())
    p.null();
  else
    p.add(node.node_endpoint);
  p.add(node.http_endpoint)
    .add(node.policy_version).add(node.wire_version)
    .add(static_cast<int64_t>(lease.count()));
  auto r = txn.exec_prepared(sql::node_renew.name, p.dynamic());
  return from_micros(r[0][0].as<int64_t>());
}

void end_node_lease(pqxx::transaction_base& txn, const std::string& node_id) {
  txn.exec_prepared(sql::node_leave.name, node_id);
}

std::vector<std::string> live_peers(pqxx::transaction_base& txn,
                                    const std::string& policy_version,
                                    int wire_version) {
  std::vector<std::string> out;
  for (const auto& row :
       txn.exec_prepared(sql::node_peers.name, policy_version, wire_version))
    out.push_back(row[0].as<std::string>());
  return out;
}

std::optional<duration> peer_lease_left(pqxx::transaction_base& txn,
                                        const node_identity& me) {
  auto r = txn.exec_prepared(sql::peer_lease_left.name, me.node_id,
                             me.policy_version, me.wire_version);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return std::chrono::microseconds{r[0][0].as<int64_t>()};
}

std::vector<node_gateway> live_gateways(pqxx::transaction_base& txn,
                                        const std::string& policy_version,
                                        int wire_version) {
  std::vector<node_gateway> out;
  for (const auto& row : txn.exec_prepared(sql::node_gateways.name,
                                           policy_version, wire_version))
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
  return out;
}

std::vector<node_status> list_nodes(pqxx::transaction_base& txn) {
  std::vector<node_status> out;
  for (const auto& row : txn.exec_prepared(sql::node_list.name)) {
    node_status n;
    n.identity.node_id = row[0].as<std::string>();
    n.identity.node_endpoint = row[1].is_null() ? "" : row[1].as<std::string>();
    n.identity.http_endpoint = row[2].as<std::string>();
    n.identity.policy_version = row[3].as<std::string>();
    n.identity.wire_version = row[4].as<int>();
    n.started_at = from_micros(row[5].as<int64_t>());
    n.lease_until = from_micros(row[6].as<int64_t>());
    n.live = row[7].as<bool>();
    n.partitions = row[8].as<int>();
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<partition_owner> partition_owners(pqxx::transaction_base& txn) {
  std::vector<partition_owner> out(partition_count);
  for (const auto& row : txn.exec_prepared(sql::partition_owners.name)) {
    auto& o = out.at(static_cast<std::size_t>(row[0].as<int>()));
    if (!row[1].is_null())
      o.node_id = row[1].as<std::string>();
    o.epoch = row[2].as<int64_t>();
  }
  return out;
}

std::vector<partition_lease> acquire_partitions(
  pqxx::transaction_base& txn, const std::string& node_id,
  const std::vector<partition_id>& wanted) {
  std::vector<partition_lease> taken;
  if (wanted.empty())
    return taken;
  auto ids = int_array_literal(wanted, [](partition_id p) { return p.value; });
  for (const auto& row :
       txn.exec_prepared(sql::partition_acquire.name, node_id, ids))
    taken.push_back({partition_id{row[0].as<int>()}, row[1].as<int64_t>()});
  std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) {
    return a.partition.value < b.partition.value;
  });
  return taken;
}

std::vector<partition_id> release_partitions(
  pqxx::transaction_base& txn, const std::string& node_id,
  const std::vector<partition_lease>& held) {
  std::vector<partition_id> released;
  if (held.empty())
    return released;
  for (const auto& row :
       txn.exec_prepared(sql::partition_release.name, node_id,
                         partitions_array(held), epochs_array(held)))
    released.push_back(partition_id{row[0].as<int>()});
  return released;
}

partition_id sql_partition_of(pqxx::transaction_base& txn,
                              const std::string& patch_id) {
  auto r = txn.exec_prepared(sql::partition_of_patch.name, patch_id);
  return partition_id{r[0][0].as<int>()};
}

} // namespace hitl
