#include "persistence/decision_repository.hpp"

#include "persistence/decision_rows.hpp"
#include "persistence/sql_params.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <unordered_map>

namespace hitl {

// -- column list and row mapping ---------------------------------------------

const char* const decision_columns = R"(
  decision_id, patch_id, apv_id, cve_id, package_name, current_version,
  target_version, severity, cvss_score, to_jsonb(cwe_ids)::text,
  to_jsonb(affected_systems)::text, patch_size_lines,
  ml_confidence, ml_prediction, ml_model_version, ml_shap_values::text,
  ml_execution_time_ms,
  wargaming_phase1, wargaming_phase2, wargaming_passed,
  wargaming_execution_time_ms, wargaming_error, wargaming_exploit_id,
  decision, decided_by, hitl_micros(decided_at), priority, comment, reason,
  requires_manual_review, auto_approval_eligible, ml_wargaming_agreement,
  policy_version, to_jsonb(policy_failed_rules)::text, approvals_required,
  escalation_level, hitl_micros(sla_deadline), content_hash, created_by,
  hitl_micros(created_at), hitl_micros(updated_at), version)";

namespace {

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

std::optional<timestamp> opt_time(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return from_micros(f.as<int64_t>());
}

std::vector<std::string> string_array(const pqxx::field& f) {
  if (f.is_null())
    return {};
  return nlohmann::json::parse(f.c_str()).get<std::vector<std::string>>();
}

} // namespace

decision_record read_decision(const pqxx::row& r) {
  decision_record d;
  int i = 0;
  d.decision_id = r[i++].as<std::string>();
  d.patch_id = r[i++].as<std::string>();
  auto& m = d.metadata;
  m.apv_id = r[i++].as<std::string>();
  m.cve_id = opt<std::string>(r[i++]);
  m.package_name = r[i++].as<std::string>();
  m.current_version = r[i++].as<std::string>();
  m.target_version = r[i++].as<std::string>();
  m.severity = parse_urgency(r[i++].c_str()).value_or(urgency::medium);
  m.cvss_score = opt<double>(r[i++]);
  m.cwe_ids = string_array(r[i++]);
  m.affected_systems = string_array(r[i++]);
  m.patch_size_lines = opt<int64_t>(r[i++]);
  auto confidence = opt<double>(r[i++]);
  auto prediction = opt<bool>(r[i++]);
  auto model_version = opt<std::string>(r[i++]);
  auto shap = opt<std::string>(r[i++]);
  auto ml_ms = opt<double>(r[i++]);
  if (confidence && prediction) {
    ml_prediction ml;
    ml.confidence = *confidence;
    ml.prediction = *prediction;
    ml.model_version = std::move(model_version);
    ml.execution_time_ms = ml_ms;
    if (shap) {
      auto parsed = nlohmann::json::parse(*shap);
      for (auto& [k, v] : parsed.items())
        ml.shap_values.emplace_back(k, v.get<double>());
    }
    d.ml = std::move(ml);
  }
  auto phase1 = opt<bool>(r[i++]);
  auto phase2 = opt<bool>(r[i++]);
  auto passed = opt<bool>(r[i++]);
  auto wg_ms = opt<double>(r[i++]);
  auto wg_error = opt<std::string>(r[i++]);
  auto exploit = opt<std::string>(r[i++]);
  if (phase1 && phase2 && passed)
    d.wargaming = wargaming_result{*phase1, *phase2,          *passed, wg_ms,
                                   std::move(wg_error), std::move(exploit)};
  d.status = parse_decision_status(r[i++].c_str())
               .value_or(decision_status::pending);
  d.decided_by = opt<std::string>(r[i++]);
  d.decided_at = opt_time(r[i++]);
  d.priority = parse_urgency(r[i++].c_str()).value_or(urgency::medium);
  d.comment = opt<std::string>(r[i++]);
  d.reason = opt<std::string>(r[i++]);
  d.requires_manual_review = r[i++].as<bool>();
  d.auto_approval_eligible = r[i++].as<bool>();
  d.ml_wargaming_agreement = r[i++].as<bool>();
  d.policy_version = r[i++].as<std::string>();
  d.failed_rules = string_array(r[i++]);
  d.approvals_required = r[i++].as<int>();
  d.escalation_level = r[i++].as<int>();
  d.sla_deadline = opt_time(r[i++]);
  d.content_hash = r[i++].as<std::string>();
  d.created_by = r[i++].as<std::string>();
  d.created_at = from_micros(r[i++].as<int64_t>());
  d.updated_at = from_micros(r[i++].as<int64_t>());
  d.version = r[i++].as<int64_t>();
  return d;
}

namespace {

approval read_approval(const pqxx::row& r) {
  return approval{r[1].as<std::string>(), from_micros(r[2].as<int64_t>()),
                  opt<std::string>(r[3])};
}

std::string json_array(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump();
}

void attach_approvals(pqxx::transaction_base& txn, decision_record& d) {
  for (const auto& r : txn.exec_prepared("approvals_of", d.decision_id))
    d.approvals.push_back(read_approval(r));
}

} // namespace

// -- statements ---------------------------------------------------------------

void prepare_decision_statements(pqxx::connection_base& conn) {
  conn.prepare("decision_insert", R"(
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
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
      ARRAY(SELECT jsonb_array_elements_text($10::jsonb)),
      ARRAY(SELECT jsonb_array_elements_text($11::jsonb)),
      $12, $13, $14, $15, $16::jsonb, $17, $18, $19, $20, $21, $22, $23, $24,
      $25, hitl_from_micros($26), $27, $28, $29, $30, $31, $32, $33,
      ARRAY(SELECT jsonb_array_elements_text($34::jsonb)),
      $35, $36, hitl_from_micros($37), $38, $39, hitl_from_micros($40),
      hitl_from_micros($40)))");
  conn.prepare("decision_update_state", R"(
    UPDATE hitl_decisions SET
      decision = $3, decided_by = $4, decided_at = hitl_from_micros($5),
      reason = $6, comment = $7, escalation_level = $8::smallint,
      requires_escalation = $8::smallint > 0
    WHERE decision_id = $1 AND version = $2
    RETURNING version)");
  conn.prepare("decision_by_id", std::string{"SELECT "} + decision_columns
                                   + " FROM hitl_decisions WHERE decision_id = $1");
  conn.prepare("decision_open_by_patch",
               std::string{"SELECT "} + decision_columns
                 + " FROM hitl_decisions WHERE patch_id = $1"
                   " AND decision IN ('pending', 'escalated')");
  conn.prepare("decision_latest_by_patch",
               std::string{"SELECT "} + decision_columns
                 + " FROM hitl_decisions WHERE patch_id = $1"
                   " ORDER BY created_at DESC, decision_id DESC LIMIT 1");
  conn.prepare("decisions_open", std::string{"SELECT "} + decision_columns
                                   + " FROM hitl_decisions"
                                     " WHERE decision IN ('pending', 'escalated')");
  conn.prepare("approvals_of", R"(
    SELECT decision_id, reviewer, hitl_micros(approved_at), comment
    FROM hitl_approvals WHERE decision_id = $1
    ORDER BY approved_at, reviewer)");
  conn.prepare("approvals_of_open", R"(
    SELECT a.decision_id, a.reviewer, hitl_micros(a.approved_at), a.comment
    FROM hitl_approvals a JOIN hitl_decisions d USING (decision_id)
    WHERE d.decision IN ('pending', 'escalated')
    ORDER BY a.approved_at, a.reviewer)");
}

// -- repository functions -----------------------------------------------------

void insert_decision(pqxx::transaction_base& txn, const decision_record& d) {
  const auto& m = d.metadata;
  sql_params p;
  p.add(d.decision_id).add(d.patch_id).add(m.apv_id).add(m.cve_id);
  p.add(m.package_name).add(m.current_version).add(m.target_version);
  p.add(std::string{to_string(m.severity)}).add(m.cvss_score);
  p.add(json_array(m.cwe_ids)).add(json_array(m.affected_systems));
  p.add(m.patch_size_lines);
  if (d.ml) {
    nlohmann::json shap = nlohmann::json::object();
    for (const auto& [k, v] : d.ml->shap_values)
      shap[k] = v;
    p.add(d.ml->confidence).add(d.ml->prediction).add(d.ml->model_version);
    p.add(shap.dump()).add(d.ml->execution_time_ms);
  } else {
    p.null().null().null().null().null();
  }
  if (d.wargaming) {
    const auto& w = *d.wargaming;
    p.add(w.phase1_success).add(w.phase2_success).add(w.validation_passed);
    p.add(w.execution_time_ms).add(w.error_message).add(w.exploit_id);
  } else {
    p.null().null().null().null().null().null();
  }
  p.add(std::string{to_string(d.status)}).add(d.decided_by);
  if (d.decided_at)
    p.add(to_micros(*d.decided_at));
  else
    p.null();
  p.add(std::string{to_string(d.priority)}).add(d.comment).add(d.reason);
  p.add(d.requires_manual_review).add(d.escalation_level > 0);
  p.add(d.auto_approval_eligible).add(d.policy_version);
  p.add(json_array(d.failed_rules)).add(d.approvals_required);
  p.add(d.escalation_level);
  if (d.sla_deadline)
    p.add(to_micros(*d.sla_deadline));
  else
    p.null();
  p.add(d.content_hash).add(d.created_by).add(to_micros(d.created_at));
  txn.exec_prepared("decision_insert", p.dynamic());
}

std::optional<int64_t> update_decision_state(pqxx::transaction_base& txn,
                                             const decision_record& d,
                                             int64_t expected_version) {
  sql_params p;
  p.add(d.decision_id).add(expected_version);
  p.add(std::string{to_string(d.status)}).add(d.decided_by);
  if (d.decided_at)
    p.add(to_micros(*d.decided_at));
  else
    p.null();
  p.add(d.reason).add(d.comment).add(d.escalation_level);
  auto r = txn.exec_prepared("decision_update_state", p.dynamic());
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<int64_t>();
}

std::optional<decision_record> find_decision(pqxx::transaction_base& txn,
                                             const std::string& decision_id) {
  auto r = txn.exec_prepared("decision_by_id", decision_id);
  if (r.empty())
    return std::nullopt;
  auto d = read_decision(r[0]);
  attach_approvals(txn, d);
  return d;
}

std::optional<decision_record>
find_open_decision_by_patch(pqxx::transaction_base& txn,
                            const std::string& patch_id) {
  auto r = txn.exec_prepared("decision_open_by_patch", patch_id);
  if (r.empty())
    return std::nullopt;
  auto d = read_decision(r[0]);
  attach_approvals(txn, d);
  return d;
}

std::optional<decision_record>
find_latest_decision_by_patch(pqxx::transaction_base& txn,
                              const std::string& patch_id) {
  auto r = txn.exec_prepared("decision_latest_by_patch", patch_id);
  if (r.empty())
    return std::nullopt;
  auto d = read_decision(r[0]);
  attach_approvals(txn, d);
  return d;
}

std::vector<decision_record> load_open_decisions(pqxx::transaction_base& txn) {
  std::vector<decision_record> out;
  std::unordered_map<std::string, size_t> index;
  auto rows = txn.exec_prepared("decisions_open");
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back(read_decision(r));
    index.emplace(out.back().decision_id, out.size() - 1);
  }
  for (const auto& r : txn.exec_prepared("approvals_of_open")) {
    auto it = index.find(r[0].as<std::string>());
    if (it != index.end())
      out[it->second].approvals.push_back(read_approval(r));
  }
  return out;
}

} // namespace hitl
