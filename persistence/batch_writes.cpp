#include "persistence/batch_writes.hpp"

#include "policy/json_null.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace hitl {

namespace {

using json = nlohmann::json;

json opt_micros(const std::optional<timestamp>& t) {
  return t ? json(to_micros(*t)) : json(nullptr);
}

json decision_row(const decision_record& d) {
  const auto& m = d.metadata;
  json row{{"decision_id", d.decision_id},
           {"patch_id", d.patch_id},
           {"apv_id", m.apv_id},
           {"cve_id", or_null(m.cve_id)},
           {"package_name", m.package_name},
           {"current_version", m.current_version},
           {"target_version", m.target_version},
           {"severity", to_string(m.severity)},
           {"cvss_score", or_null(m.cvss_score)},
           {"cwe_ids", m.cwe_ids},
           {"affected_systems", m.affected_systems},
           {"patch_size_lines", or_null(m.patch_size_lines)},
           {"decision", to_string(d.status)},
           {"decided_by", or_null(d.decided_by)},
           {"decided_at", opt_micros(d.decided_at)},
           {"priority", to_string(d.priority)},
           {"comment", or_null(d.comment)},
           {"reason", or_null(d.reason)},
           {"requires_manual_review", d.requires_manual_review},
           {"auto_approval_eligible", d.auto_approval_eligible},
           {"policy_version", d.policy_version},
           {"policy_failed_rules", d.failed_rules},
           {"approvals_required", d.approvals_required},
           {"escalation_level", d.escalation_level},
           {"sla_deadline", opt_micros(d.sla_deadline)},
           {"content_hash", d.content_hash},
           {"created_by", d.created_by},
           {"created_at", to_micros(d.created_at)}};
  if (d.ml) {
    json shap = json::object();
    for (const auto& [k, v] : d.ml->shap_values)
      shap[k] = v;
    row["ml_confidence"] = d.ml->confidence;
    row["ml_prediction"] = d.ml->prediction;
    row["ml_model_version"] = or_null(d.ml->model_version);
    row["ml_shap_values"] = std::move(shap);
    row["ml_execution_time_ms"] = or_null(d.ml->execution_time_ms);
  }
  if (d.wargaming) {
    const auto& w = *d.wargaming;
    row["wargaming_phase1"] = w.phase1_success;
    row["wargaming_phase2"] = w.phase2_success;
    row["wargaming_passed"] = w.validation_passed;
    row["wargaming_execution_time_ms"] = or_null(w.execution_time_ms);
    row["wargaming_error"] = or_null(w.error_message);
    row["wargaming_exploit_id"] = or_null(w.exploit_id);
  }
  return row;
}

} // namespace

void prepare_batch_statements(pqxx::connection_base& conn) {
  conn.prepare("decisions_insert_batch", R"(
    INSERT INTO hitl_decisions (
      decision_id, patch_id, apv_id, cve_id, package_name, current_version,
      target_version, severity, cvss_score, cwe_ids, affected_systems,
      patch_size_lines, ml_confidence, ml_prediction, ml_model_version,
      ml_shap_values, ml_execution_time_ms, wargaming_phase1, wargaming_phase2,
      wargaming_passed, wargaming_execution_time_ms, wargaming_error,
      wargaming_exploit_id, decision, decided_by, decided_at, priority,
      comment, reason, requires_manual_review, requires_escalation,
      auto_approval_eligible, policy_version, policy_failed_rules,
      approvals_required, escalation_level, sla_deadline, content_hash,
      created_by, created_at, updated_at)
    SELECT decision_id, patch_id, apv_id, cve_id, package_name,
      current_version, target_version, severity, cvss_score,
      coalesce(cwe_ids, '{}'), coalesce(affected_systems, '{}'),
      patch_size_lines, ml_confidence, ml_prediction, ml_model_version,
      ml_shap_values, ml_execution_time_ms, wargaming_phase1,
      wargaming_phase2, wargaming_passed, wargaming_execution_time_ms,
      wargaming_error, wargaming_exploit_id, decision, decided_by,
      hitl_from_micros(decided_at), priority, comment, reason,
      requires_manual_review, escalation_level > 0, auto_approval_eligible,
      policy_version, coalesce(policy_failed_rules, '{}'), approvals_required,
      escalation_level, hitl_from_micros(sla_deadline), content_hash,
      created_by, hitl_from_micros(created_at), hitl_from_micros(created_at)
    FROM json_to_recordset($1::json) AS r(
      decision_id text, patch_id text, apv_id text, cve_id text,
      package_name text, current_version text, target_version text,
      severity text, cvss_score double precision, cwe_ids text[],
      affected_systems text[], patch_size_lines bigint,
      ml_confidence double precision, ml_prediction boolean,
      ml_model_version text, ml_shap_values jsonb,
      ml_execution_time_ms double precision, wargaming_phase1 boolean,
      wargaming_phase2 boolean, wargaming_passed boolean,
      wargaming_execution_time_ms double precision, wargaming_error text,
      wargaming_exploit_id text, decision text, decided_by text,
      decided_at bigint, priority text, comment text, reason text,
      requires_manual_review boolean, auto_approval_eligible boolean,
      policy_version text, policy_failed_rules text[],
      approvals_required smallint, escalation_level smallint,
      sla_deadline bigint, content_hash text, created_by text,
      created_at bigint))");
  conn.prepare("decisions_update_batch", R"(
    UPDATE hitl_decisions d SET
      decision = r.decision, decided_by = r.decided_by,
      decided_at = hitl_from_micros(r.decided_at), reason = r.reason,
      comment = r.comment, escalation_level = r.escalation_level,
      requires_escalation = r.escalation_level > 0
    FROM json_to_recordset($1::json) AS r(
      decision_id text, expected_version bigint, decision text,
      decided_by text, decided_at bigint, reason text, comment text,
      escalation_level smallint)
    WHERE d.decision_id = r.decision_id AND d.version = r.expected_version
    RETURNING d.decision_id, d.version)");
  conn.prepare("audit_append_batch", R"(
    INSERT INTO hitl_audit_logs (seq, decision_id, action, performed_by,
      "timestamp", details, ip_address, user_agent, prev_hash, hash)
    SELECT seq, decision_id, action, performed_by, hitl_from_micros(at),
      details::jsonb, ip_address, user_agent, prev_hash, hash
    FROM json_to_recordset($1::json) AS r(
      seq bigint, decision_id text, action text, performed_by text,
      at bigint, details text, ip_address text, user_agent text,
      prev_hash text, hash text))");
  conn.prepare("approvals_insert_batch", R"(
    INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at)
    SELECT decision_id, reviewer, comment, hitl_from_micros(at)
    FROM json_to_recordset($1::json) AS r(
      decision_id text, reviewer text, comment text, at bigint))");
  conn.prepare("outbox_insert_batch", R"(
    INSERT INTO hitl_outbox (event, decision_id, target_url, payload)
    SELECT event, decision_id, target_url, payload::jsonb
    FROM json_to_recordset($1::json) AS r(
      event text, decision_id text, target_url text, payload text))");
}

namespace {

// Runs `statement` with every row of `rows`, as `to_row` writes it, in one
// JSON array; nothing is sent for no rows.
template <class Rows, class ToRow>
pqxx::result write_rows(pqxx::transaction_base& txn, const char* statement,
                        const Rows& rows, ToRow to_row) {
  if (rows.empty())
    return {};
  json all = json::array();
  for (const auto& r : rows)
    all.push_back(to_row(r));
  return txn.exec_prepared(statement, all.dump());
}

} // namespace

void insert_decisions(pqxx::transaction_base& txn,
                      const std::vector<const decision_record*>& rows) {
  write_rows(txn, "decisions_insert_batch", rows,
             [](const decision_record* d) { return decision_row(*d); });
}

std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows) {
  std::unordered_map<std::string, int64_t> written;
  auto result = write_rows(
    txn, "decisions_update_batch", rows, [](const decision_update& u) {
      const auto& d = *u.after;
      return json{{"decision_id", d.decision_id},
                  {"expected_version", u.expected_version},
                  {"decision", to_string(d.status)},
                  {"decided_by", or_null(d.decided_by)},
                  {"decided_at", opt_micros(d.decided_at)},
                  {"reason", or_null(d.reason)},
                  {"comment", or_null(d.comment)},
                  {"escalation_level", d.escalation_level}};
    });
  for (const auto& r : result)
    written.emplace(r[0].as<std::string>(), r[1].as<int64_t>());
  return written;
}

void append_audit_entries(pqxx::transaction_base& txn,
                          const std::vector<audit_entry>& entries) {
  write_rows(txn, "audit_append_batch", entries, [](const audit_entry& e) {
    return json{{"seq", e.seq},
                {"decision_id", e.decision_id},
                {"action", to_string(e.action)},
                {"performed_by", e.performed_by},
                {"at", to_micros(e.at)},
                {"details", e.details_json},
                {"ip_address", or_null(e.ip_address)},
                {"user_agent", or_null(e.user_agent)},
                {"prev_hash", e.prev_hash},
                {"hash", e.hash}};
  });
}

void insert_approvals(pqxx::transaction_base& txn,
                      const std::vector<new_approval>& rows) {
  write_rows(txn, "approvals_insert_batch", rows, [](const new_approval& r) {
    return json{{"decision_id", *r.decision_id},
                {"reviewer", r.given->by},
                {"comment", or_null(r.given->comment)},
                {"at", to_micros(r.given->at)}};
  });
}

void enqueue_outbox_rows(pqxx::transaction_base& txn,
                         const std::vector<outbox_row>& rows) {
  write_rows(txn, "outbox_insert_batch", rows, [](const outbox_row& r) {
    return json{{"event", r.event},
                {"decision_id", r.decision_id},
                {"target_url", r.target_url},
                {"payload", r.payload_json}};
  });
}

} // namespace hitl
