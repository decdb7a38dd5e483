#pragma once

#include "policy/timestamp.hpp"

#include <functional>

namespace hitl {

/// The time of day as the actors read it: for timestamps, SLA deadlines and
/// the delays of their timers. In service it is the system clock. A test
/// that runs the actors under CAF's test coordinator passes one that follows
/// the coordinator's clock, which moves only when the test moves it, so that
/// an SLA of hours is tested at exact instants and in no time
/// (tests/pg/simulated_service.hpp).
using wall_clock = std::function<timestamp()>;

inline wall_clock system_wall_clock() {
  return [] { return now(); };
}

} // namespace hitl
