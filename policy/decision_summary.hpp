#pragma once

// What GET /hitl/analytics/summary and the metrics' totals report: plain
// values, below persistence/, which computes them, and http/, which
// renders them.

#include <cstdint>
#include <optional>

namespace hitl {

/// Totals over the decisions created in [since, until) (all when unset).
struct decision_summary {
  int64_t total = 0;
  int64_t pending = 0;
  int64_t escalated = 0;
  int64_t approved = 0;
  int64_t rejected = 0;
  int64_t auto_approved = 0;
  int64_t cancelled = 0;
  std::optional<double> avg_decision_time_seconds;
  /// Human verdicts on patches with an ML prediction, and how many agreed.
  int64_t ml_judged = 0;
  int64_t ml_agreed = 0;
  std::optional<double> p50_decision_seconds;
  std::optional<double> p90_decision_seconds;
  int64_t sla_breaches = 0;
};

} // namespace hitl
