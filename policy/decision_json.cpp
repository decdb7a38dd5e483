#include "policy/decision_json.hpp"

#include "policy/json_null.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

json opt_time(const std::optional<timestamp>& t) {
  return t ? json(format_iso(*t)) : json(nullptr);
}

json metadata_json(const patch_metadata& m) {
  return {{"apv_id", m.apv_id},
          {"cve_id", or_null(m.cve_id)},
          {"package_name", m.package_name},
          {"current_version", m.current_version},
          {"target_version", m.target_version},
          {"severity", to_string(m.severity)},
          {"cvss_score", or_null(m.cvss_score)},
          {"cwe_ids", m.cwe_ids},
          {"affected_systems", m.affected_systems},
          {"patch_size_lines", or_null(m.patch_size_lines)}};
}

json ml_json(const std::optional<ml_prediction>& ml) {
  if (!ml)
    return nullptr;
  json shap = json::object();
  for (const auto& [k, v] : ml->shap_values)
    shap[k] = v;
  return {{"model_version", or_null(ml->model_version)},
          {"confidence", ml->confidence},
          {"prediction", ml->prediction},
          {"shap_values", shap},
          {"execution_time_ms", or_null(ml->execution_time_ms)}};
}

json wargaming_json(const std::optional<wargaming_result>& w) {
  if (!w)
    return nullptr;
  return {{"phase1_success", w->phase1_success},
          {"phase2_success", w->phase2_success},
          {"validation_passed", w->validation_passed},
          {"execution_time_ms", or_null(w->execution_time_ms)},
          {"error_message", or_null(w->error_message)},
          {"exploit_id", or_null(w->exploit_id)}};
}

} // namespace

json to_json(const approval& a) {
  return {{"by", a.by}, {"at", format_iso(a.at)}, {"comment", or_null(a.comment)}};
}

json to_json(const comment& c) {
  return {{"comment_id", c.id},
          {"decision_id", c.decision_id},
          {"user", c.author},
          {"comment", c.text},
          {"created_at", format_iso(c.at)}};
}

json to_json(const new_decision& nd) {
  return {{"decision_id", or_null(nd.decision_id)},
          {"patch_id", nd.patch_id},
          {"patch_metadata", metadata_json(nd.metadata)},
          {"ml_prediction", ml_json(nd.ml)},
          {"wargaming_result", wargaming_json(nd.wargaming)},
          {"requires_manual_review", nd.requires_manual_review},
          {"priority", nd.requested_priority
                         ? json(to_string(*nd.requested_priority))
                         : json(nullptr)}};
}

json to_json(const decision_record& d) {
  json approvals = json::array();
  for (const auto& a : d.approvals)
    approvals.push_back(to_json(a));
  return {{"decision_id", d.decision_id},
          {"patch_id", d.patch_id},
          {"apv_id", d.metadata.apv_id},
          {"cve_id", or_null(d.metadata.cve_id)},
          {"patch_metadata", metadata_json(d.metadata)},
          {"ml_prediction", ml_json(d.ml)},
          {"wargaming_result", wargaming_json(d.wargaming)},
          {"requires_manual_review", d.requires_manual_review},
          {"priority", to_string(d.priority)},
          {"decision", to_string(d.status)},
          {"decided_by", or_null(d.decided_by)},
          {"decided_at", opt_time(d.decided_at)},
          {"reason", or_null(d.reason)},
          {"comment", or_null(d.comment)},
          {"approvals", approvals},
          {"approvals_required", d.approvals_required},
          {"escalation_level", d.escalation_level},
          {"requires_escalation", d.escalation_level > 0},
          {"sla_deadline", opt_time(d.sla_deadline)},
          {"ml_wargaming_agreement", d.ml_wargaming_agreement},
          {"auto_approval_eligible", d.auto_approval_eligible},
          {"auto_approval_failed_rules", d.failed_rules},
          {"policy_version", d.policy_version},
          {"created_by", d.created_by},
          {"created_at", format_iso(d.created_at)},
          {"updated_at", format_iso(d.updated_at)},
          {"version", d.version}};
}

json event_payload(const std::string& event, const decision_record& d,
                   const std::optional<comment>& c, timestamp at,
                   const std::string& base_url) {
  json body{{"event", event},
            {"at", format_iso(at)},
            {"decision_url", base_url + "/hitl/decisions/" + d.decision_id},
            {"decision", to_json(d)}};
  if (c)
    body["comment"] = to_json(*c);
  if (event == "decision.escalated") {
    body["escalation"] = {
      {"level", d.escalation_level},
      {"decision_id", d.decision_id},
      {"patch_id", d.patch_id},
      {"package_name", d.metadata.package_name},
      {"current_version", d.metadata.current_version},
      {"target_version", d.metadata.target_version},
      {"cve_id", or_null(d.metadata.cve_id)},
      {"severity", to_string(d.metadata.severity)},
      {"priority", to_string(d.priority)},
      {"age_seconds", to_seconds(at - d.created_at)},
      {"sla_deadline", opt_time(d.sla_deadline)},
      {"decision_url", base_url + "/hitl/decisions/" + d.decision_id}};
  }
  return body;
}

} // namespace hitl
