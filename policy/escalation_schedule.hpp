#pragma once

// When an open decision escalates (SPEC §2) and how close it is to its
// deadline. Pure functions of the deadline and the clock, so a restarted
// patch actor re-arms its timer from the database alone.

#include "policy/decision.hpp"
#include "policy/policy_config.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace hitl {

// -- escalation levels --------------------------------------------------------

/// Interval between escalation levels for a priority: the configured repeat,
/// else the priority's SLA; `std::nullopt` when neither is positive, in which
/// case only level 1 exists.
std::optional<duration> escalation_interval(const policy_config& cfg,
                                            urgency priority);

/// When `level` is reached: `sla_deadline + (level - 1) * interval` for
/// `1 <= level <= max_escalation_level`, `std::nullopt` otherwise.
std::optional<timestamp> escalation_time(const policy_config& cfg,
                                         urgency priority,
                                         timestamp sla_deadline, int level);

/// The highest level whose time is at or before `now`; 0 before the
/// deadline, never above `max_escalation_level`.
int due_level(const policy_config& cfg, urgency priority,
              timestamp sla_deadline, timestamp now);

/// When the level after `current_level` is due, if there is one: what a
/// patch actor arms its timer for.
std::optional<timestamp> next_escalation(const policy_config& cfg,
                                         urgency priority,
                                         timestamp sla_deadline,
                                         int current_level);

// -- SLA status ---------------------------------------------------------------

/// What the pending queue shows next to each item.
enum class sla_status : uint8_t { ok, at_risk, breached };

std::string_view to_string(sla_status s);

/// `breached` once `now >= deadline`; `at_risk` while less than a quarter of
/// the window `[created_at, deadline)` remains, i.e. when
/// `4 * (deadline - now) < deadline - created_at`; `ok` otherwise and
/// always without a deadline.
/// The SQL of the pending queue computes the same status with the same 25 %
/// rule; change both together:
///   CASE WHEN sla_deadline IS NULL THEN 'ok'
///        WHEN now() >= sla_deadline THEN 'breached'
///        WHEN 4 * (sla_deadline - now()) < sla_deadline - created_at
///          THEN 'at_risk'
///        ELSE 'ok' END
sla_status sla_status_at(timestamp created_at,
                         std::optional<timestamp> sla_deadline,
                         timestamp now);

} // namespace hitl
