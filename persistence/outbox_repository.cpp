#include "persistence/outbox_repository.hpp"

#include "persistence/outbox_sql.hpp"
#include "persistence/sql_params.hpp"

#include <pqxx/pqxx>

#include <algorithm>

namespace hitl {

namespace {

// The columns of sql::outbox_columns, in their order.
outbox_message read_message(const pqxx::row& r) {
  outbox_message m;
  m.id = r[0].as<int64_t>();
  m.delivery_id = r[1].as<std::string>();
  m.event = r[2].as<std::string>();
  // NULL for an event of no decision (audit.checkpoint).
  if (!r[3].is_null())
    m.decision_id = r[3].as<std::string>();
  m.target_url = r[4].as<std::string>();
  m.payload_json = r[5].as<std::string>();
  m.state = parse_outbox_state(r[6].c_str()).value_or(outbox_state::pending);
  m.attempts = r[7].as<int>();
  m.next_attempt_at = from_micros(r[8].as<int64_t>());
  if (!r[9].is_null())
    m.last_error = r[9].as<std::string>();
  m.created_at = from_micros(r[10].as<int64_t>());
  return m;
}

std::vector<outbox_message> read_messages(const pqxx::result& rows) {
  std::vector<outbox_message> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back(read_message(r));
  return out;
}

} // namespace

std::string_view to_string(outbox_state s) {
  switch (s) {
    case outbox_state::pending:
      return "pending";
    case outbox_state::delivered:
      return "delivered";
    case outbox_state::dead:
      return "dead";
  }
  return "pending";
}

std::optional<outbox_state> parse_outbox_state(std::string_view s) {
  for (auto st :
       {outbox_state::pending, outbox_state::delivered, outbox_state::dead})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

int64_t enqueue_outbox(pqxx::transaction_base& txn, const std::string& event,
                       const std::string& decision_id,
                       const std::string& target_url,
                       const std::string& payload_json) {
  return txn
    .exec_prepared1(sql::outbox_insert.name, event, decision_id, target_url,
                    payload_json)[0]
    .as<int64_t>();
}

std::vector<outbox_message> claim_due_outbox(pqxx::transaction_base& txn,
                                             const std::string& target_url,
                                             int limit, duration lease,
                                             const std::string& node_id) {
  auto rows = read_messages(txn.exec_prepared(
    sql::outbox_claim.name, limit, lease.count(), node_id, target_url));
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return rows;
}

int64_t bury_orphaned_outbox(pqxx::transaction_base& txn,
                             const std::vector<std::string>& target_urls,
                             int limit) {
  return txn
    .exec_prepared(sql::outbox_orphans_dead.name, text_array_literal(target_urls),
                   limit)
    .affected_rows();
}

int64_t release_outbox_claims(pqxx::transaction_base& txn,
                              const std::string& own_node_id) {
  return txn
    .exec_prepared(sql::outbox_release.name, own_node_id)
    .affected_rows();
}

void mark_outbox_delivered(pqxx::transaction_base& txn, int64_t id) {
  txn.exec_prepared(sql::outbox_delivered.name, id);
}

void mark_outbox_retry(pqxx::transaction_base& txn, int64_t id,
                       duration delay, const std::string& error) {
  txn.exec_prepared(sql::outbox_retry_later.name, id, delay.count(), error);
}

void mark_outbox_dead(pqxx::transaction_base& txn, int64_t id,
                      const std::string& error) {
  txn.exec_prepared(sql::outbox_dead.name, id, error);
}

std::vector<outbox_message> list_outbox(pqxx::transaction_base& txn,
                                        std::optional<outbox_state> state,
                                        int limit) {
  if (state)
    return read_messages(txn.exec_prepared(
      sql::outbox_list.name, std::string{to_string(*state)}, limit));
  return read_messages(
    txn.exec_prepared(sql::outbox_list.name, nullptr, limit));
}

bool retry_outbox(pqxx::transaction_base& txn, int64_t id) {
  return txn.exec_prepared(sql::outbox_requeue.name, id).affected_rows() > 0;
}

} // namespace hitl
