#pragma once

#include "actors/atoms.hpp"
#include "actors/membership.hpp"

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

/// The checks of /health, as one round of them found them.
struct health_report {
  /// A trivial query through the database readers answered.
  bool database = false;
  /// How long that took (up to the check's time limit).
  double database_ms = 0;
  /// The supervisor answered: it takes requests.
  bool supervisor = false;
  /// The auditor answered, and its writer's connection is usable.
  bool auditor = false;
  /// The node's membership, when it has one (serve): its id, the
  /// partitions it holds and whether its lease runs. Informational: the
  /// node serves without a lease (the fence, not /health, keeps a node
  /// that lost its partitions from writing to them).
  std::string node_id;
  std::vector<int> partitions;
  bool lease_running = false;

  bool ok() const {
    return database && supervisor && auditor;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("health_report"), x.database, x.database_ms,
           x.supervisor, x.auditor, x.node_id, x.partitions, x.lease_running);
}

/// What the health check asks of the supervisor, the auditor and the
/// readers: `(ping) -> bool`, each in its own sense (see their headers).
using pingable = caf::typed_actor<caf::replies_to<atoms::ping>::with<bool>>;

/// The health check's protocol: `(health) -> health_report`.
using health_check_actor =
  caf::typed_actor<caf::replies_to<atoms::health>::with<health_report>>;

/// Spawns the actor behind /health. `(health) -> health_report` asks the
/// supervisor and the auditor for a `(ping)`, the readers for a database
/// probe (their `(ping)`) and the membership, if any, for its partitions,
/// each within 3 s, and keeps the report for 1 s: requests in that
/// time, or while a round is under way, share it, so that any number of
/// them costs at most one round (one database probe, counted in
/// hitl_health_probes_total) per second.
health_check_actor
spawn_health_check(caf::actor_system& sys, pingable supervisor,
                   pingable auditor, pingable reader, membership_actor membership,
                   std::shared_ptr<prometheus::Registry> registry);

} // namespace hitl
