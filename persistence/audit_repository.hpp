#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_chain.hpp"
#include "policy/audit_filter.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// A partition's chain as its row has it: where its next entry attaches,
/// and the epoch it is held at.
struct partition_chain {
  partition_id partition;
  int64_t epoch = 0;
  chain_head head;
};

/// Every partition's chain, in partition order.
std::vector<partition_chain> read_partition_chains(pqxx::transaction_base& txn);

/// Partition `p`'s chain, its row locked until the transaction ends, so
/// that nobody else appends to it meanwhile.
partition_chain lock_partition_chain(pqxx::transaction_base& txn,
                                     partition_id p);

/// Where the common prefix ends (the genesis head for none).
chain_head read_prefix_end(pqxx::transaction_base& txn);

/// Up to `limit` entries with seq > after_seq, in seq order (for verify).
std::vector<audit_entry> read_audit_entries(pqxx::transaction_base& txn,
                                            int64_t after_seq, int limit);

/// Entries matching `f` in seq order, at most f.limit + 1 (the extra one
/// tells the caller that another page follows).
std::vector<audit_entry> query_audit(pqxx::transaction_base& txn,
                                     const audit_filter& f);

} // namespace hitl
