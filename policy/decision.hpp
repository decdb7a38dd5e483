#pragma once

// Domain value types of a decision: plain structs, no framework includes, so
// every layer can use them and they compile fast.

#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hitl {

// -- enumerations -------------------------------------------------------------

/// Severity of a vulnerability and priority of its review share one scale.
enum class urgency : uint8_t { low = 0, medium = 1, high = 2, critical = 3 };

constexpr int urgency_count = 4;

/// A decision id as SPEC §1 allows: 1–255 of [A-Za-z0-9._:-].
bool valid_decision_id(std::string_view id);

std::string_view to_string(urgency u);
std::optional<urgency> parse_urgency(std::string_view s);

enum class decision_status : uint8_t {
  pending,
  escalated,
  approved,
  rejected,
  auto_approved,
  cancelled,
};

std::string_view to_string(decision_status s);
std::optional<decision_status> parse_decision_status(std::string_view s);

/// A decision is open while a human may still act on it.
constexpr bool is_open(decision_status s) {
  return s == decision_status::pending || s == decision_status::escalated;
}

/// Audit actions, as the original design named them.
enum class audit_action : uint8_t {
  created,
  auto_approved,
  approval_added,
  approved,
  rejected,
  commented,
  escalated,
  cancelled,
  // An identity's lifecycle (SPEC §11): entries of no decision.
  token_created,
  token_revoked,
  token_expired,
};

/// Whether entries of `a` belong to a token rather than a decision.
constexpr bool is_token_action(audit_action a) {
  return a == audit_action::token_created || a == audit_action::token_revoked
         || a == audit_action::token_expired;
}

std::string_view to_string(audit_action a);
std::optional<audit_action> parse_audit_action(std::string_view s);

/// Orders of the pending queue: most urgent first (then oldest), oldest
/// first, or nearest SLA deadline first (none last).
enum class pending_sort : uint8_t { priority, age, deadline };

// -- value types --------------------------------------------------------------

struct patch_metadata {
  std::string apv_id;
  std::optional<std::string> cve_id;
  std::string package_name;
  std::string current_version;
  std::string target_version;
  urgency severity = urgency::medium;
  std::optional<double> cvss_score;
  std::vector<std::string> cwe_ids;
  std::vector<std::string> affected_systems;
  std::optional<int64_t> patch_size_lines;
};

struct ml_prediction {
  std::optional<std::string> model_version;
  double confidence = 0;
  bool prediction = false;
  /// Feature → contribution (stored as JSONB, so in key order when read).
  std::vector<std::pair<std::string, double>> shap_values;
  std::optional<double> execution_time_ms;
};

struct wargaming_result {
  bool phase1_success = false;
  bool phase2_success = false;
  bool validation_passed = false;
  std::optional<double> execution_time_ms;
  std::optional<std::string> error_message;
  std::optional<std::string> exploit_id;
};

/// When and by whom an approver's identity was issued: the token_created
/// entry of the token the approval was given with (SPEC §11).
struct issued_identity {
  /// None for an approval given before approvals recorded their token.
  std::optional<int64_t> token_id;
  /// None when the chain has no token_created entry for the token (issued
  /// before the chain recorded tokens, or inserted by hand).
  std::optional<timestamp> issued_at;
  std::optional<std::string> issued_by;
};

struct approval {
  std::string by;
  timestamp at;
  std::optional<std::string> comment;
  /// The token the approval was given with, as hitl_approvals records it.
  std::optional<int64_t> token_id;
  /// Looked up for a decision's detail only; absent elsewhere.
  std::optional<issued_identity> identity;
};

struct comment {
  int64_t id = 0;
  std::string decision_id;
  std::string author;
  std::string text;
  timestamp at;
  /// Its entry's place in the partition's audit chain, when its commit
  /// reported it (0: not known), as for decision_record.
  int64_t audit_pseq = 0;
};

/// What a creator asks for, validated at the edge; the server fills the rest.
struct new_decision {
  std::optional<std::string> decision_id;
  std::string patch_id;
  patch_metadata metadata;
  std::optional<ml_prediction> ml;
  std::optional<wargaming_result> wargaming;
  bool requires_manual_review = false;
  std::optional<urgency> requested_priority;
};

/// The full record of one decision, as stored and as served.
struct decision_record {
  std::string decision_id;
  std::string patch_id;
  patch_metadata metadata;
  std::optional<ml_prediction> ml;
  std::optional<wargaming_result> wargaming;
  bool requires_manual_review = false;
  urgency priority = urgency::medium;
  decision_status status = decision_status::pending;
  std::optional<std::string> decided_by;
  std::optional<timestamp> decided_at;
  std::optional<std::string> reason;
  std::optional<std::string> comment;
  std::vector<approval> approvals;
  int approvals_required = 1;
  int escalation_level = 0;
  std::optional<timestamp> sla_deadline;
  bool ml_wargaming_agreement = false;
  bool auto_approval_eligible = false;
  std::string policy_version;
  /// Rules of the policy that failed, i.e. why it was not auto-approved.
  std::vector<std::string> failed_rules;
  std::string created_by;
  timestamp created_at;
  timestamp updated_at;
  int64_t version = 1;
  /// SHA-256 of the creator's content, to tell a retry from a conflict.
  std::string content_hash;
  /// Where the change that made this state sits in its partition's audit
  /// chain (pseq), as its commit reported it; 0 when not known (a record
  /// read from the database). A write's X-HITL-Position.
  int64_t audit_pseq = 0;
};

/// The agreement flag the spec defines: both present and equal.
bool ml_wargaming_agreement(const std::optional<ml_prediction>& ml,
                            const std::optional<wargaming_result>& wg);

} // namespace hitl
