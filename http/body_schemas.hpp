#pragma once

// The request bodies, one schema per endpoint: each is read once with the
// strict JSON reader (json_reader.hpp) into domain values, or refused with
// every field error found (400 malformed, 422 invalid). Pure: no RESTinio,
// no actors, so they are tested and fuzzed without a server.

#include "http/request_error.hpp"
#include "policy/decision.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hitl {

/// POST /hitl/admin/create-decision: the record as the original Wargaming
/// client sends it (SPEC §3).
parsed<new_decision> parse_create_decision(std::string_view body);

struct approve_body {
  std::optional<std::string> decision_id;
  std::optional<std::string> comment;
};
parsed<approve_body> parse_approve(std::string_view body);

struct reject_body {
  std::optional<std::string> decision_id;
  std::string reason;
  std::optional<std::string> comment;
};
parsed<reject_body> parse_reject(std::string_view body);

struct comment_body {
  std::optional<std::string> decision_id;
  std::string comment;
};
parsed<comment_body> parse_comment(std::string_view body);

struct cancel_body {
  std::optional<std::string> decision_id;
  std::optional<std::string> reason;
};
parsed<cancel_body> parse_cancel(std::string_view body);

} // namespace hitl
