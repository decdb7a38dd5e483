#pragma once

// The tunable part of the policy (SPEC §2). The rules themselves live in
// auto_approval.cpp and escalation_schedule.cpp; this struct only holds their
// thresholds, so a config file can change them without a rebuild.

#include "policy/decision.hpp"
#include "policy/timestamp.hpp"

#include <array>
#include <optional>
#include <string>

namespace hitl {

/// Version of the rules' code: bump it whenever `judge`, the escalation
/// schedule or the approval rules change meaning, even if no threshold does,
/// so that records judged by the old code stay distinguishable.
constexpr int rule_set_version = 1;

/// Thresholds and per-urgency settings of the policy; defaults per SPEC §2.
struct policy_config {
  /// Lowest ML confidence that may auto-approve; equality passes.
  double min_confidence = 0.95;

  /// SLA for a human verdict, indexed by `urgency`; `std::nullopt` means the
  /// priority has no deadline and never escalates.
  std::array<std::optional<duration>, urgency_count> sla{
    std::nullopt,                 // low
    duration{900'000'000},        // medium: 15 min
    duration{600'000'000},        // high: 10 min
    duration{300'000'000},        // critical: 5 min
  };

  /// Interval between escalation levels; `std::nullopt` repeats the
  /// priority's SLA.
  std::optional<duration> escalation_repeat;

  /// Highest escalation level; 0 disables escalation (the SLA status still
  /// turns `breached`).
  int max_escalation_level = 3;

  /// Distinct approvals needed, indexed by the severity (`urgency`).
  std::array<int, urgency_count> approvals_required{1, 1, 1, 2};

  /// SLA of a priority, if it has one.
  std::optional<duration> sla_of(urgency u) const {
    return sla[static_cast<size_t>(u)];
  }

  /// Approvals needed for a severity.
  int approvals_for(urgency severity) const {
    return approvals_required[static_cast<size_t>(severity)];
  }

  /// Identifies these settings together with the rules' code:
  /// `"<rule_set_version>.<8 hex digits>"`, the digits being the start of the
  /// SHA-256 of the canonical settings. Equal settings give equal versions on
  /// every platform; changing any setting changes the version.
  std::string version() const;
};

} // namespace hitl
