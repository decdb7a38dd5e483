#include "persistence/analytics_repository.hpp"

#include "persistence/analytics_sql.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

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
  auto r = txn.exec_prepared1(sql::decision_summary.name, p.dynamic());
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

int64_t count_open_decisions(pqxx::transaction_base& txn) {
  return txn.exec_prepared1(sql::open_decision_count.name)[0].as<int64_t>();
}

} // namespace hitl
