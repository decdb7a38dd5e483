#pragma once

// Set-based writes for the auditor's group commit: one statement per table
// per batch, whatever the batch size, or all of them as one statement
// (write_batch), so that a batch costs one round trip instead of several per
// change. Rows travel as one JSON array per table, read with
// json_to_recordset (json, not jsonb: parsing the text once is cheaper than
// building a jsonb value only to take it apart).

#include "persistence/fwd.hpp"
#include "persistence/sql_statement.hpp"
#include "policy/audit_chain.hpp"
#include "policy/decision.hpp"
#include "policy/partition.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hitl {

/// Inserts new decisions. Throws db_error{conflict} when any id exists or a
/// patch already has an open decision (the whole statement fails).
void insert_decisions(pqxx::transaction_base& txn,
                      const std::vector<const decision_record*>& rows);

struct decision_update {
  const decision_record* after;
  int64_t expected_version;
};

/// Writes the mutable fields of each decision whose stored version still is
/// the expected one; returns decision_id -> new version for those written.
/// The others changed meanwhile and are left alone.
std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows);

struct new_approval {
  const std::string* decision_id;
  const approval* given;
};

struct outbox_row {
  std::string event;
  std::string decision_id;
  std::string target_url;
  std::string payload_json;
};

/// A partition that a batch writes to: the epoch it is written under, and
/// its chain's head before the batch and after it (the same when the batch
/// appends no entry to it). The batch writes nothing unless each chain still
/// ends at `before` and, for a cluster member, the node still holds the
/// partition at that epoch (hitl_advance_chains).
struct chain_advance {
  partition_id partition;
  int64_t epoch = 0;
  chain_head before;
  chain_head after;
};

/// Every row a batch writes, for write_batch.
struct batch_rows {
  std::vector<const decision_record*> inserts;
  std::vector<decision_update> updates;
  std::vector<new_approval> approvals;
  std::vector<audit_entry> entries;
  std::vector<outbox_row> outbox;
  /// Every partition written to, each once.
  std::vector<chain_advance> chains;
  /// The node whose leases fence the batch; none: a writer that is no
  /// cluster member (tests, tools), checked against the chains only.
  std::optional<std::string> fence_node;
};

/// Writes all of `rows` in one statement: run it in autocommit and it is one
/// round trip and one transaction. Returns decision_id -> new version of the
/// updates; std::nullopt, with nothing written, when any update found its
/// decision at another version than expected (the audit entries were sealed
/// for a write that did not happen). Throws what the separate statements
/// above throw; a reviewer approving twice is a conflict too;
/// partition_fenced when the fence refused it; chain_moved when a chain
/// did not end where the batch was sealed.
std::optional<std::unordered_map<std::string, int64_t>>
write_batch(pqxx::transaction_base& txn, const batch_rows& rows);

/// The statements above, for every pool connection to prepare.
const std::vector<prepared_sql>& batch_statements();

// -- for the pipelined writer ---------------------------------------------------

/// Which kinds of rows a batch has, one bit per kind (batch_writes.cpp
/// lists the kinds); a batch with all of them is batch_parts_all.
using batch_parts = unsigned;
extern const batch_parts batch_parts_all;

/// The batch statement for the kinds of rows in `parts`: a row array
/// parameter per kind (those of kinds not in `parts` are in the list but not
/// read, so their types must be given), then the number of updates, the
/// fencing node (NULL for none), and the chains: partitions, epochs, heads
/// before (pseqs, hashes) and after (NULL without chains).
struct batch_statement {
  std::string name; // batch_write_<parts>
  std::string text;
  std::vector<unsigned> param_types; // OIDs, one per parameter
};
batch_statement batch_statement_for(batch_parts parts);

/// A batch's statement and parameter values.
struct batch_call {
  batch_parts parts = 0; // the kinds of rows that the batch has
  std::vector<std::optional<std::string>> values; // std::nullopt is NULL

  /// The values as libpq takes them, null pointers for NULL; valid while
  /// this call is.
  std::vector<const char*> pointers() const;
};
batch_call batch_call_for(const batch_rows& rows);

/// The statement's second column: decision_id -> new version of the updates.
std::unordered_map<std::string, int64_t>
parse_written_versions(const char* json_text);

} // namespace hitl
