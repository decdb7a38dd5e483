// POST /hitl/admin/create-decision: the record as the original Wargaming
// client sends it (SPEC §3), with the fields the server owns refused unless
// they hold their defaults.

#include "http/body_schemas.hpp"

#include "http/json_reader.hpp"
#include "policy/utf8.hpp"

#include <cmath>
#include <limits>

namespace hitl {

using namespace strict_json;

namespace {

constexpr size_t max_text_chars = 10000;

// Ids: 255 characters, as the columns hold them.
constexpr size_t max_id_chars = 255;

patch_metadata read_metadata(const json& obj, error_list& errors) {
  object_reader r{obj, "patch_metadata", errors};
  patch_metadata m;
  auto req = presence::required;
  auto opt = presence::optional;
  m.apv_id = string_field(r, "apv_id", 255, req).value_or("");
  m.cve_id = string_field(r, "cve_id", 50, opt);
  m.package_name = string_field(r, "package_name", 255, req).value_or("");
  m.current_version = string_field(r, "current_version", 100, req).value_or("");
  m.target_version = string_field(r, "target_version", 100, req).value_or("");
  m.severity = urgency_field(r, "severity", req).value_or(urgency::medium);
  m.cvss_score = number_field(r, "cvss_score", 0, 10, opt,
                              "must be a number between 0 and 10");
  m.cwe_ids = string_list_field(r, "cwe_ids", 100, 32);
  m.affected_systems = string_list_field(r, "affected_systems", 1000, 255);
  if (const json* v = r.get("patch_size_lines")) {
    auto n = as_int64(*v);
    if (n && *n >= 0)
      m.patch_size_lines = n;
    else
      errors.add(r.path("patch_size_lines"), "must be a non-negative integer");
  }
  r.report_unknown();
  return m;
}

std::vector<std::pair<std::string, double>>
read_shap_values(object_reader& r) {
  std::vector<std::pair<std::string, double>> out;
  const json* v = r.get("shap_values");
  if (v == nullptr)
    return out;
  auto path = r.path("shap_values");
  if (!v->is_object()) {
    r.errors().add(path, "must be an object of feature names to numbers");
    return out;
  }
  if (v->size() > 256) {
    r.errors().add(path, "has more than 256 features");
    return out;
  }
  // items() walks std::map order, which is also jsonb's key order.
  for (const auto& [key, value] : v->items()) {
    auto item_path = member_path(path, key);
    if (key.empty()) {
      r.errors().add(item_path, "feature name must not be empty");
      continue;
    }
    if (!r.errors().check_text(item_path, key, 128, "feature name "))
      continue;
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      r.errors().add(item_path, "must be a number");
    else
      out.emplace_back(key, value.get<double>());
  }
  return out;
}

ml_prediction read_ml(const json& obj, error_list& errors) {
  object_reader r{obj, "ml_prediction", errors};
  ml_prediction ml;
  auto opt = presence::optional;
  ml.model_version = string_field(r, "model_version", 100, opt);
  ml.confidence = number_field(r, "confidence", 0, 1, presence::required,
                               "must be a number between 0 and 1")
                    .value_or(0);
  ml.prediction = bool_field(r, "prediction", presence::required)
                    .value_or(false);
  ml.shap_values = read_shap_values(r);
  ml.execution_time_ms = number_field(r, "execution_time_ms", 0,
                                      std::numeric_limits<double>::max(), opt,
                                      "must be a non-negative number");
  r.report_unknown();
  return ml;
}

wargaming_result read_wargaming(const json& obj, error_list& errors) {
  object_reader r{obj, "wargaming_result", errors};
  wargaming_result wg;
  auto req = presence::required;
  auto opt = presence::optional;
  wg.phase1_success = bool_field(r, "phase1_success", req).value_or(false);
  wg.phase2_success = bool_field(r, "phase2_success", req).value_or(false);
  wg.validation_passed = bool_field(r, "validation_passed", req)
                           .value_or(false);
  wg.execution_time_ms = number_field(r, "execution_time_ms", 0,
                                      std::numeric_limits<double>::max(), opt,
                                      "must be a non-negative number");
  wg.error_message = string_field(r, "error_message", max_text_chars, opt);
  wg.exploit_id = string_field(r, "exploit_id", 255, opt);
  r.report_unknown();
  return wg;
}

// Fields of the original record that the server owns. The original client
// sends them with their defaults; any other value would let a caller skip
// review, so it is refused rather than ignored.
enum class owned { null, pending, is_false, empty_list, zero, any_time };

struct owned_field {
  std::string_view name;
  owned accepts;
};

constexpr owned_field owned_fields[] = {
  {"decision", owned::pending},
  {"decided_by", owned::null},
  {"decided_at", owned::null},
  {"comment", owned::null},
  {"reason", owned::null},
  {"created_by", owned::null},
  {"sla_deadline", owned::null},
  {"policy_version", owned::null},
  {"version", owned::null},
  {"approvals_required", owned::null},
  {"requires_escalation", owned::is_false},
  {"auto_approval_eligible", owned::is_false},
  {"ml_wargaming_agreement", owned::is_false},
  {"approvals", owned::empty_list},
  {"escalation_level", owned::zero},
  {"created_at", owned::any_time},
  {"updated_at", owned::any_time},
};

// Pydantic writes the original client's datetime.utcnow() without an offset;
// it is UTC, so such text is read as if it ended in "Z".
bool is_timestamp(const std::string& s) {
  return parse_iso(s) || parse_iso(s + "Z");
}

void check_owned(object_reader& r, const owned_field& f) {
  const json* v = r.get(f.name);
  if (v == nullptr)
    return;
  const char* def = nullptr;
  switch (f.accepts) {
    case owned::null:
      def = "null";
      break;
    case owned::pending:
      if (v->is_string() && v->get_ref<const std::string&>() == "pending")
        return;
      def = "\"pending\"";
      break;
    case owned::is_false:
      if (v->is_boolean() && !v->get<bool>())
        return;
      def = "false";
      break;
    case owned::empty_list:
      if (v->is_array() && v->empty())
        return;
      def = "[]";
      break;
    case owned::zero:
      if (v->is_number() && v->get<double>() == 0)
        return;
      def = "0";
      break;
    case owned::any_time:
      if (v->is_string() && is_timestamp(v->get_ref<const std::string&>()))
        return;
      r.errors().add(r.path(f.name),
                     "must be an ISO 8601 timestamp or null (it is ignored: "
                     "the server's clock sets it)");
      return;
  }
  r.errors().add(r.path(f.name),
                 std::string{"is set by the server; only its default ("} + def
                   + ") is accepted");
}

} // namespace

parsed<new_decision> parse_create_decision(std::string_view body) {
  error_list errors;
  json doc;
  if (auto refused = read_object(body, empty_body::refused, doc, errors))
    return *refused;
  object_reader r{doc, "", errors};
  new_decision nd;
  nd.decision_id = decision_id_field(r);
  nd.patch_id = string_field(r, "patch_id", max_id_chars, presence::required)
                  .value_or("");
  // A path names the patch too (SPEC §10): it must be text a URL can carry.
  if (!nd.patch_id.empty() && !plain_text(nd.patch_id))
    errors.add("patch_id", "must not contain control characters");
  if (const json* m = object_field(r, "patch_metadata", presence::required))
    nd.metadata = read_metadata(*m, errors);
  if (const json* ml = object_field(r, "ml_prediction", presence::optional))
    nd.ml = read_ml(*ml, errors);
  if (const json* wg = object_field(r, "wargaming_result", presence::optional))
    nd.wargaming = read_wargaming(*wg, errors);
  nd.requires_manual_review
    = bool_field(r, "requires_manual_review", presence::optional)
        .value_or(false);
  nd.requested_priority = urgency_field(r, "priority", presence::optional);
  for (const auto& f : owned_fields)
    check_owned(r, f);
  r.report_unknown();
  if (!errors.empty())
    return std::move(errors).to_error(422, "request body");
  return nd;
}

} // namespace hitl
