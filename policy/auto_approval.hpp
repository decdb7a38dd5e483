#pragma once

// The judgement at creation (SPEC §2): may the patch skip human review, and
// if not, how urgent is the review and how many reviewers must agree.

#include "policy/decision.hpp"
#include "policy/policy_config.hpp"
#include "policy/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

// -- rule names ---------------------------------------------------------------

/// Stable machine names of the auto-approval rules, as recorded in
/// `decision_record::failed_rules`; clients may match on them.
namespace rule {

inline constexpr std::string_view ml_prediction_missing
  = "ml_prediction_missing";
inline constexpr std::string_view ml_prediction_negative
  = "ml_prediction_negative";
inline constexpr std::string_view ml_confidence_below_threshold
  = "ml_confidence_below_threshold";
inline constexpr std::string_view severity_critical = "severity_critical";
inline constexpr std::string_view wargaming_result_missing
  = "wargaming_result_missing";
inline constexpr std::string_view wargaming_validation_failed
  = "wargaming_validation_failed";
inline constexpr std::string_view manual_review_requested
  = "manual_review_requested";

} // namespace rule

// -- judgement ----------------------------------------------------------------

struct judgement {
  /// True exactly when `failed_rules` is empty.
  bool auto_approve = false;
  /// Every rule that failed, in the order of SPEC §2.
  std::vector<std::string> failed_rules;
  /// The severity, or the caller's requested priority if that is higher.
  urgency priority = urgency::medium;
  /// Distinct approvals needed, from the severity.
  int approvals_required = 1;
  /// `created_at` plus the priority's SLA; none when the priority has no SLA
  /// or when no human verdict is awaited (auto-approval).
  std::optional<timestamp> sla_deadline;
};

/// Judges a new decision. Pure: equal inputs give equal judgements.
judgement judge(const policy_config& cfg, const new_decision& nd,
                timestamp created_at);

/// The priority a decision gets: the caller may raise it above the
/// severity's, never lower it.
urgency effective_priority(urgency severity,
                           std::optional<urgency> requested);

} // namespace hitl
