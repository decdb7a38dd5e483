#include "persistence/analytics_repository.hpp"

#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

void prepare_analytics_statements(pqxx::connection_base& conn) {
  // Human verdicts are approved and rejected; time to decision runs from
  // creation to that verdict.
  conn.prepare("decision_summary", R"(
    SELECT
      count(*),
      count(*) FILTER (WHERE decision = 'pending'),
      count(*) FILTER (WHERE decision = 'escalated'),
      count(*) FILTER (WHERE decision = 'approved'),
      count(*) FILTER (WHERE decision = 'rejected'),
      count(*) FILTER (WHERE decision = 'auto_approved'),
      count(*) FILTER (WHERE decision = 'cancelled'),
      avg(EXTRACT(EPOCH FROM (decided_at - created_at)))
        FILTER (WHERE decision IN ('approved', 'rejected')),
      count(*) FILTER (WHERE decision IN ('approved', 'rejected')
                       AND ml_prediction IS NOT NULL),
      count(*) FILTER (WHERE decision IN ('approved', 'rejected')
                       AND ml_prediction = (decision = 'approved')),
      percentile_cont(0.5) WITHIN GROUP (
        ORDER BY EXTRACT(EPOCH FROM (decided_at - created_at)))
        FILTER (WHERE decision IN ('approved', 'rejected')),
      percentile_cont(0.9) WITHIN GROUP (
        ORDER BY EXTRACT(EPOCH FROM (decided_at - created_at)))
        FILTER (WHERE decision IN ('approved', 'rejected')),
      count(*) FILTER (WHERE escalation_level > 0)
    FROM hitl_decisions
    WHERE ($1::bigint IS NULL OR created_at >= hitl_from_micros($1))
      AND ($2::bigint IS NULL OR created_at < hitl_from_micros($2)))");
}

decision_summary read_decision_summary(pqxx::transaction_base& txn,
                                       std::optional<timestamp> since,
                                       std::optional<timestamp> until) {
  sql_params p;
  if (since)
    p.add(to_micros(*since));
  else
    p.null();
  if (until)
    p.add(to_micros(*until));
  else
    p.null();
  auto r = txn.exec_prepared1("decision_summary", p.dynamic());
  auto opt_double = [](const pqxx::field& f) -> std::optional<double> {
    if (f.is_null())
      return std::nullopt;
    return f.as<double>();
  };
  decision_summary s;
  s.total = r[0].as<int64_t>();
  s.pending = r[1].as<int64_t>();
  s.escalated = r[2].as<int64_t>();
  s.approved = r[3].as<int64_t>();
  s.rejected = r[4].as<int64_t>();
  s.auto_approved = r[5].as<int64_t>();
  s.cancelled = r[6].as<int64_t>();
  s.avg_decision_time_seconds = opt_double(r[7]);
  s.ml_judged = r[8].as<int64_t>();
  s.ml_agreed = r[9].as<int64_t>();
  s.p50_decision_seconds = opt_double(r[10]);
  s.p90_decision_seconds = opt_double(r[11]);
  s.sla_breaches = r[12].as<int64_t>();
  return s;
}

} // namespace hitl
