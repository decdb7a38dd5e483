#include "policy/auto_approval.hpp"

namespace hitl {

urgency effective_priority(urgency severity,
                           std::optional<urgency> requested) {
  if (requested && *requested > severity)
    return *requested;
  return severity;
}

judgement judge(const policy_config& cfg, const new_decision& nd,
                timestamp created_at) {
  judgement result;
  auto fail = [&](std::string_view name) {
    result.failed_rules.emplace_back(name);
  };
  // Every failing rule is listed, not just the first, so a reviewer sees all
  // the reasons the patch landed in the queue.
  if (!nd.ml) {
    fail(rule::ml_prediction_missing);
  } else {
    if (!nd.ml->prediction)
      fail(rule::ml_prediction_negative);
    // Written as "not at least" so that a NaN confidence fails too.
    if (!(nd.ml->confidence >= cfg.min_confidence))
      fail(rule::ml_confidence_below_threshold);
  }
  if (nd.metadata.severity == urgency::critical)
    fail(rule::severity_critical);
  if (!nd.wargaming)
    fail(rule::wargaming_result_missing);
  else if (!nd.wargaming->validation_passed)
    fail(rule::wargaming_validation_failed);
  if (nd.requires_manual_review)
    fail(rule::manual_review_requested);
  result.auto_approve = result.failed_rules.empty();
  result.priority = effective_priority(nd.metadata.severity,
                                       nd.requested_priority);
  result.approvals_required = cfg.approvals_for(nd.metadata.severity);
  // The SLA is for a human verdict; an auto-approved patch awaits none.
  auto sla = cfg.sla_of(result.priority);
  if (sla && !result.auto_approve)
    result.sla_deadline = created_at + *sla;
  return result;
}

} // namespace hitl
