#include "persistence/checkpoint_repository.hpp"

#include "persistence/checkpoint_sql.hpp"

#include <pqxx/pqxx>

namespace hitl {

namespace {

// The columns of sql::checkpoint_columns, in their order.
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

committed_chain read_committed_chain(pqxx::transaction_base& txn,
                                     int64_t after_seq) {
  auto r = txn.exec_prepared1(sql::chain_committed.name, after_seq);
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
  txn.exec_prepared0(sql::checkpoint_insert.name, c.seq, c.hash,
                     to_micros(c.at), c.count, c.key_id, c.signature);
}

std::optional<audit_checkpoint> last_checkpoint(pqxx::transaction_base& txn) {
  auto r = txn.exec_prepared(sql::checkpoint_last.name);
  if (r.empty())
    return std::nullopt;
  return read_row(r[0]).checkpoint;
}

std::vector<stored_checkpoint> read_checkpoints(pqxx::transaction_base& txn,
                                                int64_t after_id, int limit) {
  std::vector<stored_checkpoint> out;
  for (const auto& r :
       txn.exec_prepared(sql::checkpoint_scan.name, after_id, limit))
    out.push_back(read_row(r));
  return out;
}

} // namespace hitl
