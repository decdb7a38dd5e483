#pragma once

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

/// The version of the messages nodes exchange: nodes share partitions only
/// with nodes of the same one. 2: long-polls are no longer forwarded (each
/// node's cluster feed releases its own).
inline constexpr int wire_version = 2;

struct membership_options {
  node_identity identity;
  /// How long a renewal keeps the node live, and how often it renews (a
  /// quarter of it, so that three renewals in a row may fail before the
  /// lease runs out).
  duration lease = std::chrono::seconds(6);
  duration renew_every = std::chrono::milliseconds(1500);
  /// How long a scan waits for the other nodes' scans (one runs at a time)
  /// before it leaves taking and handing over to its next tick. The lease
  /// is renewed first, on its own: with many nodes on a busy database the
  /// scans queue, and a renewal in the queue ran past the lease.
  duration scan_wait = std::chrono::seconds(1);
  /// Partitions handed to each joining node per scan.
  std::size_t max_release = 8;
  /// Told what the node holds after the first scan and every scan that
  /// changed it: the auditor, which fences its batches with it, and the
  /// supervisor, which loads and lets go of open decisions.
  std::vector<partition_listener> listeners;
  /// Told who holds each partition and where the nodes' gateways listen,
  /// after every scan that changed it: the router.
  std::vector<map_listener> map_listeners;
  std::shared_ptr<prometheus::Registry> registry;
  actor_failures failures;
};

/// What a node holds, as its last scan found it.
struct node_partitions {
  std::string node_id;
  std::vector<int> partitions; ///< ascending
  /// The last renewal succeeded less than a lease ago.
  bool lease_running = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_partitions& x) {
  return f(caf::meta::type_name("node_partitions"), x.node_id, x.partitions,
           x.lease_running);
}

/// The scan of the membership's own clock: a type that only membership.cpp
/// defines, so that no one else can send it.
struct membership_tick;

/// `(partitions) -> node_partitions`; `(leave) -> int`: releases every
/// partition and ends the lease, answering how many it released.
using membership_actor =
  caf::typed_actor<caf::reacts_to<membership_tick>,
                   caf::replies_to<atoms::partitions>::with<node_partitions>,
                   caf::replies_to<atoms::leave>::with<int>>;

/// Spawns the node's membership (SPEC §8): at once and then every `renew_every`
/// (sooner, just after another node's lease runs out) it renews the node's
/// lease in hitl_nodes; then, in a scan that waits up to `scan_wait` for the
/// other nodes', reads the live nodes and the partitions' owners, takes
/// the unowned partitions that assign_partitions gives it (rendezvous hashing,
/// at most fair share + 10 % a node) and hands over what should be another live
/// node's, at most `max_release` to each (policy/partition), and notices
/// partitions taken from it (their epoch moved); tells `listeners` what it
/// holds. A cluster of one holds all 256 after its first scan. Keeps
/// hitl_partitions_owned and hitl_partition_takeovers_total (partitions taken
/// with an epoch above 1: another node, or an earlier run of this one, held
/// them before). Detached: its database calls block only its own thread.
membership_actor spawn_membership(caf::actor_system& sys,
                                  connection_pool& pool,
                                  membership_options opts);

/// Graceful stop: asks `m` to leave (release its partitions, end its
/// lease), waiting up to 10 s, then stops it. Without it the partitions
/// wait for the lease to run out.
void leave_cluster(caf::actor_system& sys, membership_actor& m);

} // namespace hitl
