#pragma once

#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>

#include <cstddef>

namespace hitl {

/// Spawns `workers` detached actors behind one round-robin handle, each
/// answering read-only queries from the pool on its own thread, so that
/// blocking libpqxx calls never run on the scheduler:
///   (ping) -> bool
///   (get, decision_id) -> std::optional<decision_view>
///   (by_patch, patch_id) -> std::optional<decision_record>  (newest)
caf::actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool,
                           size_t workers);

} // namespace hitl
