#pragma once

// The pending queue as values: a filter, a page and where the next page
// starts. Here, below persistence/, because the HTTP edge parses filters and
// renders pages without the database's code.

#include "policy/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// Where the previous page ended, in the sort's own key.
struct pending_cursor {
  int64_t key1 = 0; // urgency rank, created_at or deadline (µs)
  int64_t key2 = 0; // created_at (µs) for the priority sort
  std::string decision_id;
};

struct pending_filter {
  std::optional<urgency> priority;
  std::optional<urgency> severity;
  pending_sort sort = pending_sort::priority;
  std::optional<pending_cursor> after;
  int limit = 50;
};

/// An open decision as the queue shows it: what a reviewer scans to choose
/// the next one, and the keys it sorts by. The rest of the record (ML
/// features, wargaming details, array columns) is one GET of the decision
/// away. Reading it for every row of every page cost both sides for
/// nothing: PostgreSQL took 0.31 ms for a page of 51 instead of 0.15 ms,
/// and the service parsed three arrays and the SHAP values of each row.
struct pending_item {
  std::string decision_id;
  std::string patch_id;
  std::string apv_id;
  std::optional<std::string> cve_id;
  std::string package_name;
  urgency severity = urgency::medium;
  urgency priority = urgency::medium;
  decision_status status = decision_status::pending;
  std::optional<double> ml_confidence;
  std::optional<bool> ml_prediction;
  std::optional<bool> wargaming_passed;
  timestamp created_at;
  std::optional<timestamp> sla_deadline;
  int escalation_level = 0;
  int approvals_required = 1;
};

struct pending_page {
  std::vector<pending_item> items;
  int64_t total = 0;                  // open decisions matching the filter
  std::optional<pending_cursor> next;
};

} // namespace hitl
