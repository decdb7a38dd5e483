// Fuzzes the body of POST /hitl/admin/create-decision
// (parse_create_decision). Beyond "no crash":
// - a refusal is a 400 or 422 problem that serializes;
// - an accepted body fits the columns it is stored in (schema/), so the
//   database never refuses it with a 5xx;
// - its content_json is itself an accepted body with the same content, so
//   the content hash that tells a retry from a conflict is stable;
// - the creation it makes writes a record, an event and audit entries that
//   are valid JSON and seal into a chain that verifies.

#include "tests/fuzz/properties.hpp"

#include "policy/policy_config.hpp"

#include <cmath>

using namespace hitl;
using namespace hitl::fuzz;

namespace {

bool finite_in(const std::optional<double>& v, double lo, double hi) {
  return !v || (std::isfinite(*v) && *v >= lo && *v <= hi);
}

bool required_text(const std::string& s, size_t max_chars) {
  return !s.empty() && storable(s, max_chars);
}

// schema/001_decisions.sql as amended by 014: varchar(n), NOT NULL with
// length >= 1, the ranges of the numeric domains, jsonb for SHAP values.
void check_storable(const new_decision& nd) {
  constexpr double big = 1.7976931348623157e308;
  FUZZ_REQUIRE(!nd.decision_id || valid_decision_id(*nd.decision_id));
  FUZZ_REQUIRE(required_text(nd.patch_id, 255));
  const auto& m = nd.metadata;
  FUZZ_REQUIRE(required_text(m.apv_id, 255));
  FUZZ_REQUIRE(storable(m.cve_id, 50));
  FUZZ_REQUIRE(required_text(m.package_name, 255));
  FUZZ_REQUIRE(required_text(m.current_version, 100));
  FUZZ_REQUIRE(required_text(m.target_version, 100));
  FUZZ_REQUIRE(finite_in(m.cvss_score, 0, 10));
  for (const auto& s : m.cwe_ids)
    FUZZ_REQUIRE(required_text(s, 10000));
  for (const auto& s : m.affected_systems)
    FUZZ_REQUIRE(required_text(s, 10000));
  FUZZ_REQUIRE(!m.patch_size_lines || *m.patch_size_lines >= 0);
  if (nd.ml) {
    FUZZ_REQUIRE(storable(nd.ml->model_version, 100));
    FUZZ_REQUIRE(finite_in(nd.ml->confidence, 0, 1));
    FUZZ_REQUIRE(finite_in(nd.ml->execution_time_ms, 0, big));
    for (const auto& [feature, value] : nd.ml->shap_values) {
      FUZZ_REQUIRE(required_text(feature, 128));
      FUZZ_REQUIRE(std::isfinite(value));
    }
  }
  if (nd.wargaming) {
    FUZZ_REQUIRE(finite_in(nd.wargaming->execution_time_ms, 0, big));
    FUZZ_REQUIRE(storable(nd.wargaming->error_message, 10000));
    FUZZ_REQUIRE(storable(nd.wargaming->exploit_id, 255));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed_body = parse_create_decision(as_text(data, size));
  const auto* nd = accepted(parsed_body, {400, 422});
  if (nd == nullptr)
    return 0;
  check_storable(*nd);
  // content_json writes strictly: it throws on text that is not UTF-8.
  auto content = content_json(*nd);
  auto reparsed = parse_create_decision(content);
  const auto* again = std::get_if<new_decision>(&reparsed);
  FUZZ_REQUIRE(again != nullptr);
  FUZZ_REQUIRE(content_json(*again) == content);
  static const policy_config cfg;
  static const std::string version = cfg.version();
  auto c = create_change(cfg, version, *nd, content_hash(*nd),
                         nd->decision_id.value_or("generated-id"), "wargaming",
                         fixed_now());
  check_change(c, "wargaming");
  return 0;
}
