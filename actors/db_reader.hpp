#pragma once

#include "actors/actor_failures.hpp"
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
///   (pending, pending_filter) -> pending_page
///   (summary, summary_request) -> decision_summary
///   (audit, audit_filter) -> std::vector<audit_entry>
///   (verify) -> verification_report
///   (token) -> std::vector<token_info>  (neither revoked nor expired)
///   (token, token_hash) -> std::optional<token_info>  (and records the use)
///   (touch, std::vector<int64_t> ids) -> size_t  (last_used_at written)
/// An exception in a worker is answered `internal` and counted in
/// `failures`; the worker lives on.
caf::actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool,
                           size_t workers,
                           actor_failures failures = actor_failures{});

} // namespace hitl
