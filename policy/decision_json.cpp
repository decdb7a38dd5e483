#include "policy/decision_json.hpp"

#include "policy/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace hitl {

namespace {

using json = nlohmann::json;

// Every object's keys are written in sorted order, as nlohmann's std::map
// holds them, so the text equals the DOM's dump (see json_text.hpp).
//
// Every text here replaces invalid UTF-8 instead of throwing: its strings
// come from clients and the database, and a throw would end the actor that
// writes it. Valid text gives the same bytes either way, so content hashes
// do not change.

void write_metadata(json_text& w, const patch_metadata& m) {
  w.begin_object();
  w.key("affected_systems").strings(m.affected_systems);
  w.key("apv_id").string(m.apv_id);
  w.key("current_version").string(m.current_version);
  w.key("cve_id").string(m.cve_id);
  w.key("cvss_score").real(m.cvss_score);
  w.key("cwe_ids").strings(m.cwe_ids);
  w.key("package_name").string(m.package_name);
  w.key("patch_size_lines").integer(m.patch_size_lines);
  w.key("severity").string(to_string(m.severity));
  w.key("target_version").string(m.target_version);
  w.end_object();
}

// SHAP values as an object: sorted by feature, and of a feature named twice
// the last value, as assigning them one by one into a DOM object gave.
void write_shap(json_text& w,
                const std::vector<std::pair<std::string, double>>& values) {
  std::vector<const std::pair<std::string, double>*> sorted;
  sorted.reserve(values.size());
  for (const auto& v : values)
    sorted.push_back(&v);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto* a, auto* b) { return a->first < b->first; });
  w.begin_object();
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i + 1]->first == sorted[i]->first)
      continue;
    w.key(sorted[i]->first).real(sorted[i]->second);
  }
  w.end_object();
}

void write_ml(json_text& w, const std::optional<ml_prediction>& ml) {
  if (!ml) {
    w.null();
    return;
  }
  w.begin_object();
  w.key("confidence").real(ml->confidence);
  w.key("execution_time_ms").real(ml->execution_time_ms);
  w.key("model_version").string(ml->model_version);
  w.key("prediction").boolean(ml->prediction);
  w.key("shap_values");
  write_shap(w, ml->shap_values);
  w.end_object();
}

void write_wargaming(json_text& w, const std::optional<wargaming_result>& r) {
  if (!r) {
    w.null();
    return;
  }
  w.begin_object();
  w.key("error_message").string(r->error_message);
  w.key("execution_time_ms").real(r->execution_time_ms);
  w.key("exploit_id").string(r->exploit_id);
  w.key("phase1_success").boolean(r->phase1_success);
  w.key("phase2_success").boolean(r->phase2_success);
  w.key("validation_passed").boolean(r->validation_passed);
  w.end_object();
}

void write_record(json_text& w, const decision_record& d) {
  w.begin_object();
  w.key("approvals").begin_array();
  for (const auto& a : d.approvals) {
    w.begin_object();
    w.key("at").time(a.at);
    w.key("by").string(a.by);
    w.key("comment").string(a.comment);
    if (a.identity) {
      // Only a decision's detail looks it up (SPEC §11).
      w.key("identity").begin_object();
      w.key("issued_at").time(a.identity->issued_at);
      w.key("issued_by").string(a.identity->issued_by);
      w.key("token_id").integer(a.identity->token_id);
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  w.key("approvals_required").integer(d.approvals_required);
  w.key("apv_id").string(d.metadata.apv_id);
  w.key("auto_approval_eligible").boolean(d.auto_approval_eligible);
  w.key("auto_approval_failed_rules").strings(d.failed_rules);
  w.key("comment").string(d.comment);
  w.key("created_at").time(d.created_at);
  w.key("created_by").string(d.created_by);
  w.key("cve_id").string(d.metadata.cve_id);
  w.key("decided_at").time(d.decided_at);
  w.key("decided_by").string(d.decided_by);
  w.key("decision").string(to_string(d.status));
  w.key("decision_id").string(d.decision_id);
  w.key("escalation_level").integer(d.escalation_level);
  w.key("ml_prediction");
  write_ml(w, d.ml);
  w.key("ml_wargaming_agreement").boolean(d.ml_wargaming_agreement);
  w.key("patch_id").string(d.patch_id);
  w.key("patch_metadata");
  write_metadata(w, d.metadata);
  w.key("policy_version").string(d.policy_version);
  w.key("priority").string(to_string(d.priority));
  w.key("reason").string(d.reason);
  w.key("requires_escalation").boolean(d.escalation_level > 0);
  w.key("requires_manual_review").boolean(d.requires_manual_review);
  w.key("sla_deadline").time(d.sla_deadline);
  w.key("updated_at").time(d.updated_at);
  w.key("version").integer(d.version);
  w.key("wargaming_result");
  write_wargaming(w, d.wargaming);
  w.end_object();
}

} // namespace

json to_json(const comment& c) {
  return {{"comment_id", c.id},
          {"decision_id", c.decision_id},
          {"user", c.author},
          {"comment", c.text},
          {"created_at", format_iso(c.at)}};
}

std::string content_json(const new_decision& nd) {
  std::string out;
  out.reserve(768);
  json_text w{out, json_text::invalid_utf8::replace};
  w.begin_object();
  w.key("decision_id").string(nd.decision_id);
  w.key("ml_prediction");
  write_ml(w, nd.ml);
  w.key("patch_id").string(nd.patch_id);
  w.key("patch_metadata");
  write_metadata(w, nd.metadata);
  w.key("priority");
  if (nd.requested_priority)
    w.string(to_string(*nd.requested_priority));
  else
    w.null();
  w.key("requires_manual_review").boolean(nd.requires_manual_review);
  w.key("wargaming_result");
  write_wargaming(w, nd.wargaming);
  w.end_object();
  return out;
}

std::string record_json(const decision_record& d) {
  std::string out;
  out.reserve(1536);
  json_text w{out, json_text::invalid_utf8::replace};
  write_record(w, d);
  return out;
}

std::string event_payload(const std::string& event, const decision_record& d,
                          const std::optional<comment>& c, timestamp at,
                          const std::string& base_url) {
  auto url = base_url + "/hitl/decisions/" + d.decision_id;
  std::string out;
  out.reserve(2048);
  json_text w{out, json_text::invalid_utf8::replace};
  w.begin_object();
  w.key("at").time(at);
  if (c)
    w.key("comment").raw(to_json(*c).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace));
  w.key("decision");
  write_record(w, d);
  w.key("decision_url").string(url);
  if (event == "decision.escalated") {
    w.key("escalation").begin_object();
    w.key("age_seconds").real(to_seconds(at - d.created_at));
    w.key("current_version").string(d.metadata.current_version);
    w.key("cve_id").string(d.metadata.cve_id);
    w.key("decision_id").string(d.decision_id);
    w.key("decision_url").string(url);
    w.key("level").integer(d.escalation_level);
    w.key("package_name").string(d.metadata.package_name);
    w.key("patch_id").string(d.patch_id);
    w.key("priority").string(to_string(d.priority));
    w.key("severity").string(to_string(d.metadata.severity));
    w.key("sla_deadline").time(d.sla_deadline);
    w.key("target_version").string(d.metadata.target_version);
    w.end_object();
  }
  w.key("event").string(event);
  w.end_object();
  return out;
}

} // namespace hitl
