#pragma once

// PostgreSQL as the cluster sees it (persistence/cluster_sql.hpp and
// hitl_advance_chains in schema/021): node leases on the database's clock,
// partition owners and epochs, each decision's escalation level. Each
// method is one statement's effect, at database time `t`.

#include "measured.hpp"
#include "policy/scan_plan.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl::sim {

class database_model {
public:
  database_model(std::vector<std::string> node_ids, int decisions);

  /// node_renew: the lease runs until t + lease_length.
  void renew(int node, micros t);
  bool live(int node, micros t) const;
  /// node_peers: live node ids, ordered by id.
  std::vector<std::string> live_ids(micros t) const;
  /// peer_lease_left: until the earliest lease among the live nodes other
  /// than `node` ends; nullopt when none is live.
  std::optional<micros> peer_lease_left(int node, micros t) const;
  /// partition_owners: owner while its lease runs, else none.
  std::vector<partition_row> rows(micros t) const;
  /// partition_acquire: those of `ps` nobody live holds (or `node` holds),
  /// while `node` is live, at the next epoch.
  std::vector<partition_lease> acquire(int node,
                                       const std::vector<partition_id>& ps,
                                       micros t);
  /// partition_release: those held by `node` at the named epochs.
  std::vector<partition_id> release(int node,
                                    const std::vector<partition_lease>& ls);
  /// The fence of hitl_advance_chains.
  bool holds(int node, partition_lease l) const;

  int owner(int p) const {
    return owner_[static_cast<std::size_t>(p)];
  }
  std::int64_t epoch(int p) const {
    return epoch_[static_cast<std::size_t>(p)];
  }
  int index_of(const std::string& id) const;
  const std::string& id_of(int node) const {
    return ids_[static_cast<std::size_t>(node)];
  }

  /// Each decision's committed escalation level.
  std::vector<int> level;

private:
  std::vector<std::string> ids_;
  std::vector<micros> lease_until_;
  std::vector<int> owner_;
  std::vector<std::int64_t> epoch_;
};

} // namespace hitl::sim
