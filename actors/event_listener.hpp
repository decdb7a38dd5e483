#pragma once

// The protocol of those that follow the commits: the auditor sends each
// committed batch to every listener that subscribed (actors/auditor.hpp).

#include "actors/atoms.hpp"
#include "actors/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace hitl {

/// `(event, committed_events)`: the events of one committed batch, in
/// commit order, after its COMMIT.
using event_listener =
  caf::typed_actor<caf::reacts_to<atoms::event, committed_events>>;

} // namespace hitl
