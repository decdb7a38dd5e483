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

json decision_row(const decision_record* record) {
  const auto& d = *record;
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

json update_row(const decision_update& u) {
  const auto& d = *u.after;
  return json{{"decision_id", d.decision_id},
              {"expected_version", u.expected_version},
              {"decision", to_string(d.status)},
              {"decided_by", or_null(d.decided_by)},
              {"decided_at", opt_micros(d.decided_at)},
              {"reason", or_null(d.reason)},
              {"comment", or_null(d.comment)},
              {"escalation_level", d.escalation_level}};
}

json approval_row(const new_approval& r) {
  return json{{"decision_id", *r.decision_id},
              {"reviewer", r.given->by},
              {"comment", or_null(r.given->comment)},
              {"at", to_micros(r.given->at)}};
}

json audit_row(const audit_entry& e) {
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
}

json outbox_json(const outbox_row& r) {
  return json{{"event", r.event},
              {"decision_id", r.decision_id},
              {"target_url", r.target_url},
              {"payload", r.payload_json}};
}

// Every row of `rows`, as `to_row` writes it, in one JSON array.
template <class Rows, class ToRow>
std::string rows_json(const Rows& rows, ToRow to_row) {
  json all = json::array();
  for (const auto& r : rows)
    all.push_back(to_row(r));
  return all.dump();
}

// Runs `statement` with `rows` as its JSON array; nothing is sent for none.
template <class Rows, class ToRow>
pqxx::result write_rows(pqxx::transaction_base& txn, const char* statement,
                        const Rows& rows, ToRow to_row) {
  if (rows.empty())
    return {};
  return txn.exec_prepared(statement, rows_json(rows, to_row));
}

// Each table's statement; `{rows}` stands for its JSON array parameter.
constexpr std::string_view decisions_insert_sql = R"(
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
    FROM json_to_recordset({rows}) AS r(
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
      created_at bigint))";

constexpr std::string_view decisions_update_sql = R"(
    UPDATE hitl_decisions d SET
      decision = r.decision, decided_by = r.decided_by,
      decided_at = hitl_from_micros(r.decided_at), reason = r.reason,
      comment = r.comment, escalation_level = r.escalation_level,
      requires_escalation = r.escalation_level > 0
    FROM json_to_recordset({rows}) AS r(
      decision_id text, expected_version bigint, decision text,
      decided_by text, decided_at bigint, reason text, comment text,
      escalation_level smallint)
    WHERE d.decision_id = r.decision_id AND d.version = r.expected_version
    RETURNING d.decision_id, d.version)";

constexpr std::string_view approvals_insert_sql = R"(
    INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at)
    SELECT decision_id, reviewer, comment, hitl_from_micros(at)
    FROM json_to_recordset({rows}) AS r(
      decision_id text, reviewer text, comment text, at bigint))";

constexpr std::string_view audit_append_sql = R"(
    INSERT INTO hitl_audit_logs (seq, decision_id, action, performed_by,
      "timestamp", details, ip_address, user_agent, prev_hash, hash)
    SELECT seq, decision_id, action, performed_by, hitl_from_micros(at),
      details::jsonb, ip_address, user_agent, prev_hash, hash
    FROM json_to_recordset({rows}) AS r(
      seq bigint, decision_id text, action text, performed_by text,
      at bigint, details text, ip_address text, user_agent text,
      prev_hash text, hash text))";

constexpr std::string_view outbox_insert_sql = R"(
    INSERT INTO hitl_outbox (event, decision_id, target_url, payload)
    SELECT event, decision_id, target_url, payload::jsonb
    FROM json_to_recordset({rows}) AS r(
      event text, decision_id text, target_url text, payload text))";

std::string with_rows(std::string_view sql, std::string_view param) {
  constexpr std::string_view token = "{rows}";
  auto at = sql.find(token);
  std::string out{sql.substr(0, at)};
  out += param;
  out += sql.substr(at + token.size());
  return out;
}

} // namespace

void prepare_batch_statements(pqxx::connection_base& conn) {
  auto one_param = [](std::string_view sql) {
    return with_rows(sql, "$1::json");
  };
  conn.prepare("decisions_insert_batch", one_param(decisions_insert_sql));
  conn.prepare("decisions_update_batch", one_param(decisions_update_sql));
  conn.prepare("audit_append_batch", one_param(audit_append_sql));
  // The whole batch as one statement, so that in autocommit it is one round
  // trip and its own transaction. The updates' guard is checked inside it:
  // hitl_all_written raises (and so undoes every part of the statement)
  // unless each update found its expected version.
  conn.prepare("batch_write", "WITH upd AS ("
                 + with_rows(decisions_update_sql, "$2::json")
                 + "), ins AS (" + with_rows(decisions_insert_sql, "$1::json")
                 + "), apr AS (" + with_rows(approvals_insert_sql, "$3::json")
                 + "), aud AS (" + with_rows(audit_append_sql, "$4::json")
                 + "), obx AS (" + with_rows(outbox_insert_sql, "$5::json")
                 + R"() SELECT hitl_all_written((SELECT count(*) FROM upd), $6),
                   (SELECT coalesce(json_agg(json_build_array(decision_id,
                                                              version)), '[]')
                    FROM upd)::text)");
}

void insert_decisions(pqxx::transaction_base& txn,
                      const std::vector<const decision_record*>& rows) {
  write_rows(txn, "decisions_insert_batch", rows, decision_row);
}

std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows) {
  std::unordered_map<std::string, int64_t> written;
  for (const auto& r : write_rows(txn, "decisions_update_batch", rows,
                                  update_row))
    written.emplace(r[0].as<std::string>(), r[1].as<int64_t>());
  return written;
}

void append_audit_entries(pqxx::transaction_base& txn,
                          const std::vector<audit_entry>& entries) {
  write_rows(txn, "audit_append_batch", entries, audit_row);
}

std::optional<std::unordered_map<std::string, int64_t>>
write_batch(pqxx::transaction_base& txn, const batch_rows& rows) {
  pqxx::result r;
  try {
    r = txn.exec_prepared(
      "batch_write", rows_json(rows.inserts, decision_row),
      rows_json(rows.updates, update_row),
      rows_json(rows.approvals, approval_row),
      rows_json(rows.entries, audit_row), rows_json(rows.outbox, outbox_json),
      static_cast<int64_t>(rows.updates.size()));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "HT409")
      return std::nullopt;
    throw;
  }
  std::unordered_map<std::string, int64_t> written;
  for (const auto& pair : json::parse(r[0][1].c_str()))
    written.emplace(pair[0].get<std::string>(), pair[1].get<int64_t>());
  return written;
}

} // namespace hitl
