#pragma once

// A node's clocks, against the database's (the simulation's true time):
// its wall clock is off by a constant offset and runs fast or slow by a
// drift; its steady clock (what CAF's delayed_send measures) runs at the
// same rate without the offset. A node arms escalation timers for a wall
// time and renews its lease every renew_every of its steady clock; the
// database decides leases on its own clock (now() in the SQL).

#include "measured.hpp"

#include <algorithm>

namespace hitl::sim {

struct node_clock {
  micros offset = 0;
  double drift_ppm = 0;

  /// The node's wall clock at database time `t`.
  micros wall(micros t) const {
    return t + offset + static_cast<micros>(drift_ppm * 1e-6 * double(t));
  }

  /// Database time that passes while the node's steady clock counts `d`.
  micros real_of(micros d) const {
    return static_cast<micros>(double(d) / (1 + drift_ppm * 1e-6));
  }

  /// Database time at which a timer armed at `t` for wall time `w` fires
  /// (at once when `w` has passed on the node's clock).
  micros fire_time(micros t, micros w) const {
    return t + std::max<micros>(0, real_of(w - wall(t)));
  }
};

} // namespace hitl::sim
