#pragma once

#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

namespace hitl {

/// Spawns the supervisor: it owns the index of open decisions (by id and by
/// patch), spawns one patch actor per open decision, creates decisions
/// idempotently, routes human actions to the patch actor, and rebuilds a
/// patch actor that failed from the database. The actors of `open` (the
/// recovered decisions) are spawned dormant (caf::lazy_init): none runs or
/// arms a timer at start, so the supervisor answers at once; each starts at
/// its first message, a human action or the `(wake)` the supervisor sends it
/// from one ordered schedule when its next escalation is due, and then arms
/// its SLA timer with the time left (missed levels escalate at once).
///   (create, create_request) -> create_result
///   (approve | reject | cancel, verdict_request) -> decision_record
///   (comment, verdict_request) -> comment
///   (wait, decision_id, seconds) -> bool (final within the time)
///   (stats) -> size_t (open decisions)
caf::actor spawn_supervisor(caf::actor_system& sys,
                            std::shared_ptr<const policy_config> policy,
                            caf::actor auditor, caf::actor reader,
                            std::vector<decision_record> open);

} // namespace hitl
