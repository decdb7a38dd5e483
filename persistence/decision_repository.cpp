#include "persistence/decision_repository.hpp"

#include "persistence/batch_writes.hpp"
#include "persistence/decision_columns.hpp"
#include "persistence/decision_sql.hpp"
#include "persistence/sql_params.hpp"
#include "policy/partition.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <unordered_map>

namespace hitl {

namespace {

approval read_approval(const pqxx::row& r) {
  return approval{r[1].as<std::string>(), from_micros(r[2].as<int64_t>()),
                  r[3].is_null() ? std::nullopt : std::optional<std::string>{r[3].as<std::string>()}, std::nullopt, std::nullopt};
}


void attach_approvals(pqxx::transaction_base& txn, decision_record& d) {
  for (const auto& r : txn.exec_prepared(sql::approvals_of.name, d.decision_id))
    d.approvals.push_back(read_approval(r));
}

} // namespace

// -- repository functions -----------------------------------------------------

void insert_decision(pqxx::transaction_base& txn, const decision_record& d) {
  insert_decisions(txn, {&d});
}

std::optional<int64_t> update_decision_state(pqxx::transaction_base& txn,
                                             const decision_record& d,
                                             int64_t expected_version) {
  auto written = update_decisions(txn, {{&d, expected_version}});
  auto it = written.find(d.decision_id);
  if (it == written.end())
    return std::nullopt;
  return it->second;
}

std::optional<decision_record> find_decision(pqxx::transaction_base& txn,
                                             const std::string& decision_id) {
  auto r = txn.exec_prepared(sql::decision_by_id.name, decision_id);
  if (r.empty())
    return std::nullopt;
  auto d = decision_fields{r}.record(r[0]);
  attach_approvals(txn, d);
  return d;
}

std::optional<decision_record>
find_decision_with_comments(pqxx::transaction_base& txn,
                            const std::string& decision_id,
                            std::vector<comment>& comments,
                            std::string& audit_trail_json) {
  auto r = txn.exec_prepared(sql::decision_view.name, decision_id);
  if (r.empty())
    return std::nullopt;
  const auto& row = r[0];
  auto d = decision_fields{r}.record(row);
  audit_trail_json = row["audit_trail_json"].as<std::string>();
  if (!row["audit_pseq"].is_null())
    d.audit_pseq = row["audit_pseq"].as<int64_t>();
  auto approvals = nlohmann::json::parse(row["approvals_json"].c_str());
  for (const auto& a : approvals) {
    approval given{
      a[0].get<std::string>(), from_micros(a[1].get<int64_t>()),
      a[2].is_null() ? std::nullopt
                     : std::optional<std::string>{a[2].get<std::string>()},
      std::nullopt, std::nullopt};
    auto& who = given.identity.emplace();
    if (!a[3].is_null())
      given.token_id = who.token_id = a[3].get<int64_t>();
    if (!a[4].is_null()) {
      who.issued_at = from_micros(a[4].get<int64_t>());
      who.issued_by = a[5].get<std::string>();
    }
    d.approvals.push_back(std::move(given));
  }
  for (const auto& c : nlohmann::json::parse(row["comments_json"].c_str()))
    comments.push_back(comment{c[0].get<int64_t>(), decision_id,
                               c[1].get<std::string>(), c[2].get<std::string>(),
                               from_micros(c[3].get<int64_t>())});
  return d;
}

std::optional<decision_record>
find_latest_decision_by_patch(pqxx::transaction_base& txn,
                              const std::string& patch_id) {
  auto r = txn.exec_prepared(sql::decision_latest_by_patch.name, patch_id);
  if (r.empty())
    return std::nullopt;
  auto d = decision_fields{r}.record(r[0]);
  attach_approvals(txn, d);
  return d;
}

// A slice at a time: libpq keeps a whole result in memory, in text, and
// for a million open decisions that was 0.9 GB on top of the records built
// from it, most of recovery's peak RSS (2.08 GB against 1.17 GB after).
namespace {

// The open decisions that `count`, `cursor` and `approvals` select, all
// three run with `args`.
template <class... Args>
std::vector<decision_record> load_open(pqxx::transaction_base& txn,
                                       const char* count, const char* cursor,
                                       const char* approvals,
                                       const Args&... args) {
  std::vector<decision_record> out;
  std::unordered_map<std::string, size_t> index;
  // Counted first (the caller's snapshot holds it), so that the vector is
  // allocated once: growing it would copy every record read so far.
  auto n = txn.exec_prepared1(count, args...)[0].template as<size_t>();
  out.reserve(n);
  index.reserve(n);
  txn.exec_prepared(cursor, args...);
  for (;;) {
    auto rows = txn.exec_prepared(sql::decisions_open_fetch.name);
    if (rows.empty())
      break;
    decision_fields fields{rows};
    for (const auto& r : rows) {
      out.push_back(fields.record(r));
      index.emplace(out.back().decision_id, out.size() - 1);
    }
  }
  txn.exec_prepared(sql::decisions_open_close.name);
  for (const auto& r : txn.exec_prepared(approvals, args...)) {
    auto it = index.find(r[0].template as<std::string>());
    if (it != index.end())
      out[it->second].approvals.push_back(read_approval(r));
  }
  return out;
}

} // namespace

std::vector<decision_record> load_open_decisions(pqxx::transaction_base& txn) {
  return load_open(txn, sql::decisions_open_count.name,
                   sql::decisions_open_cursor.name,
                   sql::approvals_of_open.name);
}

std::vector<decision_record>
load_open_decisions_in(pqxx::transaction_base& txn,
                       const std::vector<int>& partitions) {
  if (partitions.size() >= static_cast<size_t>(partition_count))
    return load_open_decisions(txn); // all of them: no hash per row
  return load_open(txn, sql::decisions_open_count_in.name,
                   sql::decisions_open_cursor_in.name,
                   sql::approvals_of_open_in.name,
                   int_array_literal(partitions, [](int p) { return p; }));
}

} // namespace hitl
