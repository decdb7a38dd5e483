#include "policy/policy_config.hpp"

#include "policy/sha256.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

// Durations enter the canonical form as integral microseconds, so that the
// version never depends on how a platform prints a double.
json micros_or_null(const std::optional<duration>& d) {
  return d ? json(d->count()) : json(nullptr);
}

} // namespace

std::string policy_config::version() const {
  json sla_us = json::array();
  for (const auto& d : sla)
    sla_us.push_back(micros_or_null(d));
  // A compact dump of a sorted-key object is canonical. It must list every
  // field of the struct, or changing the missing one would not change the
  // version.
  json canonical = {
    {"approvals_required", approvals_required},
    {"escalation_repeat_us", micros_or_null(escalation_repeat)},
    {"max_escalation_level", max_escalation_level},
    {"min_confidence", min_confidence},
    {"sla_us", sla_us},
  };
  return std::to_string(rule_set_version) + "."
         + sha256_hex(canonical.dump()).substr(0, 8);
}

} // namespace hitl
