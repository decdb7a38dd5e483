#pragma once

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/messages.hpp"
#include "actors/wall_clock.hpp"
#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

namespace hitl {

/// What a patch actor tells the actor that owns it (the supervisor):
///   (finished, decision_ref)  its decision is final: stop it
///   (escalate, escalation)  its SLA timer when it was far away: passed back
///     while the decision is open (see spawn_supervisor)
using patch_owner =
  caf::typed_actor<caf::reacts_to<atoms::finished, decision_ref>,
                   caf::reacts_to<atoms::escalate, escalation>>;

/// A patch actor's protocol:
///   (approve | reject | cancel, verdict_request) -> decision_record
///   (comment, verdict_request) -> comment
///   (escalate, escalation)  (its own decision's)
///   (get) -> decision_record
///   (stop)
using patch_actor = caf::typed_actor<
  caf::replies_to<atoms::approve, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::reject, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::cancel, verdict_request>::with<decision_record>,
  caf::replies_to<atoms::comment, verdict_request>::with<comment>,
  caf::reacts_to<atoms::escalate, escalation>,
  caf::replies_to<atoms::get>::with<decision_record>,
  caf::reacts_to<atoms::stop>>;

/// Spawns the actor that owns one open decision: it checks every transition
/// against the policy, asks the auditor to commit it and replies only after
/// the commit, processing one transition at a time. It arms the SLA timer
/// and escalates when it fires, once per level; a deadline already past at
/// spawn (recovery) escalates at once, each missed level in order. When the
/// decision becomes final it tells its owner `(finished, decision_ref)`,
/// answers late verdicts with a conflict, and quits on `(stop)`. An
/// exception in a handler is answered `internal`, counted in `failures`,
/// and ends the actor (its supervisor rebuilds it from the database). It
/// reads the time from `clock`.
patch_actor spawn_patch_actor(caf::actor_system& sys, decision_record rec,
                              auditor_actor auditor, patch_owner supervisor,
                              std::shared_ptr<const policy_config> policy,
                              actor_failures failures = actor_failures{},
                              wall_clock clock = system_wall_clock());

} // namespace hitl
