#pragma once

// The JSON form of the domain values, as SPEC §1 names the fields. Parsing
// and validating requests lives at the HTTP edge (http/); this is the
// outbound direction, shared by responses, webhooks and the event stream.

#include "policy/decision.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace hitl {

/// The full record as JSON text: patch_metadata, ml_prediction,
/// wargaming_result, approvals, SLA and policy fields.
std::string record_json(const decision_record& d);

/// The creator's content only, in the canonical form that content_hash
/// covers (compact, keys sorted).
std::string content_json(const new_decision& nd);

nlohmann::json to_json(const comment& c);

/// The body of an event, for webhooks and the live stream:
/// `{event, at, decision, comment?}`, plus for an escalation what the
/// on-call reviewer needs at a glance (level, age, deadline, and the URL of
/// the decision under `base_url`).
std::string event_payload(const std::string& event, const decision_record& d,
                          const std::optional<comment>& c, timestamp at,
                          const std::string& base_url);

} // namespace hitl
