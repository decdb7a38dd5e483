#include "persistence/pending_repository.hpp"

#include "persistence/decision_columns.hpp"
#include "persistence/pending_sql.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

namespace {

pending_item read_item(const pqxx::row& r, const decision_fields& f) {
  using c = decision_col;
  pending_item d;
  d.decision_id = f(r, c::decision_id).as<std::string>();
  d.patch_id = f(r, c::patch_id).as<std::string>();
  d.apv_id = f(r, c::apv_id).as<std::string>();
  if (!f(r, c::cve_id).is_null())
    d.cve_id = f(r, c::cve_id).as<std::string>();
  d.package_name = f(r, c::package_name).as<std::string>();
  d.severity =
    parse_urgency(f(r, c::severity).c_str()).value_or(urgency::medium);
  d.priority =
    parse_urgency(f(r, c::priority).c_str()).value_or(urgency::medium);
  d.status = parse_decision_status(f(r, c::decision).c_str())
               .value_or(decision_status::pending);
  // The ML and wargaming columns are null or present together (CHECKs).
  auto confidence = f(r, c::ml_confidence);
  auto prediction = f(r, c::ml_prediction);
  if (!confidence.is_null() && !prediction.is_null()) {
    d.ml_confidence = confidence.as<double>();
    d.ml_prediction = prediction.as<bool>();
  }
  if (!f(r, c::wargaming_passed).is_null())
    d.wargaming_passed = f(r, c::wargaming_passed).as<bool>();
  d.created_at = from_micros(f(r, c::created_at).as<int64_t>());
  if (!f(r, c::sla_deadline).is_null())
    d.sla_deadline = from_micros(f(r, c::sla_deadline).as<int64_t>());
  d.escalation_level = f(r, c::escalation_level).as<int>();
  d.approvals_required = f(r, c::approvals_required).as<int>();
  return d;
}

const char* statement_of(pending_sort s) {
  switch (s) {
    case pending_sort::priority:
      return sql::pending_by_priority.name;
    case pending_sort::age:
      return sql::pending_by_age.name;
    case pending_sort::deadline:
      return sql::pending_by_deadline.name;
  }
  return sql::pending_by_priority.name;
}

} // namespace

pending_cursor cursor_after(const pending_item& d, pending_sort sort) {
  switch (sort) {
    case pending_sort::priority:
      return {static_cast<int64_t>(d.priority), to_micros(d.created_at),
              d.decision_id};
    case pending_sort::age:
      return {to_micros(d.created_at), 0, d.decision_id};
    case pending_sort::deadline:
      return {d.sla_deadline ? to_micros(*d.sla_deadline) : INT64_MAX, 0,
              d.decision_id};
  }
  return {};
}

pending_page list_pending(pqxx::transaction_base& txn,
                          const pending_filter& f) {
  auto filters = [&](sql_params& p) {
    if (f.priority)
      p.add(std::string{to_string(*f.priority)});
    else
      p.null();
    if (f.severity)
      p.add(std::string{to_string(*f.severity)});
    else
      p.null();
  };
  sql_params p;
  filters(p);
  if (f.after) {
    p.add(f.after->key1);
    if (f.sort == pending_sort::priority)
      p.add(f.after->key2);
    p.add(f.after->decision_id);
  } else {
    p.null();
    if (f.sort == pending_sort::priority)
      p.null();
    p.null();
  }
  p.add(f.limit + 1); // one more tells whether a next page exists
  pending_page page;
  auto rows = txn.exec_prepared(statement_of(f.sort), p.dynamic());
  decision_fields fields{rows};
  for (const auto& r : rows) {
    if (static_cast<int>(page.items.size()) == f.limit) {
      page.next = cursor_after(page.items.back(), f.sort);
      break;
    }
    page.items.push_back(read_item(r, fields));
  }
  if (!rows.empty()) {
    page.total = rows[0]["total"].as<int64_t>();
  } else {
    // No row to carry it: past the last page, or nothing open.
    sql_params c;
    filters(c);
    page.total =
      txn.exec_prepared1(sql::pending_count.name, c.dynamic())[0].as<int64_t>();
  }
  return page;
}

} // namespace hitl
