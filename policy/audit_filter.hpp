#pragma once

// Which audit entries a reader wants (GET /hitl/analytics/audit-logs): a
// plain value, below persistence/, which queries by it, and http/, which
// parses it from the query string.

#include "policy/audit_chain.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hitl {

struct audit_filter {
  std::optional<std::string> decision_id;
  std::optional<audit_action> action;
  std::optional<std::string> performed_by;
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  int64_t after_seq = 0;
  int limit = 100;
};

} // namespace hitl
