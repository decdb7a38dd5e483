#pragma once

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace hitl {

/// The readers' protocol: read-only queries, except that a token's lookup
/// and `touch` record when tokens were used.
///   (ping) -> bool  (a trivial query answered)
///   (get, decision_ref) -> std::optional<decision_view>
///   (by_patch, patch_ref) -> std::optional<decision_record>  (the newest)
///   (load_open, partition_set) -> std::vector<decision_record>  (the open
///     decisions of those partitions, with their approvals)
///   (pending, pending_filter) -> pending_page
///   (summary, summary_request) -> decision_summary
///   (audit, audit_filter) -> std::vector<audit_entry>
///   (verify) -> verification_report
///   (tokens) -> std::vector<token_info>  (neither revoked nor expired)
///   (token, token_lookup) -> std::optional<token_info>  (and records the use)
///   (touch, token_uses) -> size_t  (last_used_at written)
///   (audit_export, export_request) -> export_summary  (local: a sink)
///   (feed, feed_request) -> feed_page  (the cluster feed's read)
///   (open_total) -> int64_t  (open decisions, every node's)
using db_reader_actor = caf::typed_actor<
  caf::replies_to<atoms::ping>::with<bool>,
  caf::replies_to<atoms::get, decision_ref>::with<std::optional<decision_view>>,
  caf::replies_to<atoms::by_patch, patch_ref>::with<
    std::optional<decision_record>>,
  caf::replies_to<atoms::load_open, partition_set>::with<
    std::vector<decision_record>>,
  caf::replies_to<atoms::pending, pending_filter>::with<pending_page>,
  caf::replies_to<atoms::summary, summary_request>::with<decision_summary>,
  caf::replies_to<atoms::audit, audit_filter>::with<std::vector<audit_entry>>,
  caf::replies_to<atoms::verify>::with<verification_report>,
  caf::replies_to<atoms::tokens>::with<std::vector<token_info>>,
  caf::replies_to<atoms::token, token_lookup>::with<std::optional<token_info>>,
  caf::replies_to<atoms::touch, token_uses>::with<size_t>,
  caf::replies_to<atoms::audit_export, export_request>::with<export_summary>,
  caf::replies_to<atoms::feed, feed_request>::with<feed_page>,
  caf::replies_to<atoms::open_total>::with<int64_t>>;

/// Spawns `workers` detached actors behind one round-robin handle, each
/// answering the queries of db_reader_actor from the pool on its own
/// thread, so that blocking libpqxx calls never run on the scheduler. An
/// exception in a worker is answered `internal` and counted in `failures`;
/// the worker lives on. `detached` is false only under CAF's test
/// coordinator, which then runs the workers with the other actors, one
/// message at a time, on the test's thread.
db_reader_actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool,
                                size_t workers,
                                actor_failures failures = actor_failures{},
                                bool detached = true);

} // namespace hitl
