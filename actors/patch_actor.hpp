#pragma once

#include "actors/actor_failures.hpp"
#include "actors/auditor.hpp"
#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace hitl {

/// Spawns the actor that owns one open decision: it checks every transition
/// against the policy, asks the auditor to commit it and replies only after
/// the commit, processing one transition at a time. It arms the SLA timer
/// and escalates when it fires, once per level; a deadline already past at
/// spawn (recovery) escalates at once, each missed level in order. When the
/// decision becomes final it tells the supervisor `(finished, id)`, answers
/// late requests with a conflict, and quits on `(stop)`.
///   (approve | reject | cancel, verdict_request) -> decision_record
///   (comment, verdict_request) -> comment
///   (get) -> decision_record
/// An exception in a handler is answered `internal`, counted in `failures`,
/// and ends the actor (its supervisor rebuilds it from the database).
caf::actor spawn_patch_actor(caf::actor_system& sys, decision_record rec,
                             auditor_actor auditor, caf::actor supervisor,
                             std::shared_ptr<const policy_config> policy,
                             actor_failures failures = actor_failures{});

} // namespace hitl
