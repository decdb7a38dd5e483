#pragma once

#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>

namespace hitl {

/// Spawns a detached actor that answers read-only queries from the pool.
/// Blocking libpqxx calls happen on its own thread, never on the scheduler.
caf::actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool);

} // namespace hitl
