#pragma once

// The life of a decision as pure functions: each takes the current record
// and returns the next one with the audit notes and events the change
// causes. The patch actor calls these; the auditor commits what they return.

#include "policy/approval_rule.hpp"
#include "policy/decision.hpp"
#include "policy/policy_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// One audit entry to be, before the auditor gives it a seq and a hash.
struct audit_note {
  audit_action action;
  /// Canonical compact JSON object.
  std::string details_json;
  /// Who the entry names when not the caller (the policy, the SLA clock).
  std::optional<std::string> performed_by = std::nullopt;
};

/// A change to commit: the record after it, what to audit, what to tell.
struct change {
  decision_record after;
  std::vector<audit_note> notes;
  /// Event names (SPEC §3): decision.created, decision.approved, …
  std::vector<std::string> events;
  std::optional<approval> new_approval;
  std::optional<comment> new_comment;
};

/// SHA-256 over the creator's content in canonical form, so that a retry
/// with the same content is recognised whatever its key order.
std::string content_hash(const new_decision& nd);

/// A new decision: pending, or auto_approved at once (SPEC §2).
/// `policy_version` is `cfg.version()` and `hash` is `content_hash(nd)`:
/// both hash, so the caller computes them once, not per creation.
change create_change(const policy_config& cfg,
                     const std::string& policy_version,
                     const new_decision& nd, std::string hash,
                     const std::string& decision_id,
                     const std::string& creator, timestamp now);

/// `token_id`: the token the reviewer authenticated with, recorded with
/// the approval.
outcome<change> approve_change(const decision_record& rec,
                               const std::string& reviewer,
                               const std::optional<std::string>& comment,
                               timestamp now,
                               std::optional<int64_t> token_id = std::nullopt);

outcome<change> reject_change(const decision_record& rec,
                              const std::string& reviewer,
                              const std::string& reason,
                              const std::optional<std::string>& comment,
                              timestamp now);

outcome<change> cancel_change(const decision_record& rec,
                              const std::string& who,
                              const std::optional<std::string>& reason,
                              timestamp now);

/// Raises the escalation to `level`; std::nullopt when the record is final
/// or already at or above that level (a timer that fired late or twice).
std::optional<change> escalate_change(const decision_record& rec, int level,
                                      timestamp now);

/// A comment leaves the record as it is.
change comment_change(const decision_record& rec, const comment& c);

} // namespace hitl
