#include "persistence/checkpoint_repository.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/checkpoint_sql.hpp"
#include "persistence/sql_params.hpp"

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
  if (!r[7].is_null()) {
    auto heads = parse_heads_json(r[7].c_str());
    // The owner may write anything there; a checkpoint whose heads cannot
    // be read vouches for nothing (its signature cannot verify without
    // them), so it is read as having no heads and fails as such.
    if (heads.heads)
      c.heads = std::move(heads.heads);
  }
  return s;
}

} // namespace

committed_chains read_committed_chains(pqxx::transaction_base& txn) {
  committed_chains c;
  c.heads = chain_heads::after_prefix(read_prefix_end(txn));
  for (const auto& p : read_partition_chains(txn))
    c.heads.partitions.at(static_cast<size_t>(p.partition.value)) = p.head;
  c.max_seq = txn.exec_prepared1(sql::audit_max_seq.name)[0].as<int64_t>();
  return c;
}

bool lock_checkpoint_signer(pqxx::transaction_base& txn) {
  return txn.exec_prepared1(sql::checkpoint_signer_lock.name)[0].as<bool>();
}

void insert_checkpoint(pqxx::transaction_base& txn,
                       const audit_checkpoint& c) {
  sql_params p;
  p.add(c.seq).add(c.hash).add(to_micros(c.at)).add(c.count).add(c.key_id)
    .add(c.signature);
  if (c.heads)
    p.add(heads_json(*c.heads));
  else
    p.null();
  txn.exec_prepared0(sql::checkpoint_insert.name, p.dynamic());
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
