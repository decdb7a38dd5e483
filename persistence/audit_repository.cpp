#include "persistence/audit_repository.hpp"

#include "persistence/audit_sql.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

namespace hitl {

namespace {

// The columns of sql::audit_columns, in their order.
audit_entry read_entry(const pqxx::row& r) {
  audit_entry e;
  e.seq = r[0].as<int64_t>();
  if (!r[1].is_null())
    e.decision_id = r[1].as<std::string>();
  // An unknown action can only come from tampering; verify reports it as an
  // altered entry because its hash cannot match.
  e.action = parse_audit_action(r[2].c_str()).value_or(audit_action::created);
  e.performed_by = r[3].as<std::string>();
  e.at = from_micros(r[4].as<int64_t>());
  e.details_json = r[5].as<std::string>();
  if (!r[6].is_null())
    e.ip_address = r[6].as<std::string>();
  if (!r[7].is_null())
    e.user_agent = r[7].as<std::string>();
  e.prev_hash = r[8].as<std::string>();
  e.hash = r[9].as<std::string>();
  if (!r[10].is_null())
    e.link = chain_link{partition_id{r[10].as<int>()}, r[11].as<int64_t>(),
                        r[12].as<int64_t>()};
  return e;
}

std::vector<audit_entry> read_entries(const pqxx::result& rows) {
  std::vector<audit_entry> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back(read_entry(r));
  return out;
}

} // namespace

std::vector<partition_chain>
read_partition_chains(pqxx::transaction_base& txn) {
  std::vector<partition_chain> out;
  out.reserve(partition_count);
  for (const auto& r : txn.exec_prepared(sql::audit_partition_chains.name))
    out.push_back({partition_id{r[0].as<int>()}, r[1].as<int64_t>(),
                   chain_head{r[2].as<int64_t>(), r[3].as<std::string>()}});
  return out;
}

partition_chain lock_partition_chain(pqxx::transaction_base& txn,
                                     partition_id p) {
  auto r = txn.exec_prepared1(sql::audit_partition_chain_lock.name, p.value);
  return {p, r[0].as<int64_t>(),
          chain_head{r[1].as<int64_t>(), r[2].as<std::string>()}};
}

chain_head read_prefix_end(pqxx::transaction_base& txn) {
  auto r = txn.exec_prepared(sql::audit_prefix.name);
  if (r.empty())
    return {};
  return chain_head{r[0][0].as<int64_t>(), r[0][1].as<std::string>()};
}

std::vector<audit_entry> read_audit_entries(pqxx::transaction_base& txn,
                                            int64_t after_seq, int limit) {
  return read_entries(
    txn.exec_prepared(sql::audit_scan.name, after_seq, limit));
}

std::vector<audit_entry> query_audit(pqxx::transaction_base& txn,
                                     const audit_filter& f) {
  sql_params p;
  p.add(f.after_seq).add(f.decision_id);
  if (f.action)
    p.add(std::string{to_string(*f.action)});
  else
    p.null();
  p.add(f.performed_by);
  if (f.since)
    p.add(to_micros(*f.since));
  else
    p.null();
  if (f.until)
    p.add(to_micros(*f.until));
  else
    p.null();
  p.add(f.limit + 1);
  return read_entries(txn.exec_prepared(sql::audit_query.name, p.dynamic()));
}

} // namespace hitl
