#pragma once

#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace hitl {

/// When a patch actor starts: `now` (scheduled at once: it arms its SLA
/// timer right away), or `on_first_message` (spawned with caf::lazy_init:
/// it costs no scheduling and no timer until a message arrives; `(wake)`
/// is a message that does nothing else). Recovery spawns thousands of
/// actors at once, so it starts them on their first message, and the
/// supervisor sends `(wake)` when the next escalation is due.
enum class patch_start { now, on_first_message };

/// Spawns the actor that owns one open decision: it checks every transition
/// against the policy, asks the auditor to commit it and replies only after
/// the commit, processing one transition at a time. It arms the SLA timer
/// when it starts and escalates when it fires, once per level; a deadline
/// already past when it starts (recovery) escalates at once, each missed
/// level in order. When the decision becomes final it tells the supervisor
/// `(finished, id)`, answers late requests with a conflict, and quits on
/// `(stop)`.
///   (approve | reject | cancel, verdict_request) -> decision_record
///   (comment, verdict_request) -> comment
///   (get) -> decision_record
///   (wake) -> nothing (see patch_start)
caf::actor spawn_patch_actor(caf::actor_system& sys, decision_record rec,
                             caf::actor auditor, caf::actor supervisor,
                             std::shared_ptr<const policy_config> policy,
                             patch_start start = patch_start::now);

} // namespace hitl
