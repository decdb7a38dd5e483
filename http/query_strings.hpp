#pragma once

// The query strings, one schema per endpoint: every parameter checked once
// (known, not repeated, valid UTF-8 without controls, in range) into domain
// values, or refused with 400 and every field error.

#include "http/request_error.hpp"
#include "policy/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hitl {

struct pending_query {
  int limit = 50;
  std::optional<std::string> cursor;
  std::optional<urgency> priority;
  std::optional<urgency> severity;
  pending_sort sort = pending_sort::priority;
};
parsed<pending_query> parse_pending_query(const query_params& q);

struct audit_query {
  std::optional<std::string> decision_id;
  std::optional<audit_action> action;
  std::optional<std::string> performed_by;
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  int limit = 100;
  /// Entries with seq greater than this (the cursor of the previous page).
  std::optional<int64_t> after_seq;
};
parsed<audit_query> parse_audit_query(const query_params& q);

struct summary_query {
  std::optional<timestamp> since;
  std::optional<timestamp> until;
};
parsed<summary_query> parse_summary_query(const query_params& q);

/// GET /hitl/audit/export?since&until&format (jsonl or csv).
struct export_query {
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  bool csv = false;
};
parsed<export_query> parse_export_query(const query_params& q);

/// GET /hitl/decisions/{id}?wait=N: seconds to long-poll, 0 to 60.
parsed<int> parse_wait_query(const query_params& q);

} // namespace hitl
