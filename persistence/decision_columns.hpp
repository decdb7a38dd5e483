#pragma once

// Internal to persistence/: the columns of hitl_decisions, described once
// (decision_columns.cpp). Every statement that reads a decision selects
// them from here, and every reader finds them in a result by name; the
// batch's INSERT of new decisions is written from the same table. Includes
// libpqxx, so never include it from outside persistence/.

#include "policy/decision.hpp"

#include <pqxx/result>
#include <pqxx/row>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// One per column of hitl_decisions, in the order of the table in
/// decision_columns.cpp.
enum class decision_col : uint8_t {
  decision_id,
  patch_id,
  apv_id,
  cve_id,
  package_name,
  current_version,
  target_version,
  severity,
  cvss_score,
  cwe_ids,
  affected_systems,
  patch_size_lines,
  ml_confidence,
  ml_prediction,
  ml_model_version,
  ml_shap_values,
  ml_execution_time_ms,
  wargaming_phase1,
  wargaming_phase2,
  wargaming_passed,
  wargaming_execution_time_ms,
  wargaming_error,
  wargaming_exploit_id,
  decision,
  decided_by,
  decided_at,
  priority,
  comment,
  reason,
  requires_manual_review,
  requires_escalation,
  auto_approval_eligible,
  ml_wargaming_agreement,
  policy_version,
  policy_failed_rules,
  approvals_required,
  escalation_level,
  sla_deadline,
  content_hash,
  created_by,
  created_at,
  updated_at,
  version,
};

inline constexpr size_t decision_col_count =
  static_cast<size_t>(decision_col::version) + 1;

/// The column's name in hitl_decisions.
std::string_view name_of(decision_col c);

/// The column of that name in hitl_decisions, if there is one.
std::optional<decision_col> decision_col_named(std::string_view name);

/// Its name in a result of the select lists below: its own, or for a
/// converted value a name of its own (`created_at_us`, `cwe_ids_json`).
std::string_view result_name_of(decision_col c);

/// `column, …, expr AS name, …` of every column that a decision_record is
/// read from: times as microseconds, arrays and JSON objects as JSON text.
const std::string& decision_select_list();

/// The same for `cols` only, in that order.
std::string decision_select_list(const std::vector<decision_col>& cols);

/// The INSERT of new decisions from the JSON array `rows` (an SQL
/// expression, e.g. `$1::json`), one object per decision whose members are
/// named as the columns (batch_writes.cpp writes them).
std::string decision_insert_sql(std::string_view rows);

/// Where the decision columns are in one result: looked up by name once for
/// the result, so that reading a row costs no lookup.
class decision_fields {
public:
  explicit decision_fields(const pqxx::result& r);

  /// The field of column `c` in `row`, a row of the same result. Throws
  /// std::logic_error when the result has no such column.
  pqxx::field operator()(const pqxx::row& row, decision_col c) const {
    auto at = at_[static_cast<size_t>(c)];
    if (at == absent)
      missing(c);
    return row[at];
  }

  /// The whole record (without approvals); the result must have every
  /// column of decision_select_list().
  decision_record record(const pqxx::row& row) const;

private:
  static constexpr auto absent = static_cast<pqxx::row::size_type>(-1);
  [[noreturn]] static void missing(decision_col c);

  std::array<pqxx::row::size_type, decision_col_count> at_;
};

} // namespace hitl
