#include "persistence/feed_repository.hpp"

#include "persistence/decision_columns.hpp"
#include "persistence/feed_sql.hpp"
#include "persistence/sql_params.hpp"
#include "policy/partition.hpp"

#include <pqxx/pqxx>

#include <unordered_map>
#include <unordered_set>

namespace hitl {

feed_page read_feed(pqxx::transaction_base& txn, const feed_request& r,
                    size_t limit) {
  feed_page page;
  page.heads.assign(partition_count, 0);
  for (const auto& row : txn.exec_prepared(sql::feed_heads.name)) {
    auto p = row[0].as<int>();
    if (p >= 0 && p < partition_count)
      page.heads[static_cast<size_t>(p)] = row[1].as<int64_t>();
  }
  std::vector<int> partitions;
  std::vector<int64_t> known;
  for (size_t p = 0; p < r.known.size() && p < page.heads.size(); ++p)
    if (r.known[p] >= 0 && r.known[p] < page.heads[p]) {
      partitions.push_back(static_cast<int>(p));
      known.push_back(r.known[p]);
    }
  if (partitions.empty())
    return page;
  auto rows = txn.exec_prepared(
    sql::feed_entries.name, int_array_literal(partitions, [](int p) { return p; }),
    int_array_literal(known, [](int64_t k) { return k; }),
    static_cast<int64_t>(limit + 1));
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (const auto& row : rows) {
    if (page.entries.size() == limit) {
      page.more = true;
      break;
    }
    feed_entry e;
    e.partition = row[0].as<int>();
    e.pseq = row[1].as<int64_t>();
    // An action this build does not know publishes nothing (verify reports
    // an altered entry); its place is still passed.
    e.action =
      parse_audit_action(row[2].c_str()).value_or(audit_action::token_created);
    if (!row[3].is_null())
      e.decision_id = row[3].as<std::string>();
    e.performed_by = row[4].as<std::string>();
    e.at = from_micros(row[5].as<int64_t>());
    if (!row[6].is_null())
      e.added_comment = comment{row[6].as<int64_t>(), e.decision_id,
                                e.performed_by, row[7].as<std::string>(),
                                from_micros(row[8].as<int64_t>())};
    if (!row[9].is_null())
      e.level = row[9].as<int>();
    if (!e.decision_id.empty() && seen.insert(e.decision_id).second)
      ids.push_back(e.decision_id);
    page.entries.push_back(std::move(e));
  }
  if (ids.empty() || !r.records)
    return page;
  auto id_list = text_array_literal(ids);
  auto decisions = txn.exec_prepared(sql::feed_decisions.name, id_list);
  decision_fields fields{decisions};
  std::unordered_map<std::string, size_t> index;
  page.records.reserve(decisions.size());
  for (const auto& row : decisions) {
    page.records.push_back(fields.record(row));
    index.emplace(page.records.back().decision_id, page.records.size() - 1);
  }
  for (const auto& row : txn.exec_prepared(sql::feed_approvals.name, id_list)) {
    auto it = index.find(row[0].as<std::string>());
    if (it == index.end())
      continue;
    page.records[it->second].approvals.push_back(
      approval{row[1].as<std::string>(), from_micros(row[2].as<int64_t>()),
               row[3].is_null()
                 ? std::nullopt
                 : std::optional<std::string>{row[3].as<std::string>()},
               std::nullopt, std::nullopt});
  }
  return page;
}

} // namespace hitl
