#pragma once

// Message tags of the actor system (CAF 0.17: at most 10 characters each).

#include <caf/atom.hpp>

namespace hitl::atoms {

using ping = caf::atom_constant<caf::atom("ping")>;

} // namespace hitl::atoms
