#include "persistence/checkpoint_repository.hpp"

#include <pqxx/pqxx>

namespace hitl {

namespace {

constexpr const char* checkpoint_columns = R"(
  id, seq, hash, hitl_micros(signed_at), entry_count, key_id, signature)";

stored_checkpoint read_row(const pqxx::row& r) {
  stored_checkpoint s;
  s.id = r[0].as<int64_t>();
  auto& c = s.checkpoint;
  c.seq = r[1].as<int64_t>();
  c.hash = r[2].as<std::string>();
  c.at = from_micros(r[3].as<int64_t>());
  c.count = r[4].as<int64_t>();
  c.key_id = r[5].as<std::string>();
  c.signature = r[6].as<std::string>();
  return s;
}

} // namespace

void prepare_checkpoint_statements(pqxx::connection_base& conn) {
  conn.prepare("chain_committed", R"(
    SELECT h.seq, h.hash,
           (SELECT count(*) FROM hitl_audit_logs WHERE seq > $1)
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT seq, hash FROM hitl_audit_logs
                       ORDER BY seq DESC LIMIT 1) h ON true)");
  conn.prepare("checkpoint_insert", R"(
    INSERT INTO hitl_audit_checkpoints
      (seq, hash, signed_at, entry_count, key_id, signature)
    VALUES ($1, $2, hitl_from_micros($3), $4, $5, $6))");
  conn.prepare("checkpoint_last", std::string{"SELECT "} + checkpoint_columns
                                    + " FROM hitl_audit_checkpoints"
                                      " ORDER BY seq DESC, id DESC LIMIT 1");
  conn.prepare("checkpoint_scan", std::string{"SELECT "} + checkpoint_columns
                                    + " FROM hitl_audit_checkpoints"
                                      " WHERE id > $1 ORDER BY id LIMIT $2");
}

committed_chain read_committed_chain(pqxx::transaction_base& txn,
                                     int64_t after_seq) {
  auto r = txn.exec_prepared1("chain_committed", after_seq);
  committed_chain c;
  if (!r[0].is_null()) {
    c.head_seq = r[0].as<int64_t>();
    c.head_hash = r[1].as<std::string>();
  }
  c.entries_after = r[2].as<int64_t>();
  return c;
}

void insert_checkpoint(pqxx::transaction_base& txn,
                       const audit_checkpoint& c) {
  txn.exec_prepared0("checkpoint_insert", c.seq, c.hash, to_micros(c.at),
                     c.count, c.key_id, c.signature);
}

std::optional<audit_checkpoint> last_checkpoint(pqxx::transaction_base& txn) {
  auto r = txn.exec_prepared("checkpoint_last");
  if (r.empty())
    return std::nullopt;
  return read_row(r[0]).checkpoint;
}

std::vector<stored_checkpoint> read_checkpoints(pqxx::transaction_base& txn,
                                                int64_t after_id, int limit) {
  std::vector<stored_checkpoint> out;
  for (const auto& r : txn.exec_prepared("checkpoint_scan", after_id, limit))
    out.push_back(read_row(r));
  return out;
}

} // namespace hitl
