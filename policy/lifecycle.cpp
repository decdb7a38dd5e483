#include "policy/lifecycle.hpp"

#include "policy/auto_approval.hpp"
#include "policy/decision_json.hpp"
#include "policy/json_text.hpp"
#include "policy/sha256.hpp"

namespace hitl {

namespace {

// An audit note's details, in the canonical form that the chain hashes as
// it is (audit_chain.hpp): compact, and the keys in sorted order, which is
// how `write` must give them. Invalid UTF-8 is replaced, as
// canonical_details does; tests/unit/json_text_test.cpp checks both.
template <class Write>
std::string details(Write write) {
  std::string out;
  out.reserve(192);
  json_text w{out, json_text::invalid_utf8::replace};
  w.begin_object();
  write(w);
  w.end_object();
  return out;
}

change finalize(const decision_record& rec, decision_status status,
                const std::string& who, timestamp now) {
  change c;
  c.after = rec;
  c.after.status = status;
  c.after.decided_by = who;
  c.after.decided_at = now;
  c.after.updated_at = now;
  return c;
}

} // namespace

std::string content_hash(const new_decision& nd) {
  return sha256_hex(content_json(nd));
}

change create_change(const policy_config& cfg,
                     const std::string& policy_version,
                     const new_decision& nd, std::string hash,
                     const std::string& decision_id,
                     const std::string& creator, timestamp now) {
  auto verdict = judge(cfg, nd, now);
  change c;
  auto& d = c.after;
  d.decision_id = decision_id;
  d.patch_id = nd.patch_id;
  d.metadata = nd.metadata;
  d.ml = nd.ml;
  d.wargaming = nd.wargaming;
  d.requires_manual_review = nd.requires_manual_review;
  d.priority = verdict.priority;
  d.approvals_required = verdict.approvals_required;
  d.sla_deadline = verdict.sla_deadline;
  d.ml_wargaming_agreement = ml_wargaming_agreement(nd.ml, nd.wargaming);
  d.auto_approval_eligible = verdict.auto_approve;
  d.policy_version = policy_version;
  d.failed_rules = verdict.failed_rules;
  d.created_by = creator;
  d.created_at = now;
  d.updated_at = now;
  d.content_hash = std::move(hash);
  c.notes.push_back({audit_action::created, details([&](json_text& w) {
                       w.key("approvals_required").integer(d.approvals_required)
                         .key("auto_approval_eligible")
                         .boolean(d.auto_approval_eligible)
                         .key("failed_rules").strings(d.failed_rules)
                         .key("patch_id").string(d.patch_id)
                         .key("policy_version").string(d.policy_version)
                         .key("priority").string(to_string(d.priority))
                         .key("severity").string(to_string(d.metadata.severity))
                         .key("sla_deadline").time(d.sla_deadline);
                     })});
  c.events.push_back("decision.created");
  if (verdict.auto_approve) {
    d.status = decision_status::auto_approved;
    d.decided_by = "policy:" + d.policy_version;
    d.decided_at = now;
    d.reason = "auto-approved by policy " + d.policy_version;
    c.notes.push_back({audit_action::auto_approved,
                       details([&](json_text& w) {
                         w.key("ml_confidence").real(d.ml->confidence)
                           .key("policy_version").string(d.policy_version);
                       }),
                       *d.decided_by});
    c.events.push_back("decision.auto_approved");
  }
  return c;
}

outcome<change> approve_change(const decision_record& rec,
                               const std::string& reviewer,
                               const std::optional<std::string>& comment,
                               timestamp now, std::optional<int64_t> token_id) {
  auto ok = check_approval(rec, reviewer);
  if (!ok)
    return ok.error();
  approval a{reviewer, now, comment, token_id, std::nullopt};
  change c;
  if (ok->completes) {
    c = finalize(rec, decision_status::approved, reviewer, now);
    c.after.comment = comment;
  } else {
    c.after = rec;
    c.after.updated_at = now;
  }
  c.after.approvals.push_back(a);
  c.new_approval = a;
  int count = static_cast<int>(c.after.approvals.size());
  c.notes.push_back(
    {ok->completes ? audit_action::approved : audit_action::approval_added,
     details([&](json_text& w) {
       w.key("approvals").integer(count)
         .key("approvals_required").integer(rec.approvals_required)
         .key("comment").string(comment);
     })});
  if (ok->completes)
    c.events.push_back("decision.approved");
  return c;
}

outcome<change> reject_change(const decision_record& rec,
                              const std::string& reviewer,
                              const std::string& reason,
                              const std::optional<std::string>& comment,
                              timestamp now) {
  if (auto err = check_rejection(rec, reason))
    return *err;
  auto c = finalize(rec, decision_status::rejected, reviewer, now);
  c.after.reason = reason;
  c.after.comment = comment;
  c.notes.push_back({audit_action::rejected, details([&](json_text& w) {
                       w.key("comment").string(comment).key("reason").string(
                         reason);
                     })});
  c.events.push_back("decision.rejected");
  return c;
}

outcome<change> cancel_change(const decision_record& rec,
                              const std::string& who,
                              const std::optional<std::string>& reason,
                              timestamp now) {
  if (auto err = check_cancel(rec))
    return *err;
  auto c = finalize(rec, decision_status::cancelled, who, now);
  c.after.reason = reason;
  c.notes.push_back({audit_action::cancelled, details([&](json_text& w) {
                       w.key("reason").string(reason);
                     })});
  c.events.push_back("decision.cancelled");
  return c;
}

std::optional<change> escalate_change(const decision_record& rec, int level,
                                      timestamp now) {
  if (!is_open(rec.status) || level <= rec.escalation_level)
    return std::nullopt;
  change c;
  c.after = rec;
  c.after.status = decision_status::escalated;
  c.after.escalation_level = level;
  c.after.updated_at = now;
  c.notes.push_back({audit_action::escalated, details([&](json_text& w) {
                       w.key("level").integer(level)
                         .key("previous_level").integer(rec.escalation_level)
                         .key("priority").string(to_string(rec.priority))
                         .key("sla_deadline").time(rec.sla_deadline);
                     })});
  c.events.push_back("decision.escalated");
  return c;
}

change comment_change(const decision_record& rec, const comment& cm) {
  change c;
  c.after = rec;
  c.new_comment = cm;
  c.notes.push_back({audit_action::commented, details([&](json_text& w) {
                       w.key("comment").string(cm.text);
                     })});
  c.events.push_back("comment.added");
  return c;
}

} // namespace hitl
