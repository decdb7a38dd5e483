#pragma once

#include "actors/atoms.hpp"
#include "actors/db_reader.hpp"
#include "actors/event_listener.hpp"
#include "persistence/analytics_repository.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

/// The metrics actor's protocol: it follows the commits (event_listener),
/// and `(stats) -> int64_t` is the number of open decisions its gauge shows.
using metrics_actor = event_listener::extend<
  caf::replies_to<atoms::stats>::with<int64_t>>;

/// Spawns the metrics actor. It starts from `baseline` (the whole database
/// at start) and follows every committed event, so its gauges are true for
/// the whole system, not one page of it: hitl_pending_patches,
/// hitl_ml_accuracy, hitl_auto_approval_rate; and the counters
/// hitl_decisions_total{decision_type}, hitl_escalations_total{level},
/// hitl_sla_breaches_total and the hitl_decision_duration_seconds histogram.
///
/// In a cluster the node sees only its own commits, so the gauges are also
/// read again from the database (SPEC §8: they describe the system):
/// hitl_pending_patches every `refresh.open` from the open counts, the two
/// ratios every `refresh.totals` from the whole summary (a scan of the
/// decisions). A zero interval (and a null reader) reads nothing: the
/// gauges follow this node's commits alone.
struct gauge_refresh {
  db_reader_actor reader;
  std::chrono::milliseconds open{0};
  std::chrono::milliseconds totals{0};
};

metrics_actor
spawn_metrics_actor(caf::actor_system& sys,
                    std::shared_ptr<prometheus::Registry> registry,
                    const decision_summary& baseline,
                    int max_escalation_level,
                    gauge_refresh refresh = gauge_refresh{});

} // namespace hitl
