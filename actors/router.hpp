#pragma once

#include "actors/actor_failures.hpp"
#include "actors/messages.hpp"
#include "actors/supervisor.hpp"
#include "policy/timestamp.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace hitl {

struct router_options {
  std::string node_id;
  /// This node's supervisor.
  decision_service local;
  /// How long a request is retried while its partition has no reachable
  /// owner, or its owner answers `moved` (it lost the partition meanwhile);
  /// then 503.
  duration retry_for = std::chrono::seconds(5);
  actor_failures failures;
};

/// decision_service, plus `(owners, partition_map)` from the membership.
using router_actor = decision_service::extend<
  caf::reacts_to<atoms::owners, partition_map>>;

/// Spawns the router in front of the supervisor of a node that forwards
/// (SPEC §8): each request goes to the node that holds its patch's
/// partition, as the membership's last map says: to this node's supervisor,
/// or through CAF's remote actors to the other node's gateway (connected
/// on first use, monitored, reconnected). Every request has a timeout. A
/// `moved` answer, or an owner not reachable yet, is retried for
/// `retry_for`, then answered 503. A creation gets its decision id here,
/// so that a retry is the same creation (idempotent); a verdict that
/// reached a node that did not answer is never retried: its outcome is
/// unknown, and 503 says so.
router_actor spawn_router(caf::actor_system& sys, router_options opts);

/// Spawns a node's gateway, the actor it publishes for the other nodes'
/// routers: it passes each request to `local`, the node's supervisor,
/// which answers `moved` for a partition it does not hold. It never
/// forwards, so a request crosses at most one node boundary.
decision_service spawn_gateway(caf::actor_system& sys, decision_service local);

} // namespace hitl
