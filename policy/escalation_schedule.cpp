#include "policy/escalation_schedule.hpp"

#include <algorithm>

namespace hitl {

// -- escalation levels --------------------------------------------------------

std::optional<duration> escalation_interval(const policy_config& cfg,
                                            urgency priority) {
  auto interval = cfg.escalation_repeat ? cfg.escalation_repeat
                                        : cfg.sla_of(priority);
  // A zero interval would make every level due at once.
  if (interval && interval->count() > 0)
    return interval;
  return std::nullopt;
}

std::optional<timestamp> escalation_time(const policy_config& cfg,
                                         urgency priority,
                                         timestamp sla_deadline, int level) {
  if (level < 1 || level > cfg.max_escalation_level)
    return std::nullopt;
  if (level == 1)
    return sla_deadline;
  auto interval = escalation_interval(cfg, priority);
  if (!interval)
    return std::nullopt;
  return sla_deadline + (level - 1) * *interval;
}

int due_level(const policy_config& cfg, urgency priority,
              timestamp sla_deadline, timestamp now) {
  if (cfg.max_escalation_level < 1 || now < sla_deadline)
    return 0;
  auto interval = escalation_interval(cfg, priority);
  if (!interval)
    return 1;
  // Divide in int64 and cap before narrowing: a decision left open for
  // years must not overflow the level.
  int64_t repeats = (now - sla_deadline) / *interval;
  int64_t cap = cfg.max_escalation_level - 1;
  return static_cast<int>(1 + std::min(repeats, cap));
}

std::optional<timestamp> next_escalation(const policy_config& cfg,
                                         urgency priority,
                                         timestamp sla_deadline,
                                         int current_level) {
  return escalation_time(cfg, priority, sla_deadline,
                         std::max(current_level, 0) + 1);
}

// -- SLA status ---------------------------------------------------------------

std::string_view to_string(sla_status s) {
  switch (s) {
    case sla_status::ok:
      return "ok";
    case sla_status::at_risk:
      return "at_risk";
    case sla_status::breached:
      return "breached";
  }
  return "ok";
}

sla_status sla_status_at(timestamp created_at,
                         std::optional<timestamp> sla_deadline,
                         timestamp now) {
  if (!sla_deadline)
    return sla_status::ok;
  if (now >= *sla_deadline)
    return sla_status::breached;
  // Integer microseconds, multiplied rather than divided, so the boundary is
  // exact and matches the SQL.
  auto remaining = *sla_deadline - now;
  auto window = *sla_deadline - created_at;
  if (4 * remaining < window)
    return sla_status::at_risk;
  return sla_status::ok;
}

} // namespace hitl
