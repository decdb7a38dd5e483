#pragma once

// The cluster in simulation: nodes that scan, acquire, load, arm timers
// and group-commit escalations under their epochs, against the database
// model, with crashes, pauses and joins; the checker sees every event.

#include "sim_config.hpp"
#include "sim_report.hpp"

namespace hitl::sim {

/// Runs one simulation; `violation` in the result is empty when every
/// invariant held.
sim_stats run_simulation(const sim_config& c);

} // namespace hitl::sim
