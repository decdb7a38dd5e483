#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_checkpoint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// The chains as committed, for the next checkpoint.
struct committed_chains {
  chain_heads heads;
  /// The highest seq committed (0 for none).
  int64_t max_seq = 0;
};

/// The prefix's end, every partition's head (one statement, so they agree)
/// and then the highest seq, which is at least that of every head's entry.
committed_chains read_committed_chains(pqxx::transaction_base& txn);

/// Whether this transaction is the one signer of the cluster now (a
/// transaction-scoped advisory lock): false while another holds it.
bool lock_checkpoint_signer(pqxx::transaction_base& txn);

/// Appends a signed checkpoint. The table's triggers refuse any later change.
void insert_checkpoint(pqxx::transaction_base& txn, const audit_checkpoint& c);

/// The checkpoint of the highest seq, if any.
std::optional<audit_checkpoint> last_checkpoint(pqxx::transaction_base& txn);

/// Up to `limit` checkpoints with id > after_id, in id order, with their ids.
struct stored_checkpoint {
  int64_t id = 0;
  audit_checkpoint checkpoint;
};
std::vector<stored_checkpoint> read_checkpoints(pqxx::transaction_base& txn,
                                                int64_t after_id, int limit);

} // namespace hitl
