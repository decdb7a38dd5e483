#pragma once

// CAF 0.17 `inspect` overloads for the policy/ values that actor messages
// carry, so that a message can be serialized to cross a node boundary.
// Here and not in policy/, which stays free of frameworks; ADL finds them
// all the same (namespace hitl). Every field is listed: a field added to a
// value without being added here is caught by the round trip of
// tests/unit/actor_messages_test.cpp only if that test sets it, so add both.

#include "actors/optional_field.hpp"
#include "policy/api_token.hpp"
#include "policy/audit_chain.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/audit_feed.hpp"
#include "policy/audit_filter.hpp"
#include "policy/decision.hpp"
#include "policy/decision_replay.hpp"
#include "policy/decision_summary.hpp"
#include "policy/lifecycle.hpp"
#include "policy/pending_queue.hpp"
#include "policy/verification_report.hpp"

#include <caf/meta/type_name.hpp>

namespace hitl {

// -- a decision ---------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, patch_metadata& x) {
  return f(caf::meta::type_name("patch_metadata"), x.apv_id,
           optional_field(x.cve_id), x.package_name, x.current_version,
           x.target_version, x.severity, optional_field(x.cvss_score),
           x.cwe_ids, x.affected_systems, optional_field(x.patch_size_lines));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ml_prediction& x) {
  return f(caf::meta::type_name("ml_prediction"),
           optional_field(x.model_version), x.confidence, x.prediction,
           x.shap_values, optional_field(x.execution_time_ms));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wargaming_result& x) {
  return f(caf::meta::type_name("wargaming_result"), x.phase1_success,
           x.phase2_success, x.validation_passed,
           optional_field(x.execution_time_ms), optional_field(x.error_message),
           optional_field(x.exploit_id));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, issued_identity& x) {
  return f(caf::meta::type_name("issued_identity"), optional_field(x.token_id),
           optional_field(x.issued_at), optional_field(x.issued_by));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval& x) {
  return f(caf::meta::type_name("approval"), x.by, x.at,
           optional_field(x.comment), optional_field(x.token_id),
           optional_field(x.identity));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, comment& x) {
  return f(caf::meta::type_name("comment"), x.id, x.decision_id, x.author,
           x.text, x.at, x.audit_pseq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_decision& x) {
  return f(caf::meta::type_name("new_decision"), optional_field(x.decision_id),
           x.patch_id, x.metadata, optional_field(x.ml),
           optional_field(x.wargaming), x.requires_manual_review,
           optional_field(x.requested_priority));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_record& x) {
  return f(caf::meta::type_name("decision_record"), x.decision_id, x.patch_id,
           x.metadata, optional_field(x.ml), optional_field(x.wargaming),
           x.requires_manual_review, x.priority, x.status,
           optional_field(x.decided_by), optional_field(x.decided_at),
           optional_field(x.reason), optional_field(x.comment), x.approvals,
           x.approvals_required, x.escalation_level,
           optional_field(x.sla_deadline), x.ml_wargaming_agreement,
           x.auto_approval_eligible, x.policy_version, x.failed_rules,
           x.created_by, x.created_at, x.updated_at, x.version,
           x.content_hash, x.audit_pseq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_note& x) {
  return f(caf::meta::type_name("audit_note"), x.action, x.details_json,
           optional_field(x.performed_by));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change& x) {
  return f(caf::meta::type_name("change"), x.after, x.notes, x.events,
           optional_field(x.new_approval), optional_field(x.new_comment));
}

// -- reads ----------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_cursor& x) {
  return f(caf::meta::type_name("pending_cursor"), x.key1, x.key2,
           x.decision_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_filter& x) {
  return f(caf::meta::type_name("pending_filter"), optional_field(x.priority),
           optional_field(x.severity), x.sort, optional_field(x.after),
           x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_item& x) {
  return f(caf::meta::type_name("pending_item"), x.decision_id, x.patch_id,
           x.apv_id, optional_field(x.cve_id), x.package_name, x.severity,
           x.priority, x.status, optional_field(x.ml_confidence),
           optional_field(x.ml_prediction), optional_field(x.wargaming_passed),
           x.created_at, optional_field(x.sla_deadline), x.escalation_level,
           x.approvals_required);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_page& x) {
  return f(caf::meta::type_name("pending_page"), x.items, x.total,
           optional_field(x.next));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_summary& x) {
  return f(caf::meta::type_name("decision_summary"), x.total, x.pending,
           x.escalated, x.approved, x.rejected, x.auto_approved, x.cancelled,
           optional_field(x.avg_decision_time_seconds), x.ml_judged,
           x.ml_agreed, optional_field(x.p50_decision_seconds),
           optional_field(x.p90_decision_seconds), x.sla_breaches);
}

// -- the audit trail ----------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_filter& x) {
  return f(caf::meta::type_name("audit_filter"), optional_field(x.decision_id),
           optional_field(x.action), optional_field(x.performed_by),
           optional_field(x.since), optional_field(x.until), x.after_seq,
           x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_entry& x) {
  return f(caf::meta::type_name("audit_entry"), x.seq, x.decision_id, x.action,
           x.performed_by, x.at, x.details_json, optional_field(x.ip_address),
           optional_field(x.user_agent), x.prev_hash, x.hash);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_request& x) {
  return f(caf::meta::type_name("feed_request"), x.known, x.records);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_entry& x) {
  return f(caf::meta::type_name("feed_entry"), x.partition, x.pseq, x.action,
           x.decision_id, x.performed_by, x.at,
           optional_field(x.added_comment), optional_field(x.level));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_page& x) {
  return f(caf::meta::type_name("feed_page"), x.heads, x.entries, x.records,
           x.more);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chain_break& x) {
  return f(caf::meta::type_name("chain_break"), x.seq, x.kind, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_mismatch& x) {
  return f(caf::meta::type_name("decision_mismatch"), x.decision_id, x.field,
           x.in_table, x.in_chain, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_mismatch& x) {
  return f(caf::meta::type_name("token_mismatch"), x.token_id, x.name,
           x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_check& x) {
  return f(caf::meta::type_name("token_check"), x.tokens_checked,
           x.issued_before_trail, x.mismatch_count, x.mismatches);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        verification_report& x) {
  return f(caf::meta::type_name("verification_report"), x.checked,
           optional_field(x.first_break), x.head_hash, x.decisions_checked,
           x.mismatch_count, x.mismatches, x.tokens);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, export_summary& x) {
  return f(caf::meta::type_name("export_summary"), x.entries, x.checkpoints);
}

// -- tokens -------------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_info& x) {
  return f(caf::meta::type_name("token_info"), x.id, x.name, x.role,
           x.created_at, optional_field(x.revoked_at),
           optional_field(x.last_used_at), optional_field(x.expires_at),
           x.token_hash);
}

} // namespace hitl
