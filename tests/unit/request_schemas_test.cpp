#include "http/body_schemas.hpp"
#include "http/client_text.hpp"
#include "http/path_ids.hpp"
#include "http/query_strings.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

using namespace hitl;
using json = nlohmann::json;

namespace {

/// The record as the original Wargaming client serializes its Pydantic
/// HITLDecisionRecord: every server field at its default, naive timestamps.
json original_record() {
  return json::parse(R"({
    "decision_id": "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b",
    "patch_id": "patch-CVE-2024-3094",
    "patch_metadata": {
      "apv_id": "APV-2024-0042",
      "cve_id": "CVE-2024-3094",
      "package_name": "xz-utils",
      "current_version": "5.6.0",
      "target_version": "5.6.1",
      "severity": "critical",
      "cvss_score": 10.0,
      "cwe_ids": ["CWE-506"],
      "affected_systems": ["build-01", "build-02"],
      "patch_size_lines": 0
    },
    "ml_prediction": {
      "model_version": "rf_v1",
      "confidence": 0.97,
      "prediction": true,
      "shap_values": null,
      "execution_time_ms": 12
    },
    "wargaming_result": {
      "phase1_success": true,
      "phase2_success": true,
      "validation_passed": true,
      "execution_time_ms": 48211,
      "error_message": null,
      "exploit_id": "EXP-xz-backdoor"
    },
    "decision": "pending",
    "decided_by": null,
    "decided_at": null,
    "priority": "medium",
    "comment": null,
    "reason": null,
    "created_at": "2024-03-29T12:00:00.123456",
    "updated_at": "2024-03-29T12:00:00.123456",
    "requires_escalation": false,
    "auto_approval_eligible": false,
    "ml_wargaming_agreement": false
  })");
}

json minimal_record() {
  return {{"patch_id", "p-1"},
          {"patch_metadata",
           {{"apv_id", "APV-1"},
            {"package_name", "openssl"},
            {"current_version", "3.0.1"},
            {"target_version", "3.0.2"},
            {"severity", "low"}}}};
}

// Both return copies: callers pass the temporary result of a parse.
template <class T>
request_error error_of(const parsed<T>& p) {
  REQUIRE(std::holds_alternative<request_error>(p));
  return std::get<request_error>(p);
}

template <class T>
T value_of(const parsed<T>& p) {
  if (auto* err = std::get_if<request_error>(&p)) {
    INFO("refused: " << err->detail);
    REQUIRE(std::holds_alternative<T>(p));
  }
  return std::get<T>(p);
}

/// The message for `field`, or "" when no error names it.
std::string message_for(const request_error& e, const std::string& field) {
  for (const auto& fe : e.errors)
    if (fe.field == field)
      return fe.message;
  return "";
}

std::vector<std::string> fields_of(const request_error& e) {
  std::vector<std::string> out;
  for (const auto& fe : e.errors)
    out.push_back(fe.field);
  return out;
}

parsed<new_decision> create(const json& j) {
  return parse_create_decision(j.dump());
}

/// The record with one value replaced (or added), by JSON pointer.
json with(json j, const std::string& pointer, json value) {
  j[json::json_pointer(pointer)] = std::move(value);
  return j;
}

json without(json j, const std::string& pointer) {
  auto ptr = json::json_pointer(pointer);
  j[ptr.parent_pointer()].erase(ptr.back());
  return j;
}

json string_list(size_t n, const std::string& item) {
  return json(std::vector<std::string>(n, item));
}

json shap_object(size_t n) {
  json out = json::object();
  for (size_t i = 0; i < n; ++i)
    out["f" + std::to_string(1000 + i)] = 0.01;
  return out;
}

/// A problem document must serialize, whatever the caller sent.
void check_serializable(const request_error& e) {
  json doc{{"detail", e.detail}};
  for (const auto& fe : e.errors)
    doc["errors"].push_back({{"field", fe.field}, {"message", fe.message}});
  CHECK_NOTHROW(doc.dump());
}

} // namespace

// -- create-decision ----------------------------------------------------------

TEST_CASE("create: the original client's record is accepted") {
  const auto& nd = value_of(create(original_record()));
  CHECK(nd.decision_id == "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b");
  CHECK(nd.patch_id == "patch-CVE-2024-3094");
  CHECK(nd.metadata.apv_id == "APV-2024-0042");
  CHECK(nd.metadata.cve_id == "CVE-2024-3094");
  CHECK(nd.metadata.package_name == "xz-utils");
  CHECK(nd.metadata.current_version == "5.6.0");
  CHECK(nd.metadata.target_version == "5.6.1");
  CHECK(nd.metadata.severity == urgency::critical);
  CHECK(nd.metadata.cvss_score == 10.0);
  CHECK(nd.metadata.cwe_ids == std::vector<std::string>{"CWE-506"});
  CHECK(nd.metadata.affected_systems.size() == 2);
  CHECK(nd.metadata.patch_size_lines == 0);
  REQUIRE(nd.ml);
  CHECK(nd.ml->model_version == "rf_v1");
  CHECK(nd.ml->confidence == doctest::Approx(0.97));
  CHECK(nd.ml->prediction);
  CHECK(nd.ml->shap_values.empty());
  CHECK(nd.ml->execution_time_ms == 12.0);
  REQUIRE(nd.wargaming);
  CHECK(nd.wargaming->phase1_success);
  CHECK(nd.wargaming->phase2_success);
  CHECK(nd.wargaming->validation_passed);
  CHECK(nd.wargaming->execution_time_ms == 48211.0);
  CHECK_FALSE(nd.wargaming->error_message);
  CHECK(nd.wargaming->exploit_id == "EXP-xz-backdoor");
  CHECK_FALSE(nd.requires_manual_review);
  // The client always sends "medium"; raising it to the severity's is the
  // policy's job, the parser only records what was asked.
  CHECK(nd.requested_priority == urgency::medium);
}

TEST_CASE("create: a minimal record and the optional parts") {
  SUBCASE("only the required fields") {
    const auto& nd = value_of(create(minimal_record()));
    CHECK_FALSE(nd.decision_id);
    CHECK(nd.patch_id == "p-1");
    CHECK(nd.metadata.severity == urgency::low);
    CHECK_FALSE(nd.metadata.cve_id);
    CHECK_FALSE(nd.metadata.cvss_score);
    CHECK(nd.metadata.cwe_ids.empty());
    CHECK_FALSE(nd.metadata.patch_size_lines);
    CHECK_FALSE(nd.ml);
    CHECK_FALSE(nd.wargaming);
    CHECK_FALSE(nd.requires_manual_review);
    CHECK_FALSE(nd.requested_priority);
  }
  SUBCASE("null means not given") {
    auto j = minimal_record();
    for (auto key : {"decision_id", "ml_prediction", "wargaming_result",
                     "requires_manual_review", "priority"})
      j[key] = nullptr;
    for (auto key : {"cve_id", "cvss_score", "cwe_ids", "patch_size_lines"})
      j["patch_metadata"][key] = nullptr;
    const auto& nd = value_of(create(j));
    CHECK_FALSE(nd.decision_id);
    CHECK_FALSE(nd.ml);
    CHECK_FALSE(nd.requested_priority);
  }
  SUBCASE("shap values, in key order") {
    auto j = with(original_record(), "/ml_prediction/shap_values",
                  {{"lines_changed", -0.25}, {"cvss", 0.5}, {"age", 1}});
    const auto& nd = value_of(create(j));
    REQUIRE(nd.ml);
    using entry = std::pair<std::string, double>;
    CHECK(nd.ml->shap_values
          == std::vector<entry>{
            {"age", 1.0}, {"cvss", 0.5}, {"lines_changed", -0.25}});
  }
  SUBCASE("manual review, an integral float and an RFC 3339 created_at") {
    auto j = minimal_record();
    j["requires_manual_review"] = true;
    j["patch_metadata"]["patch_size_lines"] = 42.0;
    j["created_at"] = "2024-03-29T12:00:00+02:00";
    const auto& nd = value_of(create(j));
    CHECK(nd.requires_manual_review);
    CHECK(nd.metadata.patch_size_lines == 42);
  }
}

TEST_CASE("create: server fields at their defaults are ignored") {
  const std::vector<std::pair<const char*, json>> rows{
    {"decision", "pending"},
    {"decided_by", nullptr},
    {"decided_at", nullptr},
    {"comment", nullptr},
    {"reason", nullptr},
    {"created_by", nullptr},
    {"sla_deadline", nullptr},
    {"policy_version", nullptr},
    {"version", nullptr},
    {"approvals_required", nullptr},
    {"requires_escalation", false},
    {"auto_approval_eligible", false},
    {"ml_wargaming_agreement", false},
    {"approvals", json::array()},
    {"escalation_level", 0},
    {"created_at", "2030-01-01T00:00:00Z"},
    {"updated_at", "1999-12-31 23:59:59.5-05:00"},
  };
  for (const auto& [field, value] : rows) {
    CAPTURE(field);
    value_of(create(with(minimal_record(), std::string{"/"} + field, value)));
  }
}

TEST_CASE("create: a server field with any other value is 422") {
  const std::vector<std::pair<const char*, json>> rows{
    {"decision", "approved"},
    {"decision", "auto_approved"},
    {"decision", "PENDING"},
    {"decided_by", "mallory"},
    {"decided_by", ""},
    {"decided_at", "2024-03-29T12:00:00Z"},
    {"comment", "looks fine"},
    {"reason", "n/a"},
    {"created_by", "someone-else"},
    {"sla_deadline", "2099-01-01T00:00:00Z"},
    {"policy_version", "v0"},
    {"version", 7},
    {"approvals_required", 0},
    {"requires_escalation", true},
    {"auto_approval_eligible", true},
    {"auto_approval_eligible", 0},
    {"ml_wargaming_agreement", true},
    {"approvals", json::array({{{"by", "alice"}, {"at", "2024-01-01"}}})},
    {"escalation_level", 3},
    {"escalation_level", "0"},
    {"created_at", "yesterday"},
    {"created_at", 1711713600},
    {"updated_at", "2024-13-01T00:00:00Z"},
  };
  for (const auto& [field, value] : rows) {
    CAPTURE(field);
    CAPTURE(value.dump());
    const auto& err = error_of(create(with(original_record(),
                                           std::string{"/"} + field, value)));
    CHECK(err.status == 422);
    REQUIRE(err.errors.size() == 1);
    CHECK(err.errors[0].field == field);
    CHECK(err.detail.find(field) != std::string::npos);
  }
  SUBCASE("the message names the default") {
    auto err = error_of(create(with(original_record(), "/decision",
                                    "approved")));
    CHECK(err.errors[0].message
          == "is set by the server; only its default (\"pending\") is "
             "accepted");
  }
}

TEST_CASE("create: every error is reported at once") {
  auto j = original_record();
  j.erase("patch_id");
  j["patch_metadata"]["severity"] = "urgent";
  j["patch_metadata"]["cvss_score"] = 11;
  j["patch_metadata"]["cwe_ids"] = {"CWE-79", 79, "CWE-89"};
  j["ml_prediction"]["confidence"] = "high";
  j["wargaming_result"].erase("validation_passed");
  j["decision"] = "approved";
  j["prioirty"] = "low";
  const auto& err = error_of(create(j));
  CHECK(err.status == 422);
  CHECK(fields_of(err)
        == std::vector<std::string>{
          "patch_id", "patch_metadata.severity", "patch_metadata.cvss_score",
          "patch_metadata.cwe_ids[1]", "ml_prediction.confidence",
          "wargaming_result.validation_passed", "decision", "prioirty"});
  CHECK(message_for(err, "patch_id") == "is required");
  CHECK(message_for(err, "patch_metadata.severity")
        == "must be one of low, medium, high, critical");
  CHECK(message_for(err, "patch_metadata.cvss_score")
        == "must be a number between 0 and 10");
  CHECK(message_for(err, "patch_metadata.cwe_ids[1]") == "must be a string");
  CHECK(message_for(err, "ml_prediction.confidence")
        == "must be a number between 0 and 1");
  CHECK(message_for(err, "prioirty") == "unknown field");
  CHECK(err.detail
        == "invalid request body: patch_id is required (and 7 more "
           "problems)");
}

TEST_CASE("create: limits, at and just past each boundary") {
  struct row {
    const char* pointer;
    json value;
    bool accepted;
    std::string field; // the path the error names
  };
  const std::string s255(255, 'a');
  const std::string s256(256, 'a');
  // Characters, not bytes, as varchar(n) counts them.
  std::string e255;
  for (int i = 0; i < 255; ++i)
    e255 += "\xC3\xA9";
  const std::vector<row> rows{
    {"/decision_id", s255, true, "decision_id"},
    {"/decision_id", s256, false, "decision_id"},
    {"/decision_id", "has space", false, "decision_id"},
    {"/decision_id", "", false, "decision_id"},
    {"/patch_id", s255, true, "patch_id"},
    {"/patch_id", e255, true, "patch_id"},
    {"/patch_id", s256, false, "patch_id"},
    {"/patch_metadata/apv_id", s255, true, "patch_metadata.apv_id"},
    {"/patch_metadata/apv_id", s256, false, "patch_metadata.apv_id"},
    {"/patch_metadata/cve_id", std::string(50, 'C'), true,
     "patch_metadata.cve_id"},
    {"/patch_metadata/cve_id", std::string(51, 'C'), false,
     "patch_metadata.cve_id"},
    {"/patch_metadata/package_name", s255, true,
     "patch_metadata.package_name"},
    {"/patch_metadata/package_name", s256, false,
     "patch_metadata.package_name"},
    {"/patch_metadata/current_version", std::string(100, '1'), true,
     "patch_metadata.current_version"},
    {"/patch_metadata/current_version", std::string(101, '1'), false,
     "patch_metadata.current_version"},
    {"/patch_metadata/target_version", std::string(100, '1'), true,
     "patch_metadata.target_version"},
    {"/patch_metadata/target_version", std::string(101, '1'), false,
     "patch_metadata.target_version"},
    {"/patch_metadata/cvss_score", 0, true, "patch_metadata.cvss_score"},
    {"/patch_metadata/cvss_score", 10, true, "patch_metadata.cvss_score"},
    {"/patch_metadata/cvss_score", 10.01, false, "patch_metadata.cvss_score"},
    {"/patch_metadata/cvss_score", -0.01, false, "patch_metadata.cvss_score"},
    {"/patch_metadata/cwe_ids", string_list(100, "CWE-1"), true,
     "patch_metadata.cwe_ids"},
    {"/patch_metadata/cwe_ids", string_list(101, "CWE-1"), false,
     "patch_metadata.cwe_ids"},
    {"/patch_metadata/cwe_ids/0", std::string(32, '9'), true,
     "patch_metadata.cwe_ids[0]"},
    {"/patch_metadata/cwe_ids/0", std::string(33, '9'), false,
     "patch_metadata.cwe_ids[0]"},
    {"/patch_metadata/affected_systems", string_list(1000, "h"), true,
     "patch_metadata.affected_systems"},
    {"/patch_metadata/affected_systems", string_list(1001, "h"), false,
     "patch_metadata.affected_systems"},
    {"/patch_metadata/affected_systems/1", s255, true,
     "patch_metadata.affected_systems[1]"},
    {"/patch_metadata/affected_systems/1", s256, false,
     "patch_metadata.affected_systems[1]"},
    {"/patch_metadata/patch_size_lines", 0, true,
     "patch_metadata.patch_size_lines"},
    {"/patch_metadata/patch_size_lines", INT64_MAX, true,
     "patch_metadata.patch_size_lines"},
    {"/patch_metadata/patch_size_lines", uint64_t{INT64_MAX} + 1, false,
     "patch_metadata.patch_size_lines"},
    {"/patch_metadata/patch_size_lines", -1, false,
     "patch_metadata.patch_size_lines"},
    {"/patch_metadata/patch_size_lines", 1.5, false,
     "patch_metadata.patch_size_lines"},
    {"/ml_prediction/confidence", 0, true, "ml_prediction.confidence"},
    {"/ml_prediction/confidence", 1, true, "ml_prediction.confidence"},
    {"/ml_prediction/confidence", 1.0001, false, "ml_prediction.confidence"},
    {"/ml_prediction/confidence", -0.0001, false, "ml_prediction.confidence"},
    {"/ml_prediction/model_version", std::string(100, 'v'), true,
     "ml_prediction.model_version"},
    {"/ml_prediction/model_version", std::string(101, 'v'), false,
     "ml_prediction.model_version"},
    {"/ml_prediction/execution_time_ms", 0, true,
     "ml_prediction.execution_time_ms"},
    {"/ml_prediction/execution_time_ms", -1, false,
     "ml_prediction.execution_time_ms"},
    {"/ml_prediction/shap_values", shap_object(256), true,
     "ml_prediction.shap_values"},
    {"/ml_prediction/shap_values", shap_object(257), false,
     "ml_prediction.shap_values"},
    {"/ml_prediction/shap_values", {{std::string(128, 'k'), 1}}, true,
     "ml_prediction.shap_values"},
    {"/ml_prediction/shap_values", {{std::string(129, 'k'), 1}}, false,
     "ml_prediction.shap_values[\"" + std::string(64, 'k') + "...\"]"},
    {"/wargaming_result/execution_time_ms", 0.0, true,
     "wargaming_result.execution_time_ms"},
    {"/wargaming_result/execution_time_ms", -0.5, false,
     "wargaming_result.execution_time_ms"},
    {"/wargaming_result/error_message", std::string(10000, 'e'), true,
     "wargaming_result.error_message"},
    {"/wargaming_result/error_message", std::string(10001, 'e'), false,
     "wargaming_result.error_message"},
    {"/wargaming_result/exploit_id", s255, true,
     "wargaming_result.exploit_id"},
    {"/wargaming_result/exploit_id", s256, false,
     "wargaming_result.exploit_id"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pointer);
    CAPTURE(r.value.dump().substr(0, 80));
    auto result = create(with(original_record(), r.pointer, r.value));
    if (r.accepted) {
      value_of(result);
    } else {
      const auto& err = error_of(result);
      CHECK(err.status == 422);
      CHECK(fields_of(err) == std::vector<std::string>{r.field});
    }
  }
}

TEST_CASE("create: the length message counts characters") {
  auto err = error_of(create(with(minimal_record(), "/patch_id",
                                  std::string(256, 'x'))));
  CHECK(message_for(err, "patch_id") == "is longer than 255 characters");
}

TEST_CASE("create: types are not coerced") {
  const std::vector<std::pair<const char*, json>> rows{
    {"/requires_manual_review", 1},
    {"/requires_manual_review", "true"},
    {"/ml_prediction/prediction", 0},
    {"/ml_prediction/prediction", "false"},
    {"/wargaming_result/phase1_success", nullptr},
    {"/patch_metadata/cvss_score", "7.5"},
    {"/patch_metadata/patch_size_lines", "12"},
    {"/patch_metadata/severity", 3},
    {"/patch_metadata/apv_id", 42},
    {"/patch_metadata/cwe_ids", "CWE-79"},
    {"/patch_metadata", "openssl"},
    {"/ml_prediction", json::array()},
    {"/wargaming_result", true},
    {"/ml_prediction/shap_values", json::array({0.1})},
    {"/priority", "urgent"},
    {"/priority", "Medium"},
  };
  for (const auto& [pointer, value] : rows) {
    CAPTURE(pointer);
    CAPTURE(value.dump());
    const auto& err = error_of(create(with(original_record(), pointer,
                                           value)));
    CHECK(err.status == 422);
    CHECK(err.errors.size() == 1);
  }
  auto err = error_of(create(with(original_record(),
                                  "/requires_manual_review", 1)));
  CHECK(message_for(err, "requires_manual_review") == "must be true or false");
}

TEST_CASE("create: required fields missing, null or blank") {
  const std::vector<std::pair<const char*, const char*>> rows{
    {"/patch_id", "patch_id"},
    {"/patch_metadata", "patch_metadata"},
    {"/patch_metadata/apv_id", "patch_metadata.apv_id"},
    {"/patch_metadata/package_name", "patch_metadata.package_name"},
    {"/patch_metadata/current_version", "patch_metadata.current_version"},
    {"/patch_metadata/target_version", "patch_metadata.target_version"},
    {"/patch_metadata/severity", "patch_metadata.severity"},
    {"/ml_prediction/confidence", "ml_prediction.confidence"},
    {"/ml_prediction/prediction", "ml_prediction.prediction"},
    {"/wargaming_result/phase1_success", "wargaming_result.phase1_success"},
    {"/wargaming_result/phase2_success", "wargaming_result.phase2_success"},
    {"/wargaming_result/validation_passed",
     "wargaming_result.validation_passed"},
  };
  for (const auto& [pointer, field] : rows) {
    CAPTURE(pointer);
    auto missing = error_of(create(without(original_record(), pointer)));
    CHECK(fields_of(missing) == std::vector<std::string>{field});
    CHECK(message_for(missing, field) == "is required");
    auto null = error_of(create(with(original_record(), pointer, nullptr)));
    CHECK(fields_of(null) == std::vector<std::string>{field});
  }
  for (auto blank : {"", " ", "\t\n "}) {
    CAPTURE(blank);
    auto err = error_of(create(with(original_record(),
                                    "/patch_metadata/package_name", blank)));
    CHECK(message_for(err, "patch_metadata.package_name")
          == "is required and must not be blank");
  }
  // Only required text is checked for blanks: the rest is kept as sent.
  auto nd = value_of(create(with(original_record(), "/patch_metadata/cve_id",
                                 " ")));
  CHECK(nd.metadata.cve_id == " ");
}

TEST_CASE("create: unknown fields anywhere are 422") {
  const std::vector<std::pair<const char*, const char*>> rows{
    {"/patchid", "patchid"},
    {"/patch_metadata/cvss", "patch_metadata.cvss"},
    {"/ml_prediction/confidance", "ml_prediction.confidance"},
    {"/wargaming_result/phase3_success", "wargaming_result.phase3_success"},
    {"/apv_id", "apv_id"},
    {"/user", "user"},
    {"/has space", "[\"has space\"]"},
  };
  for (const auto& [pointer, field] : rows) {
    CAPTURE(pointer);
    const auto& err = error_of(create(with(original_record(), pointer, 1)));
    CHECK(err.status == 422);
    CHECK(fields_of(err) == std::vector<std::string>{field});
    CHECK(message_for(err, field) == "unknown field");
  }
}

TEST_CASE("create: shap values must be numbers") {
  auto j = with(original_record(), "/ml_prediction/shap_values",
                {{"foo", "0.3"}, {"bar", 0.1}, {"a.b", true}, {"n", nullptr}});
  const auto& err = error_of(create(j));
  CHECK(err.status == 422);
  CHECK(fields_of(err)
        == std::vector<std::string>{"ml_prediction.shap_values[\"a.b\"]",
                                    "ml_prediction.shap_values.foo",
                                    "ml_prediction.shap_values.n"});
  CHECK(message_for(err, "ml_prediction.shap_values.foo")
        == "must be a number");
  auto empty_key = error_of(create(
    with(original_record(), "/ml_prediction/shap_values", {{"", 1}})));
  CHECK(fields_of(empty_key)
        == std::vector<std::string>{"ml_prediction.shap_values[\"\"]"});
}

TEST_CASE("create: NUL in any string is 422") {
  const std::string nul("a\0b", 3);
  const std::vector<std::pair<const char*, const char*>> rows{
    {"/patch_id", "patch_id"},
    {"/patch_metadata/cve_id", "patch_metadata.cve_id"},
    {"/patch_metadata/cwe_ids/0", "patch_metadata.cwe_ids[0]"},
    {"/wargaming_result/error_message", "wargaming_result.error_message"},
  };
  for (const auto& [pointer, field] : rows) {
    CAPTURE(pointer);
    const auto& err = error_of(create(with(original_record(), pointer, nul)));
    CHECK(err.status == 422);
    CHECK(message_for(err, field)
          == "must not contain the NUL character (\\u0000)");
    check_serializable(err);
  }
  auto key = error_of(create(
    with(original_record(), "/ml_prediction/shap_values", {{nul, 1}})));
  REQUIRE(key.errors.size() == 1);
  CHECK(key.errors[0].field == "ml_prediction.shap_values[\"a\\\\x00b\"]");
  CHECK(key.errors[0].message.find("NUL") != std::string::npos);
  // The escape as it travels on the wire.
  auto raw = error_of(parse_create_decision(R"({"patch_id": "x\u0000"})"));
  CHECK(message_for(raw, "patch_id").find("NUL") != std::string::npos);
}

TEST_CASE("create: a key given twice is 422") {
  auto body = R"({"decision": "approved", "decision": "pending",
    "patch_id": "p", "patch_metadata": {"apv_id": "a", "package_name": "b",
    "current_version": "1", "target_version": "2", "severity": "low",
    "severity": "high", "cwe_ids": [{"x": 1, "x": 2}]}})";
  const auto& err = error_of(parse_create_decision(body));
  CHECK(err.status == 422);
  CHECK(fields_of(err)
        == std::vector<std::string>{"decision", "patch_metadata.severity",
                                    "patch_metadata.cwe_ids[0].x",
                                    "patch_metadata.cwe_ids[0]"});
  CHECK(message_for(err, "decision") == "is given more than once");
}

TEST_CASE("create: malformed JSON is 400 and names the place") {
  struct row {
    const char* label;
    std::string body;
    const char* expect; // in the detail
  };
  const std::vector<row> rows{
    {"bad literal", R"({"patch_id": x})", "line 1, column 14"},
    {"truncated", R"({"patch_id": "p")", "unexpected end of input"},
    {"trailing garbage", R"({} {})", "expected end of input"},
    {"second line", "{\n  \"a\": 1,\n}", "line 3, column 1"},
    {"invalid UTF-8", "{\"patch_id\": \"\xFF\xFE\"}", "UTF-8"},
    {"lone surrogate", R"({"patch_id": "\ud800"})", "surrogate"},
    {"number overflow", R"({"patch_id": 1e999})", "number overflow"},
    {"raw control character", "{\"a\": \"\x01\"}", "control character"},
    {"comment", "{} // no", "line 1"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto& err = error_of(parse_create_decision(r.body));
    CHECK(err.status == 400);
    CHECK(err.detail.rfind("malformed JSON", 0) == 0);
    CHECK(err.detail.find(r.expect) != std::string::npos);
    check_serializable(err);
  }
}

TEST_CASE("create: the body must be a non-empty JSON object") {
  for (std::string body : {"", "   ", "\r\n"}) {
    const auto& err = error_of(parse_create_decision(body));
    CHECK(err.status == 400);
    CHECK(err.detail.find("empty") != std::string::npos);
  }
  const std::vector<std::pair<const char*, const char*>> rows{
    {"[]", "an array"}, {"\"x\"", "a string"}, {"null", "null"},
    {"42", "a number"}, {"true", "a boolean"},
  };
  for (const auto& [body, kind] : rows) {
    CAPTURE(body);
    const auto& err = error_of(parse_create_decision(body));
    CHECK(err.status == 422);
    CHECK(err.detail
          == std::string{"the request body must be a JSON object, not "}
               + kind);
  }
}

TEST_CASE("create: nesting is capped at 32 levels") {
  auto nested = [](int arrays) {
    return "{\"a\": " + std::string(arrays, '[') + std::string(arrays, ']')
           + "}";
  };
  // The object and 31 arrays: deep, but only an unknown field.
  auto at_cap = error_of(parse_create_decision(nested(31)));
  CHECK(message_for(at_cap, "a") == "unknown field");
  auto past = error_of(parse_create_decision(nested(32)));
  CHECK(past.status == 422);
  CHECK(past.detail == "the request body is nested deeper than 32 levels");
  CHECK(error_of(parse_create_decision(nested(500000))).status == 422);
}

TEST_CASE("create: a flood of errors is cut at 100") {
  auto j = original_record();
  for (int i = 0; i < 300; ++i)
    j["junk" + std::to_string(i)] = i;
  const auto& err = error_of(create(j));
  CHECK(err.errors.size() == 100);
  CHECK(err.detail.find("and 299 more problems") != std::string::npos);
  CHECK(err.detail.find("the first 100 are listed") != std::string::npos);
}

// -- verdict bodies -----------------------------------------------------------

TEST_CASE("approve: optional everything, user ignored") {
  for (std::string body : {"", " ", "{}"}) {
    const auto& b = value_of(parse_approve(body));
    CHECK_FALSE(b.decision_id);
    CHECK_FALSE(b.comment);
  }
  const auto& b = value_of(parse_approve(
    R"({"decision_id": "d-1", "user": "alice", "comment": "LGTM"})"));
  CHECK(b.decision_id == "d-1");
  CHECK(b.comment == "LGTM");
  value_of(parse_approve(R"({"comment": null, "user": null})"));
  value_of(parse_approve(json{{"comment", std::string(10000, 'c')}}.dump()));
  const std::vector<std::pair<json, const char*>> bad{
    {{{"comment", std::string(10001, 'c')}}, "comment"},
    {{{"comment", 5}}, "comment"},
    {{{"comment", std::string("a\0b", 3)}}, "comment"},
    {{{"decision_id", "d 1"}}, "decision_id"},
    {{{"decision_id", 1}}, "decision_id"},
    {{{"user", 7}}, "user"},
    {{{"approved", true}}, "approved"},
    {{{"reason", "x"}}, "reason"},
  };
  for (const auto& [body, field] : bad) {
    CAPTURE(body.dump().substr(0, 60));
    const auto& err = error_of(parse_approve(body.dump()));
    CHECK(err.status == 422);
    CHECK(fields_of(err) == std::vector<std::string>{field});
  }
  CHECK(error_of(parse_approve("[]")).status == 422);
  CHECK(error_of(parse_approve("{")).status == 400);
}

TEST_CASE("reject: a reason is required") {
  const auto& b = value_of(parse_reject(
    R"({"decision_id": "d-1", "user": "bob", "reason": "breaks ABI",
        "comment": "see CI"})"));
  CHECK(b.decision_id == "d-1");
  CHECK(b.reason == "breaks ABI");
  CHECK(b.comment == "see CI");
  CHECK(error_of(parse_reject("")).status == 400);
  const std::vector<std::pair<json, std::string>> bad{
    {json::object(), "is required"},
    {{{"reason", nullptr}}, "is required"},
    {{{"reason", "  \n"}}, "is required and must not be blank"},
    {{{"reason", std::string(10001, 'r')}}, "is longer than 10000 characters"},
    {{{"reason", false}}, "must be a string"},
  };
  for (const auto& [body, message] : bad) {
    CAPTURE(body.dump().substr(0, 60));
    const auto& err = error_of(parse_reject(body.dump()));
    CHECK(err.status == 422);
    CHECK(message_for(err, "reason") == message);
  }
  value_of(parse_reject(json{{"reason", std::string(10000, 'r')}}.dump()));
}

TEST_CASE("comment: the text is required") {
  const auto& b = value_of(parse_comment(
    R"({"decision_id": "d-1", "user": "carol", "comment": "why 5.6.1?"})"));
  CHECK(b.comment == "why 5.6.1?");
  CHECK(error_of(parse_comment("  ")).status == 400);
  for (json body : {json::object(), json{{"comment", " "}},
                    json{{"comment", std::string(10001, 'c')}}}) {
    CAPTURE(body.dump().substr(0, 60));
    const auto& err = error_of(parse_comment(body.dump()));
    CHECK(err.status == 422);
    CHECK(fields_of(err) == std::vector<std::string>{"comment"});
  }
  const auto& err = error_of(parse_comment(R"({"text": "hi"})"));
  CHECK(fields_of(err) == std::vector<std::string>{"comment", "text"});
}

TEST_CASE("cancel: an optional reason") {
  CHECK_FALSE(value_of(parse_cancel("")).reason);
  CHECK(value_of(parse_cancel(R"({"reason": "superseded"})")).reason
        == "superseded");
  CHECK(value_of(parse_cancel(R"({"decision_id": "a:b.c_d-1"})")).decision_id
        == "a:b.c_d-1");
  CHECK(error_of(parse_cancel(json{{"reason", std::string(10001, 'r')}}
                                .dump()))
          .status
        == 422);
  CHECK(error_of(parse_cancel(R"({"comment": "x"})")).status == 422);
  CHECK(error_of(parse_cancel(R"({"reason": 1})")).status == 422);
}

// -- query strings ------------------------------------------------------------

TEST_CASE("pending query: defaults and values") {
  const auto& d = value_of(parse_pending_query({}));
  CHECK(d.limit == 50);
  CHECK_FALSE(d.cursor);
  CHECK_FALSE(d.priority);
  CHECK_FALSE(d.severity);
  CHECK(d.sort == pending_sort::priority);
  const auto& q = value_of(parse_pending_query({{"limit", "100"},
                                                {"cursor", "abc=="},
                                                {"priority", "high"},
                                                {"severity", "critical"},
                                                {"sort", "deadline"}}));
  CHECK(q.limit == 100);
  CHECK(q.cursor == "abc==");
  CHECK(q.priority == urgency::high);
  CHECK(q.severity == urgency::critical);
  CHECK(q.sort == pending_sort::deadline);
  CHECK(value_of(parse_pending_query({{"limit", "1"}})).limit == 1);
  CHECK(value_of(parse_pending_query({{"sort", "age"}})).sort
        == pending_sort::age);
  CHECK(value_of(parse_pending_query({{"cursor", std::string(512, 'c')}}))
          .cursor->size()
        == 512);
}

TEST_CASE("pending query: errors are 400 and name the parameter") {
  const std::vector<std::pair<query_params, std::string>> rows{
    {{{"limit", "abc"}}, "limit"},
    {{{"limit", "0"}}, "limit"},
    {{{"limit", "101"}}, "limit"},
    {{{"limit", "-1"}}, "limit"},
    {{{"limit", "+5"}}, "limit"},
    {{{"limit", " 5"}}, "limit"},
    {{{"limit", "5.0"}}, "limit"},
    {{{"limit", "99999999999999999999999"}}, "limit"},
    {{{"limit", ""}}, "limit"},
    {{{"cursor", ""}}, "cursor"},
    {{{"cursor", std::string(513, 'c')}}, "cursor"},
    {{{"cursor", "\xC0\xAF"}}, "cursor"},
    {{{"priority", "urgent"}}, "priority"},
    {{{"severity", "HIGH"}}, "severity"},
    {{{"sort", "newest"}}, "sort"},
    {{{"limit", "5"}, {"limit", "6"}}, "limit"},
    {{{"page", "2"}}, "page"},
  };
  for (const auto& [params, field] : rows) {
    CAPTURE(field);
    CAPTURE(params.front().second.substr(0, 30));
    const auto& err = error_of(parse_pending_query(params));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{field});
    CHECK(err.detail.find(field) != std::string::npos);
  }
  auto limit = error_of(parse_pending_query({{"limit", "101"}}));
  CHECK(message_for(limit, "limit") == "must be an integer between 1 and 100");
  auto twice = error_of(parse_pending_query(
    {{"sort", "age"}, {"sort", "age"}, {"sort", "age"}}));
  CHECK(message_for(twice, "sort") == "is given more than once");
  CHECK(twice.errors.size() == 1);
  auto unknown = error_of(parse_pending_query({{"sortt", "age"}}));
  CHECK(message_for(unknown, "sortt") == "unknown parameter");
}

TEST_CASE("pending query: a garbled parameter name is echoed safely") {
  const auto& err = error_of(parse_pending_query(
    {{std::string("\xFF\x01x\0", 4), "1"}}));
  REQUIRE(err.errors.size() == 1);
  CHECK(err.errors[0].field == "\\xFF\\x01x\\x00");
  check_serializable(err);
}

TEST_CASE("audit query: defaults and values") {
  const auto& d = value_of(parse_audit_query({}));
  CHECK(d.limit == 100);
  CHECK_FALSE(d.after_seq);
  CHECK_FALSE(d.decision_id);
  const auto& q = value_of(parse_audit_query(
    {{"decision_id", "d-1"},
     {"action", "approval_added"},
     {"performed_by", "alice"},
     {"since", "2026-01-01T00:00:00Z"},
     {"until", "2026-01-01T02:00:00+02:00"},
     {"limit", "1000"},
     {"cursor", "0"}}));
  CHECK(q.decision_id == "d-1");
  CHECK(q.action == audit_action::approval_added);
  CHECK(q.performed_by == "alice");
  CHECK(q.since == parse_iso("2026-01-01T00:00:00Z"));
  CHECK(q.until == q.since); // equal bounds are a valid (empty) range
  CHECK(q.limit == 1000);
  CHECK(q.after_seq == 0);
  CHECK(value_of(parse_audit_query({{"cursor", "9223372036854775807"}}))
          .after_seq
        == INT64_MAX);
}

TEST_CASE("audit query: errors") {
  const std::vector<std::pair<query_params, std::string>> rows{
    {{{"decision_id", "a/b"}}, "decision_id"},
    {{{"decision_id", std::string(256, 'd')}}, "decision_id"},
    {{{"action", "deleted"}}, "action"},
    {{{"performed_by", std::string(256, 'p')}}, "performed_by"},
    {{{"performed_by", std::string("a\0", 2)}}, "performed_by"},
    {{{"since", "2026-01-01"}}, "since"},
    {{{"until", "2026-01-01T00:00:00 02:00"}}, "until"},
    {{{"since", "2026-01-02T00:00:00Z"}, {"until", "2026-01-01T00:00:00Z"}},
     "since"},
    {{{"limit", "0"}}, "limit"},
    {{{"limit", "1001"}}, "limit"},
    {{{"cursor", "-1"}}, "cursor"},
    {{{"cursor", "abc"}}, "cursor"},
    {{{"cursor", "9223372036854775808"}}, "cursor"},
    {{{"seq", "1"}}, "seq"},
  };
  for (const auto& [params, field] : rows) {
    CAPTURE(field);
    const auto& err = error_of(parse_audit_query(params));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{field});
  }
  auto range = error_of(parse_audit_query(
    {{"since", "2026-01-02T00:00:00Z"}, {"until", "2026-01-01T00:00:00Z"}}));
  CHECK(message_for(range, "since") == "is after until");
  auto several = error_of(parse_audit_query(
    {{"limit", "0"}, {"action", "x"}, {"bogus", "1"}}));
  CHECK(several.errors.size() == 3);
}

TEST_CASE("summary query") {
  CHECK_FALSE(value_of(parse_summary_query({})).since);
  const auto& q = value_of(parse_summary_query(
    {{"since", "2026-01-01T00:00:00Z"}, {"until", "2026-02-01T00:00:00Z"}}));
  CHECK(q.since);
  CHECK(q.until);
  const std::vector<std::pair<query_params, std::string>> rows{
    {{{"since", "last week"}}, "since"},
    {{{"until", ""}}, "until"},
    {{{"since", "2026-02-01T00:00:00Z"}, {"until", "2026-01-01T00:00:00Z"}},
     "since"},
    {{{"limit", "5"}}, "limit"},
    {{{"until", "2026-01-01T00:00:00Z"}, {"until", "2026-01-01T00:00:00Z"}},
     "until"},
  };
  for (const auto& [params, field] : rows) {
    CAPTURE(field);
    const auto& err = error_of(parse_summary_query(params));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{field});
  }
}

TEST_CASE("wait query") {
  CHECK(std::get<int>(parse_wait_query({})) == 0);
  CHECK(std::get<int>(parse_wait_query({{"wait", "0"}})) == 0);
  CHECK(std::get<int>(parse_wait_query({{"wait", "60"}})) == 60);
  for (auto bad : {"61", "-1", "abc", "", "1.5", "30s"}) {
    CAPTURE(bad);
    const auto& err = error_of(parse_wait_query({{"wait", bad}}));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{"wait"});
  }
  CHECK(error_of(parse_wait_query({{"timeout", "5"}})).status == 400);
}

TEST_CASE("valid_decision_id") {
  const std::vector<std::pair<std::string, bool>> rows{
    {"3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b", true},
    {"a", true},
    {"A.b_c:d-9", true},
    {std::string(255, 'x'), true},
    {std::string(256, 'x'), false},
    {"", false},
    {"a b", false},
    {"a/b", false},
    {"caf\xC3\xA9", false},
    {std::string("a\0", 2), false},
  };
  for (const auto& [id, ok] : rows) {
    CAPTURE(id);
    CHECK(valid_decision_id(id) == ok);
  }
}

TEST_CASE("header text is made storable: valid UTF-8, no controls, bounded") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(storable_text("curl/8.1", 512) == "curl/8.1");
  CHECK(storable_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 512)
        == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"); // é € 😀 kept
  CHECK(storable_text("bad\xFF\xFE" "agent", 512) == "bad" + fffd + fffd + "agent");
  CHECK(storable_text(std::string("a\0b", 3), 512) == "a" + fffd + "b");
  CHECK(storable_text("tab\there\x7F", 512) == "tab" + fffd + "here" + fffd);
  // A C1 control (U+009D) too: fuzz_path_params's oracle once took it for
  // clean text.
  CHECK(storable_text("-\xC2\x9D" "2", 512) == "-" + fffd + "2");
  CHECK(storable_text("\xC0\xAF", 512) == fffd + fffd);         // overlong '/'
  CHECK(storable_text("\xED\xA0\x80", 512) == fffd + fffd + fffd); // surrogate
  CHECK(storable_text("\xF4\x90\x80\x80", 512) == fffd + fffd + fffd + fffd);
  CHECK(storable_text("\xE2\x82", 512) == fffd + fffd); // truncated sequence
  // Cut at a character boundary, never inside one.
  CHECK(storable_text("ab\xC3\xA9", 3) == "ab");
  CHECK(storable_text("ab\xC3\xA9", 4) == "ab\xC3\xA9");
  CHECK(storable_text(std::string(600, 'x'), 512).size() == 512);
  // Whatever comes in, what comes out is valid JSON text once quoted.
  std::string noise;
  for (int i = 0; i < 256; ++i)
    noise += static_cast<char>(i);
  CHECK_NOTHROW(json(storable_text(noise, 1024)).dump());
}

// -- path parameters and client text (issue 17) -------------------------------

TEST_CASE("path ids: percent-decoded, and kept only when the body's rules "
          "allow them") {
  using k = path_id_kind;
  const std::string e_acute = "\xC3\xA9";
  std::string longest;
  for (int i = 0; i < 255; ++i)
    longest += e_acute;
  struct row {
    std::string raw;
    path_id_kind kind;
    std::optional<std::string> id;
  };
  const std::vector<row> rows{
    {"dec-1", k::decision_id, "dec-1"},
    {"dec%2D1", k::decision_id, "dec-1"},
    {std::string(255, 'd'), k::decision_id, std::string(255, 'd')},
    {std::string(256, 'd'), k::decision_id, std::nullopt},
    {"", k::decision_id, std::nullopt},
    {"a b", k::decision_id, std::nullopt},
    {"a%20b", k::decision_id, std::nullopt},
    {"caf%C3%A9", k::decision_id, std::nullopt}, // not [A-Za-z0-9._:-]
    {"a%FF", k::decision_id, std::nullopt},
    {"a\xFF", k::decision_id, std::nullopt},
    {"patch-42", k::patch_id, "patch-42"},
    {"my%20patch", k::patch_id, "my patch"},
    {"a%2Fb", k::patch_id, "a/b"},
    {"caf%C3%A9", k::patch_id, "caf" + e_acute},
    {"caf" + e_acute, k::patch_id, "caf" + e_acute}, // sent unencoded
    {longest, k::patch_id, longest},                 // 255 characters
    {longest + "x", k::patch_id, std::nullopt},
    {"a%FF", k::patch_id, std::nullopt},             // the attack, encoded
    {"a\xFF", k::patch_id, std::nullopt},            // the attack, raw
    {"a%C0%AF", k::patch_id, std::nullopt},          // overlong '/'
    {"a%ED%A0%80", k::patch_id, std::nullopt},       // surrogate
    {"a%E2%82", k::patch_id, std::nullopt},          // cut short
    {"a%00", k::patch_id, std::nullopt},
    {"a%0A", k::patch_id, std::nullopt},
    {"a\t", k::patch_id, std::nullopt},
    {"a%7F", k::patch_id, std::nullopt},
    {"a%C2%85", k::patch_id, std::nullopt},          // C1 control
    {"%20", k::patch_id, std::nullopt},              // blank
    {"", k::patch_id, std::nullopt},
    {"a%", k::patch_id, std::nullopt},
    {"a%4", k::patch_id, std::nullopt},
    {"a%zz", k::patch_id, std::nullopt},
    {"index-DjgQ0kby.js", k::file_name, "index-DjgQ0kby.js"},
    {"a%01.js", k::file_name, std::nullopt},
    {"a\xFF.js", k::file_name, std::nullopt},
    {std::string(256, 'f'), k::file_name, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.raw);
    CAPTURE(static_cast<int>(r.kind));
    CHECK(parse_path_id(r.raw, r.kind) == r.id);
  }
  // Whatever the bytes, no throw and nothing longer than the limit.
  std::string noise;
  for (int i = 0; i < 256; ++i)
    noise += static_cast<char>(i);
  CHECK_NOTHROW(parse_path_id(noise, k::patch_id));
  CHECK_FALSE(parse_path_id(std::string(4000, 'a'), k::patch_id));
}

TEST_CASE("path ids: a patch_id a create body accepts is one a path names") {
  auto body_accepts = [](const std::string& patch) {
    auto rec = original_record();
    rec["patch_id"] = patch;
    return std::holds_alternative<new_decision>(
      parse_create_decision(rec.dump()));
  };
  auto encoded = [](const std::string& s) {
    std::string out;
    char buf[4];
    for (unsigned char c : s) {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
    return out;
  };
  std::string longest;
  for (int i = 0; i < 255; ++i)
    longest += "\xE2\x82\xAC"; // €
  for (const std::string& patch :
       {std::string{"p-1"}, std::string{"with space"}, std::string{"a/b"},
        std::string{"caf\xC3\xA9"}, longest, longest + "x",
        std::string{"tab\there"}, std::string{"bell\x07"},
        std::string{"c1\xC2\x85"}, std::string{"del\x7F"}, std::string{" "},
        std::string(255, 'z'), std::string(256, 'z')}) {
    CAPTURE(patch);
    bool accepted = body_accepts(patch);
    CHECK(parse_path_id(encoded(patch), path_id_kind::patch_id).has_value()
          == accepted);
    if (accepted)
      CHECK(*parse_path_id(encoded(patch), path_id_kind::patch_id) == patch);
  }
  auto rec = original_record();
  rec["patch_id"] = "bell\x07";
  CHECK(message_for(error_of(parse_create_decision(rec.dump())), "patch_id")
        == "must not contain control characters");
}

TEST_CASE("query values: valid UTF-8, no control characters, bounded: 400") {
  const std::string big(2049, 'a');
  const std::vector<std::pair<query_params, std::string>> rows{
    {{{"cursor", "\xFF"}}, "cursor"},
    {{{"cursor", "a\x01"}}, "cursor"},
    {{{"cursor", "a\xC2\x85"}}, "cursor"},
    {{{"priority", "high\x7F"}}, "priority"},
    {{{"sort", big}}, "sort"},
  };
  for (const auto& [params, field] : rows) {
    CAPTURE(field);
    const auto& err = error_of(parse_pending_query(params));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{field});
    check_serializable(err);
  }
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{
         {"performed_by", "alice\n"},
         {"performed_by", "\xC0\xAF"},
         {"decision_id", "d\xFF"},
         {"since", "2026-01-01T00:00:00Z\x01"},
         {"performed_by", big}}) {
    CAPTURE(key);
    const auto& err = error_of(parse_audit_query({{key, value}}));
    CHECK(err.status == 400);
    CHECK(fields_of(err) == std::vector<std::string>{key});
  }
  CHECK(error_of(parse_summary_query({{"until", "\xFF"}})).status == 400);
  CHECK(error_of(parse_wait_query({{"wait", std::string("1\0", 2)}})).status
        == 400);
  CHECK(message_for(error_of(parse_pending_query({{"cursor", "a\x01"}})),
                    "cursor")
        == "must be valid UTF-8 without control characters");
  CHECK(message_for(error_of(parse_pending_query({{"sort", big}})), "sort")
        == "is longer than 2048 bytes");
  // Text that is fine stays fine.
  CHECK(value_of(parse_audit_query({{"performed_by", "Ren\xC3\xA9"}}))
          .performed_by
        == "Ren\xC3\xA9");
}

TEST_CASE("client text is echoed escaped, valid UTF-8, and cut") {
  CHECK(echoable_text("a\xFF" "b", 64) == "a\\xFFb");
  CHECK(echoable_text("new\nline", 64) == "new\\x0Aline");
  CHECK(echoable_text("c1\xC2\x85", 64) == "c1\\xC2\\x85");
  CHECK(echoable_text("caf\xC3\xA9", 64) == "caf\xC3\xA9");
  CHECK(echoable_text("abcdef", 3) == "abc...");
  std::string noise;
  for (int i = 0; i < 256; ++i)
    noise += static_cast<char>(i);
  CHECK_NOTHROW(json(echoable_text(noise, 1000)).dump());
  // C1 controls are replaced in stored header text too, once each.
  CHECK(storable_text("a\xC2\x85" "b", 64) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("a raw NUL byte after a JSON document is malformed JSON (400)") {
  // nlohmann's lexer ends the input at a NUL: without the check the
  // document before it was taken, whatever followed.
  std::string body = R"({"reason":"no"})";
  body += '\0';
  body += "garbage";
  auto p = hitl::parse_reject(body);
  REQUIRE(std::holds_alternative<hitl::request_error>(p));
  CHECK(std::get<hitl::request_error>(p).status == 400);
}
