#include "actors/membership.hpp"

#include "actors/guarded_actor.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "policy/partition.hpp"
#include "policy/scan_plan.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <map>

namespace hitl {

struct membership_tick {};

namespace {

constexpr membership_tick membership_scan_tick{};

struct membership_state {
  connection_pool* pool = nullptr;
  membership_options opts;
  // partition -> the epoch it is held at.
  std::map<int, std::int64_t> held;
  std::optional<std::chrono::steady_clock::time_point> renewed_at;
  /// Until the next scan: the period, or less when another node's lease
  /// runs out sooner (policy/scan_plan's next_scan_in).
  duration next_scan{};
  bool left = false;
  bool told = false; // the listener knows what is held
  /// What the map listeners were told last.
  partition_map map;
  bool map_told = false;
  prometheus::Gauge* owned = nullptr;
  prometheus::Counter* takeovers = nullptr;
  prometheus::Counter* renewal_failures = nullptr;
  static inline const char* name = "membership";
};

using membership_self = guarded_typed<membership_state, membership_actor>;

std::vector<partition_lease> held_leases(
  const std::map<int, std::int64_t>& held) {
  std::vector<partition_lease> out;
  for (const auto& [p, epoch] : held)
    out.push_back({partition_id{p}, epoch});
  return out;
}

void count_renewal_failure(membership_state& st) {
  if (st.renewal_failures)
    st.renewal_failures->Increment();
}

void show_owned(membership_state& st) {
  if (st.owned)
    st.owned->Set(static_cast<double>(st.held.size()));
}

// The renewal, in a transaction of its own: it waits for no other node.
// The lease counts from before it was asked for.
void renew(membership_state& st) {
  auto asked = std::chrono::steady_clock::now();
  st.pool->transact([&](pqxx::transaction_base& txn) {
    renew_node_lease(txn, st.opts.identity, st.opts.lease);
  });
  st.renewed_at = asked;
}

// One scan: take and hand over what the plan says, in one transaction, so
// that what the node believes it holds is what committed. Returns whether
// what the node holds changed. Throws membership_busy when the other
// nodes' scans kept it waiting past `scan_wait`.
bool membership_scan(membership_state& st, partition_map& map) {
  const auto& me = st.opts.identity;
  std::vector<partition_lease> taken;
  std::vector<partition_id> released;
  std::vector<int> lost;
  std::vector<partition_owner> owners;
  std::vector<node_gateway> gateways;
  st.pool->transact([&](pqxx::transaction_base& txn) {
    taken.clear();
    released.clear();
    lost.clear();
    lock_membership(txn, st.opts.scan_wait);
    auto live = live_peers(txn, me.policy_version, me.wire_version);
    st.next_scan = next_scan_in(st.opts.renew_every, peer_lease_left(txn, me));
    owners = partition_owners(txn);
    if (!st.opts.map_listeners.empty())
      gateways = live_gateways(txn, me.policy_version, me.wire_version);
    std::vector<partition_row> rows;
    rows.reserve(owners.size());
    for (const auto& o : owners)
      rows.push_back({o.node_id, o.epoch});
    auto plan =
      plan_scan(me.node_id, st.held, live, rows, st.opts.max_release);
    lost = std::move(plan.lost);
    released = release_partitions(txn, me.node_id, plan.release);
    taken = acquire_partitions(txn, me.node_id, plan.acquire);
  });
  for (int p : lost)
    st.held.erase(p);
  for (auto p : released)
    st.held.erase(p.value);
  for (const auto& l : taken) {
    st.held[l.partition.value] = l.epoch;
    if (l.epoch > 1 && st.takeovers)
      st.takeovers->Increment();
  }
  if (!lost.empty())
    spdlog::warn("membership: {} partition(s) were taken over by another "
                 "node while this one's lease had run out",
                 lost.size());
  if (!taken.empty() || !released.empty())
    spdlog::info("membership: took {} partition(s), handed over {}; "
                 "holding {}",
                 taken.size(), released.size(), st.held.size());
  show_owned(st);
  // Who holds what now: as read, with this scan's own moves.
  map.owners.assign(partition_count, std::string{});
  for (int p = 0; p < partition_count; ++p) {
    const auto& o = owners[static_cast<std::size_t>(p)].node_id;
    if (st.held.count(p) > 0)
      map.owners[static_cast<std::size_t>(p)] = me.node_id;
    else if (o && *o != me.node_id)
      map.owners[static_cast<std::size_t>(p)] = *o;
  }
  map.gateway_nodes.clear();
  map.gateway_endpoints.clear();
  for (auto& g : gateways) {
    map.gateway_nodes.push_back(std::move(g.node_id));
    map.gateway_endpoints.push_back(std::move(g.endpoint));
  }
  return !lost.empty() || !released.empty() || !taken.empty();
}

void tell_map(membership_self* self, partition_map&& map) {
  auto& st = self->state;
  if (st.map_told && map == st.map)
    return;
  st.map = std::move(map);
  st.map_told = true;
  for (const auto& listener : st.opts.map_listeners)
    self->send(listener, atoms::owners::value, st.map);
}

void tell_listener(membership_self* self) {
  auto& st = self->state;
  held_partitions h;
  h.node_id = st.opts.identity.node_id;
  for (const auto& [p, epoch] : st.held) {
    h.partitions.push_back(p);
    h.epochs.push_back(epoch);
  }
  for (const auto& listener : st.opts.listeners)
    self->send(listener, atoms::partitions::value, h);
  st.told = true;
}

int membership_leave(membership_state& st) {
  auto held = held_leases(st.held);
  std::vector<partition_id> released;
  st.pool->transact([&](pqxx::transaction_base& txn) {
    released = release_partitions(txn, st.opts.identity.node_id, held);
    end_node_lease(txn, st.opts.identity.node_id);
  });
  st.held.clear();
  st.left = true;
  show_owned(st);
  spdlog::info("membership: left the cluster, released {} partition(s)",
               released.size());
  return static_cast<int>(released.size());
}

membership_actor::behavior_type membership(membership_self* self,
                                           connection_pool* pool,
                                           membership_options opts) {
  // A failed scan is tried again at the next tick; the tick itself must
  // not be lost with it.
  guard(self, opts.failures, "membership",
        [](membership_self* self, const caf::error&) {
          auto* failed = self->current_mailbox_element();
          if (failed && failed->content().match_elements<membership_tick>()) {
            count_renewal_failure(self->state);
            self->delayed_send(self, self->state.opts.renew_every,
                               membership_scan_tick);
          }
        });
  auto& st = self->state;
  st.pool = pool;
  st.opts = std::move(opts);
  if (st.opts.registry) {
    st.owned = &prometheus::BuildGauge()
                  .Name("hitl_partitions_owned")
                  .Help("Partitions this node holds (of 256)")
                  .Register(*st.opts.registry)
                  .Add({});
    st.takeovers = &prometheus::BuildCounter()
                      .Name("hitl_partition_takeovers_total")
                      .Help("Partitions this node took that another node (or "
                            "an earlier run of this one) held before")
                      .Register(*st.opts.registry)
                      .Add({});
    st.renewal_failures =
      &prometheus::BuildCounter()
         .Name("hitl_lease_renewal_failures_total")
         .Help("Renewals of this node's lease that failed (database "
               "unreachable); past the lease (6 s) its "
               "partitions go to other nodes")
         .Register(*st.opts.registry)
         .Add({});
  }
  self->send(self, membership_scan_tick);
  return {
    [=](membership_tick) {
      auto& st = self->state;
      if (st.left)
        return;
      try {
        renew(st);
      } catch (const db_error& e) {
        count_renewal_failure(st);
        spdlog::warn("membership: cannot renew the node's lease: {}", e.what());
        self->delayed_send(self, st.opts.renew_every, membership_scan_tick);
        return;
      }
      try {
        partition_map map;
        if (membership_scan(st, map) || !st.told)
          tell_listener(self);
        tell_map(self, std::move(map));
        self->delayed_send(self, st.next_scan, membership_scan_tick);
      } catch (const membership_busy&) {
        // Renewed; what to take or hand over waits for the next tick.
        spdlog::debug("membership: other nodes' scans held the lock; "
                      "scanning at the next tick");
        self->delayed_send(self, st.opts.renew_every, membership_scan_tick);
      } catch (const db_error& e) {
        spdlog::warn("membership: the scan failed: {}", e.what());
        self->delayed_send(self, st.opts.renew_every, membership_scan_tick);
      }
    },
    [=](atoms::partitions) {
      const auto& st = self->state;
      node_partitions out;
      out.node_id = st.opts.identity.node_id;
      for (const auto& [p, epoch] : st.held)
        out.partitions.push_back(p);
      out.lease_running =
        !st.left && st.renewed_at
        && std::chrono::steady_clock::now() - *st.renewed_at < st.opts.lease;
      return out;
    },
    [=](atoms::leave) -> int { return membership_leave(self->state); },
  };
}

} // namespace

membership_actor spawn_membership(caf::actor_system& sys, connection_pool& pool,
                                  membership_options opts) {
  return sys.spawn<caf::detached>(membership, &pool, std::move(opts));
}

void leave_cluster(caf::actor_system& sys, membership_actor& m) {
  if (!m)
    return;
  caf::scoped_actor self{sys};
  self->request(m, std::chrono::seconds(10), atoms::leave::value)
    .receive([](int) {},
             [](const caf::error& e) {
               spdlog::warn("membership: could not leave the cluster ({}); "
                            "its partitions wait for the lease to run out",
                            caf::to_string(e));
             });
  self->monitor(m);
  self->send_exit(m, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {},
                caf::after(std::chrono::seconds(10)) >> [] {});
  m = nullptr;
}

} // namespace hitl
