#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <memory>

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

  bool ok() const {
    return database && supervisor && auditor;
  }
};

/// Spawns the actor behind /health. `(health) -> health_report` asks the
/// supervisor and the auditor for a `(ping)` and the readers for a database
/// probe, each within 3 s, and keeps the report for 1 s: requests in that
/// time, or while a round is under way, share it, so that any number of
/// them costs at most one round (one database probe, counted in
/// hitl_health_probes_total) per second.
caf::actor spawn_health_check(caf::actor_system& sys, caf::actor supervisor,
                              caf::actor auditor, caf::actor reader,
                              std::shared_ptr<prometheus::Registry> registry);

} // namespace hitl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::health_report)
