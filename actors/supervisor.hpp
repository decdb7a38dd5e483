#pragma once

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/db_reader.hpp"
#include "actors/messages.hpp"
#include "actors/patch_actor.hpp"
#include "actors/wall_clock.hpp"
#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>

#include <memory>
#include <optional>
#include <vector>

namespace hitl {

/// What the HTTP edge asks of a node's decisions: of its supervisor, or of
/// the router in front of it, which passes each request on to the node that
/// holds the patch's partition (SPEC §8). Also what a node's gateway takes
/// from the other nodes.
///   (create, create_request) -> create_result
///   (approve | reject | cancel, verdict_request) -> decision_record
///   (comment, verdict_request) -> comment
///   (stats) -> size_t  (open decisions)
///   (ping) -> bool  (true: it takes requests; for /health)
using decision_service = caf::typed_actor<
  caf::replies_to<atoms::create, create_request>::with<create_result>,
  caf::replies_to<atoms::approve, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::reject, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::cancel, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::comment, verdict_request>::with<comment>,
  caf::replies_to<atoms::stats>::with<size_t>,
  caf::replies_to<atoms::ping>::with<bool>>;

/// The supervisor's protocol: decision_service, what its patch actors tell
/// it (patch_owner), and
///   (partitions, held_partitions)  (from the membership: what the node
///     holds now)
///   (ready) -> bool  (answered once what the node holds is loaded)
/// A request for a patch whose partition another node holds is answered
/// `moved`.
using supervisor_actor = decision_service::extend_with<patch_owner>::extend<
  caf::reacts_to<atoms::partitions, held_partitions>,
  caf::replies_to<atoms::ready>::with<bool>>;

/// Spawns the supervisor: it owns the index of open decisions (by id and by
/// patch), spawns one patch actor per open decision, creates decisions
/// idempotently, routes human actions to the patch actor, and rebuilds a
/// patch actor that failed from the database. The decisions of `open` (found
/// open at start) stay dormant: indexed, with their records, but no actor is
/// spawned for them, so the supervisor answers at once and they cost no
/// actor's memory. A dormant decision's actor is spawned when a human action
/// reaches it, or, from one ordered schedule and timer, when its next
/// escalation is due; it then arms its SLA timer with the time left (missed
/// levels escalate at once). A patch actor's timer that is further away
/// than a second fires here and is passed on while the decision is open, so
/// that a pending timer never keeps a finished actor in memory. An
/// exception in a handler is answered `internal` and counted in
/// `failures`; the supervisor lives on, a patch actor is rebuilt. It and
/// its patch actors read the time from `clock`.
///
/// With `open`, the node holds every partition (no membership). Without,
/// it holds none until its membership says which (SPEC §8): it then loads
/// the open decisions of each partition it takes, dormant as above (while
/// that runs, requests for the partition are answered 503, retry), and lets
/// go of those of each partition it loses (their actors stop).
supervisor_actor
spawn_supervisor(caf::actor_system& sys,
                 std::shared_ptr<const policy_config> policy,
                 auditor_actor auditor, db_reader_actor reader,
                 std::optional<std::vector<decision_record>> open,
                 actor_failures failures = actor_failures{},
                 wall_clock clock = system_wall_clock());

} // namespace hitl
