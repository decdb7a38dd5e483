#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_checkpoint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// The chain as committed, for the next checkpoint.
struct committed_chain {
  /// The last entry's seq and hash (0 and empty for an empty chain).
  int64_t head_seq = 0;
  std::string head_hash;
  /// Entries with seq > the `after_seq` asked about.
  int64_t entries_after = 0;
};

/// One statement, so the three agree: the head, and how many entries
/// follow `after_seq` (the last checkpoint's seq, so that counting does not
/// scan the whole log each time).
committed_chain read_committed_chain(pqxx::transaction_base& txn,
                                     int64_t after_seq);

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
